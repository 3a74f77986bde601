"""Where fakeapollo's schemas and fixtures live, and validation of documents against them.

This is the only module that knows the on-disk layout: an installed wheel carries the data at
`mock_server/_data/{schemas,fixtures}`, a checkout at `<repo>/{schemas,fixtures}`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_server.domain.files import is_regular_file, read_json

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

__all__ = [
    "SchemaViolation",
    "UnknownSchema",
    "bundled_schema",
    "definition_names",
    "fixtures_dir",
    "load_fixture_persons",
    "load_served_persons",
    "load_key_registry",
    "load_schema",
    "schema_names",
    "schemas_dir",
    "strict_schema",
    "validate",
    "violations",
]

# mock_server/, two levels up: an installed wheel keeps the data folders in mock_server/_data.
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_DEFINITIONS = "definitions"
_DEFINITIONS_REF = "definitions.json#/definitions/"
_LOCAL_REF = "#/definitions/"
#: Keywords whose values are data, not subschemas.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "required"})


class SchemaViolation(ValueError):
    """A document does not conform to a schema; `violations` lists (JSON path, message) pairs."""

    def __init__(
        self, schema: str, violations: list[tuple[str, str]], *, source: str | None = None
    ) -> None:
        self.schema = schema
        self.violations = violations
        self.source = source
        subject = f"{source} " if source else ""
        lines = [f"{subject}does not conform to {schema} ({len(violations)} violation(s)):"]
        lines += [f"  {path}: {message}" for path, message in violations]
        super().__init__("\n".join(lines))


class UnknownSchema(LookupError):
    """No schema file or shared definition has the requested name."""


def _data_dir(kind: str) -> Path:
    """`kind` ("schemas" or "fixtures") inside an installed wheel, else in the checkout."""
    packaged = _PACKAGE_DIR / "_data" / kind
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / kind


def schemas_dir() -> Path:
    """The folder holding the JSON Schema documents."""
    return _data_dir("schemas")


def fixtures_dir() -> Path:
    """The folder holding the default fixtures (persons/ and keys.json)."""
    return _data_dir("fixtures")


def _stem(name: str) -> str:
    """A schema name without a trailing `.json`."""
    return name[: -len(".json")] if name.endswith(".json") else name


@functools.cache
def _files() -> dict[str, Any]:
    """Every schema file, parsed once, by stem."""
    documents: dict[str, Any] = {}
    for path in sorted(schemas_dir().glob("*.json")):
        documents[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return documents


def schema_names() -> list[str]:
    """The message schemas (every file in schemas/ except the shared definitions)."""
    return [name for name in _files() if name != _DEFINITIONS]


def definition_names() -> list[str]:
    """The shared definitions (person, organization, ...) that can also be validated against."""
    return sorted(_files()[_DEFINITIONS]["definitions"])


def _raw(name: str) -> dict[str, Any]:
    """The cached document for a file stem or, for a shared definition, a `$ref` to it."""
    stem = _stem(name)
    files = _files()
    if stem in files:
        document: dict[str, Any] = files[stem]
        return document
    if stem in files[_DEFINITIONS]["definitions"]:
        base = files[_DEFINITIONS]["$id"]
        return {"$schema": files[_DEFINITIONS]["$schema"], "$ref": f"{base}#/definitions/{stem}"}
    known = ", ".join(schema_names() + definition_names())
    raise UnknownSchema(f"no schema named {name!r}; known: {known}")


def load_schema(name: str) -> dict[str, Any]:
    """The schema document `name` ("people_match.response", with or without ".json")."""
    return copy.deepcopy(_raw(name))


def _strictify(node: Any) -> Any:
    """A copy in which every object schema listing `properties` forbids any other key."""
    if isinstance(node, list):
        return [_strictify(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: (value if key in _DATA_KEYWORDS else _strictify(value)) for key, value in node.items()
    }
    types = node.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    if is_object and "properties" in node and not isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = False
    return out


def strict_schema(name: str) -> dict[str, Any]:
    """`name` with `additionalProperties: false` on every object that documents its keys."""
    strict: dict[str, Any] = _strictify(_raw(name))
    return strict


def _base() -> str:
    """The URI folder of the schema files' `$id`s."""
    base: str = _files()[_DEFINITIONS]["$id"].rsplit("/", 1)[0] + "/"
    return base


def _referenced_definitions(node: Any) -> Iterator[str]:
    """Names of shared definitions that `node` refers to directly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            ref = ref.removeprefix(_base())
            for prefix in (_DEFINITIONS_REF, _LOCAL_REF):
                if ref.startswith(prefix):
                    yield ref[len(prefix) :]
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _referenced_definitions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _referenced_definitions(item)


def _localise_refs(node: Any, base: str) -> Any:
    """A copy with every reference to definitions.json turned into a local `#/definitions/...`."""
    if isinstance(node, list):
        return [_localise_refs(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            if value.startswith(base):
                value = value[len(base) :]
            if value.startswith(_DEFINITIONS_REF):
                value = "#" + value[len("definitions.json#") :]
            if not value.startswith(_LOCAL_REF):
                raise ValueError(f"cannot bundle reference {value!r}")
            out[key] = value
        elif key in _DATA_KEYWORDS:
            out[key] = value
        else:
            out[key] = _localise_refs(value, base)
    return out


def bundled_schema(name: str, *, strict: bool = False) -> dict[str, Any]:
    """`name` as one self-contained draft-07 document: every reference points into `definitions`.

    This is the form generators such as hypothesis-jsonschema need (local refs only).
    """
    definitions: dict[str, Any] = _files()[_DEFINITIONS]["definitions"]
    base = _base()
    root = {key: value for key, value in _raw(name).items() if key not in ("$id", "definitions")}
    needed: set[str] = set()
    pending = list(_referenced_definitions(root))
    while pending:
        current = pending.pop()
        if current not in needed:
            needed.add(current)
            pending.extend(_referenced_definitions(definitions[current]))
    bundled: dict[str, Any] = _localise_refs(root, base)
    if needed:
        bundled["definitions"] = {
            key: _localise_refs(definitions[key], base) for key in sorted(needed)
        }
    if strict:
        bundled = _strictify(bundled)
    return copy.deepcopy(bundled)


@functools.cache
def _registry(strict: bool) -> Registry[Any]:
    """Every schema file as a referencing resource, so cross-file refs resolve offline."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for document in _files().values():
        contents = _strictify(document) if strict else document
        resources.append(
            (document["$id"], Resource.from_contents(contents, default_specification=DRAFT7))
        )
    return Registry().with_resources(resources)


@functools.cache
def _validator(stem: str, strict: bool) -> Draft7Validator:
    """A compiled validator for one schema, built once."""
    from jsonschema import Draft7Validator

    schema = _strictify(_raw(stem)) if strict else _raw(stem)
    return Draft7Validator(schema, registry=_registry(strict))


def _short(instance: Any) -> str:
    """A compact rendering of `instance` for messages about whole objects."""
    text = json.dumps(instance, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _branch_is_unrelated(errors: list[ValidationError]) -> bool:
    """True when a branch failed because the instance is not even of the branch's type."""
    return any(error.validator == "type" and not error.relative_path for error in errors)


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors worth reporting for `error`: for anyOf/oneOf, those of the closest branch."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        candidates = [errs for errs in branches.values() if not _branch_is_unrelated(errs)]
        if candidates:
            fewest = min(len(errs) for errs in candidates)
            closest = [errs for errs in candidates if len(errs) == fewest]
            if len(closest) == 1:
                for sub in closest[0]:
                    yield from _leaves(sub)
                return
    yield error


def _message(error: ValidationError) -> str:
    """The human-readable text of one violation."""
    if error.validator in ("anyOf", "oneOf"):
        return f"{_short(error.instance)} is not valid under any of the given schemas"
    if len(error.message) > 200:
        return error.message[:197] + "..."
    return error.message


def violations(name: str, document: Any, *, strict: bool = False) -> list[tuple[str, str]]:
    """Every (JSON path, message) violation of `document` against schema `name`."""
    validator = _validator(_stem(name), strict)
    found = {
        (leaf.json_path, _message(leaf))
        for error in validator.iter_errors(document)
        for leaf in _leaves(error)
    }
    return sorted(found)


def validate(name: str, document: Any, *, strict: bool = False) -> None:
    """Raise `SchemaViolation` listing every violation of `document` against schema `name`.

    With `strict=True` keys the schema does not document are violations too; fakeapollo's own
    output is checked this way.
    """
    stem = _stem(name)
    problems = violations(stem, document, strict=strict)
    if problems:
        raise SchemaViolation(stem, problems)


def _check_unique(entries: Iterable[tuple[str | None, str]], what: str) -> None:
    """Raise ValueError when two sources share one non-null value."""
    seen: dict[str, str] = {}
    for value, source in entries:
        if value is None:
            continue
        if value in seen:
            raise ValueError(f"{source}: {what} {value!r} already used by {seen[value]}")
        seen[value] = source


@functools.cache
def _persons(
    directory: Path, signature: tuple[tuple[str, int, int], ...], checked: bool
) -> list[dict[str, Any]]:
    """Persons of `directory`, validated when `checked`; `signature` (names, mtimes, sizes) keys the cache."""
    persons: list[dict[str, Any]] = []
    sources: list[str] = []
    for name, _mtime, _size in signature:
        path = directory / name
        person = read_json(path)
        problems = violations("person", person) if checked else []
        if problems:
            raise SchemaViolation("person", problems, source=str(path))
        persons.append(person)
        sources.append(str(path))
    _check_unique(((p["id"], s) for p, s in zip(persons, sources, strict=True)), "id")
    emails = (
        (p["email"].lower() if isinstance(p.get("email"), str) else None, s)
        for p, s in zip(persons, sources, strict=True)
    )
    _check_unique(emails, "email")
    return persons


def load_fixture_persons(directory: Path | None = None) -> list[dict[str, Any]]:
    """All person fixtures (fixtures/persons, or `directory`), sorted by file name, validated.

    The shipped ones are validated by tests/test_fixtures.py rather than at every start: loading the
    schema validator (jsonschema) was about a third of `serve`'s start-up (bench/README.md).
    """
    folder = (directory if directory is not None else fixtures_dir() / "persons").resolve()
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder of person fixtures")
    files = sorted(folder.glob("*.json"), key=lambda path: path.name)
    signature = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return copy.deepcopy(_persons(folder, signature, directory is not None))


def load_served_persons(directory: Path | None, *, bundled: bool = True) -> list[dict[str, Any]]:
    """The persons a server answers with: `directory`'s, then the bundled ones unless `bundled` is off.

    A bundled person sharing an id or email with one of `directory`'s is left out: the user's wins.
    """
    own = load_fixture_persons(directory) if directory is not None else []
    if not bundled:
        return own
    taken = {str(p["id"]).lower() for p in own} | {
        p["email"].lower() for p in own if isinstance(p.get("email"), str)
    }
    extra = [
        p
        for p in load_fixture_persons()
        if str(p["id"]).lower() not in taken
        and not (isinstance(p.get("email"), str) and p["email"].lower() in taken)
    ]
    return own + extra


def load_replay_key(fixtures: Path | None, key_file: Path | None) -> bytes | None:
    """The key that lets a scrubbed recording's persons answer their original inputs (replay.py).

    `key_file` when given; else the recording's own DIR/scrub.key when `fixtures` is its
    DIR/persons; else None. ValueError naming a file that holds no key.
    """
    from mock_server.domain.replay import KEY_FILE, read_key

    if key_file is not None:
        return read_key(key_file)
    beside = fixtures.resolve().parent / KEY_FILE if fixtures is not None else None
    return read_key(beside) if beside is not None and is_regular_file(beside) else None


def load_key_registry(path: Path | None = None) -> dict[str, Any]:
    """The key registry (fixtures/keys.json, or `path`), validated against key_registry.json.

    The shipped registry is validated by tests/test_fixtures.py, not at every start (as persons).
    """
    source = path if path is not None else fixtures_dir() / "keys.json"
    document = read_json(source)
    problems = violations("key_registry", document) if path is not None else []
    if not problems:
        seen: dict[str, int] = {}
        for index, entry in enumerate(document["keys"]):
            if entry["key"] in seen:
                problems.append(
                    (f"$.keys[{index}].key", f"duplicate of $.keys[{seen[entry['key']]}].key")
                )
            seen.setdefault(entry["key"], index)
    if problems:
        raise SchemaViolation("key_registry", problems, source=str(source))
    registry: dict[str, Any] = document
    return registry
