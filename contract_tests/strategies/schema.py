"""The schema walker: a Hypothesis strategy for any node of fakeapollo's bundled schemas.

The shared definitions (person, organization, phone numbers, webhook payloads, ...) are walked
key by key: required keys are always present, optional keys sometimes, nullable values are
sometimes `None`, arrays may be empty, and strings get realistic values when the field has a
meaning (`values.py`). A change to `schemas/` flows into every strategy built on it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from hypothesis import strategies as st

from contract_tests.strategies.values import (
    DEFINITION_STRATEGIES,
    FREE_TEXT,
    LONGEST_TEXT,
    ODD_STRINGS,
    WORDS,
    named_string,
    weird_strings,
)
from mock_server.domain.data import bundled_schema

Style = Literal["complete", "partial", "bare", "longest"]

#: Every strategy draws its person-like objects from this bundle of shared definitions.
_BUNDLE_ROOT = "people_match.response"
MAX_ARRAY = 2
#: The caller's own CRM records on a person: present only for people already in the caller's CRM,
#: so even `complete` persons carry them as null about half of the time.
CRM_RECORDS = frozenset({"contact", "account"})


@functools.cache
def _definitions() -> dict[str, Any]:
    """The shared definitions, as one bundle with local references."""
    bundle = bundled_schema(_BUNDLE_ROOT)
    definitions: dict[str, Any] = dict(bundle.get("definitions", {}))
    for name in (
        "webhook_phone.payload",
        "webhook_waterfall.payload",
        "people_bulk_match.response",
        "people_bulk_match.request",
    ):
        definitions.update(bundled_schema(name).get("definitions", {}))
    return definitions


def definition(name: str) -> dict[str, Any]:
    """One shared definition (person, organization, ...), references left local."""
    schema: dict[str, Any] = _definitions()[name]
    return schema


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _nullable_parts(schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The non-null part of `schema` and whether null is allowed."""
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        rest = [s for s in any_of if s != {"type": "null"}]
        if len(rest) == 1 and len(rest) != len(any_of):
            return rest[0], True
    types = schema.get("type")
    if isinstance(types, list) and "null" in types:
        remaining = [t for t in types if t != "null"]
        stripped = dict(schema)
        stripped["type"] = remaining[0] if len(remaining) == 1 else remaining
        return stripped, True
    return schema, False


def _extra_keys(known: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Unknown keys Apollo may add any day."""
    keys = st.sampled_from(["x_new_field", "beta_flag", "intent_signal", "ünicode_key", "meta"]).filter(
        lambda k: k not in known
    )
    values: st.SearchStrategy[Any] = st.one_of(
        st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(ODD_STRINGS), st.just({})
    )
    return st.dictionaries(keys, values, max_size=2)


def _merge(base: st.SearchStrategy[dict[str, Any]], extra: st.SearchStrategy[dict[str, Any]]) -> Any:
    return st.builds(lambda a, b: {**b, **a}, base, extra)


def from_schema(
    schema: Mapping[str, Any], style: Style = "complete", *, name: str = "", depth: int = 0
) -> st.SearchStrategy[Any]:
    """A strategy for documents valid against `schema` (a node of the definitions bundle)."""
    if style == "longest" and depth > 1:  # long text at the top only: nested values stay realistic
        style = "complete"
    ref = _ref_name(schema)
    if ref is not None:
        if ref in DEFINITION_STRATEGIES:
            return DEFINITION_STRATEGIES[ref]()
        base = ref.removeprefix("nullable_")
        if base != ref and base in DEFINITION_STRATEGIES:
            return _nullable(DEFINITION_STRATEGIES[base](), style)
        return from_schema(definition(ref), style, name=name or ref, depth=depth)
    core, nullable = _nullable_parts(schema)
    if nullable:
        return _nullable(from_schema(core, style, name=name, depth=depth), style)
    if "allOf" in core:
        parts = core["allOf"]
        if len(parts) != 1:
            raise ValueError(f"cannot walk allOf with {len(parts)} parts at {name!r}")
        return from_schema(parts[0], style, name=name, depth=depth)
    if "anyOf" in core:
        return st.one_of([from_schema(s, style, name=name, depth=depth) for s in core["anyOf"]])
    if "const" in core:
        return st.just(core["const"])
    if "enum" in core:
        return st.sampled_from(core["enum"])
    kind = core.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**core, "type": k}, style, name=name, depth=depth) for k in kind])
    if kind == "object":
        return _object(core, style, name, depth)
    if kind == "array":
        items = core.get("items")
        if items is None or depth > 6:
            return st.just([])
        if style == "bare":
            return st.just([])
        element = from_schema(items, style, name=name, depth=depth + 1)
        shortest = {"partial": 0, "complete": 1}.get(style, MAX_ARRAY)
        unique = bool(core.get("uniqueItems"))
        return st.lists(
            element, min_size=shortest, max_size=MAX_ARRAY, unique_by=_json_key if unique else None
        )
    if kind == "string":
        return _string(core, style, name)
    if kind == "integer":
        low = int(core.get("minimum", 0 if style == "complete" else -(10**6)))
        high = int(core.get("maximum", low + 10**6))
        return st.integers(low, high)
    if kind == "number":
        floor = float(core.get("minimum", 0.0))
        return st.one_of(
            st.integers(int(floor), int(floor) + 1000),
            st.floats(floor, floor + 1000.0, allow_nan=False, allow_infinity=False).map(
                lambda x: round(x, 2)
            ),
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    # An unconstrained node ({} or only a description): any small JSON scalar.
    return st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.sampled_from(WORDS))


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _string(schema: Mapping[str, Any], style: Style, name: str) -> st.SearchStrategy[str]:
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        if re.fullmatch(r"\^\[0-9a-f\]\{(\d+)\}\$", pattern):
            size = int(pattern.split("{")[1].split("}")[0])
            return st.text("0123456789abcdef", min_size=size, max_size=size)
        return st.from_regex(pattern, fullmatch=True)
    named = named_string(name)
    if style == "longest" and (named is None or name.lower() in FREE_TEXT):
        longest = f"{name}: {LONGEST_TEXT}"  # each field its own text, so swapped fields show
        return st.just(longest[: int(schema.get("maxLength", len(longest)))])
    realistic = named if named is not None else st.sampled_from(WORDS)
    min_size = int(schema.get("minLength", 0))
    if style == "partial":
        mixed = st.one_of(realistic, weird_strings())
        return mixed.filter(lambda s: len(s) >= min_size) if min_size else mixed
    return realistic


def _object(schema: Mapping[str, Any], style: Style, name: str, depth: int) -> st.SearchStrategy[Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if not properties:
        if isinstance(extra, dict) and depth < 6:
            keys = st.sampled_from(WORDS + ["Computer Software", "Information Technology & Services"])
            return st.dictionaries(keys, from_schema(extra, style, name=name, depth=depth + 1), max_size=2)
        return st.just({})
    required = [key for key in schema.get("required", []) if key in properties]
    optional = [key for key in properties if key not in required and properties[key] is not False]
    if depth > 6:
        optional = []

    def child(key: str) -> st.SearchStrategy[Any]:
        return from_schema(properties[key], style, name=key, depth=depth + 1)

    required_part = {key: child(key) for key in required}
    if style == "bare":
        return st.fixed_dictionaries(required_part)
    optional_part = {key: child(key) for key in optional}
    if style == "longest":
        return st.fixed_dictionaries({**required_part, **optional_part})
    if style == "complete":
        for key in CRM_RECORDS & set(optional_part):
            optional_part[key] = st.one_of(st.none(), optional_part[key])
        full = st.fixed_dictionaries({**required_part, **optional_part})
        if not optional or depth > 1:
            return full
        # Thinner real answers leave a few keys out entirely: up to three per person or
        # organization here (deeper objects stay whole: drawing fewer choices keeps cases fast).
        left_out = st.lists(st.sampled_from(optional), max_size=3)
        return st.builds(lambda d, out: {k: v for k, v in d.items() if k not in out}, full, left_out)
    base = st.fixed_dictionaries(required_part, optional=optional_part)
    if optional:
        # A partial answer always misses at least one key, not only nulls.
        base = st.builds(
            lambda d, out: {k: v for k, v in d.items() if k != out}, base, st.sampled_from(optional)
        )
    merged: st.SearchStrategy[Any] = _merge(base, _extra_keys(set(properties)))
    return merged


def _nullable(value: st.SearchStrategy[Any], style: Style) -> st.SearchStrategy[Any]:
    """A nullable value: sometimes null when partial, always null when bare."""
    if style == "bare":
        return st.none()
    return st.one_of(st.none(), value) if style == "partial" else value
