"""What `fakeapollo record` writes to its folder: person fixtures, exchanges, drift, scrub counts.

Plain Python, no HTTP: the proxy (mock_server/recording/proxy.py) hands it what went back and forth.
Nothing it writes holds the real API key: every line passes through `redact` first. The folder and
its files are readable by their owner only (files.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mock_server.domain.data import load_fixture_persons, violations
from mock_server.domain.directory import fixture_identities
from mock_server.domain.errors import ApolloError
from mock_server.domain.matching import Identity, resolve
from mock_server.domain.params import parse_query
from mock_server.domain.replay import KEY_FILE, REPLAY_FIELD
from mock_server.domain.scenarios import operation_of
from mock_server.recording.files import append_private, make_private, private_folder, write_private
from mock_server.recording.scrubbing import HASHES_FILE, Scrubber, load_key
from mock_server.web.operations import Router

PERSONS = "persons"
EXCHANGES = "exchanges.jsonl"
DRIFT = "drift.md"
SCRUBBED = "scrubbed.json"
# The schema that describes a 2xx answer of each operation.
# Which schema an answer follows: the operation table's (mock_server/web/operations.py) response.
_ROUTER = Router()
# Header families fakeapollo emulates (docs/apollo-facts.md 3.1, 3.4), plus plain HTTP ones.
KNOWN_HEADERS = re.compile(
    r"^(x-rate-limit-(minute|hourly|24-hour|daily)|x-(minute|hourly|24-hour|daily)-(usage|requests-left)"
    r"|retry-after|content-type|content-length|date|server|connection|keep-alive|vary|etag"
    r"|cache-control|transfer-encoding|content-encoding|x-transaction-id)$"
)
_INDEX = re.compile(r"\[\d+\]")


def _shape_path(path: str) -> str:
    """A JSON path with array indices folded: `$.matches[3].id` -> `$.matches[*].id`."""
    return _INDEX.sub("[*]", path)


class RecordingWriter:
    """The folder of one recording; safe to call from several threads."""

    def __init__(self, folder: Path, *, secret: str, scrub: bool) -> None:
        self.folder = folder
        self.persons_dir = folder / PERSONS
        private_folder(folder)
        private_folder(self.persons_dir)
        make_private(folder)
        self._secret = secret
        self._lock = threading.Lock()
        self.scrubber: Scrubber | None = None
        if scrub:
            hashes = folder / HASHES_FILE
            known = json.loads(hashes.read_text(encoding="utf-8")) if hashes.exists() else {}
            # A fake id is never a bundled fixture's: `serve --fixtures` serves both.
            bundled = [str(p["id"]) for p in load_fixture_persons()]
            self.scrubber = Scrubber(load_key(folder), known, reserved_ids=bundled)
            # The key reverses nothing by itself, but with it guesses can be checked: keep it out of git.
            write_private(folder / ".gitignore", f"{KEY_FILE}\n")
        self._drift: dict[str, set[str]] = {}
        self._persons_written: set[str] = set()
        self.person_problems = 0

    # -- what is written ---------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the real key replaced."""
        return text.replace(self._secret, "[redacted]") if self._secret else text

    def private(self, document: Any) -> Any:
        """`document` as it may be written: scrubbed when the recording scrubs."""
        return self.scrubber.document(document) if self.scrubber is not None else document

    def private_request(self, parameters: Any) -> Any:
        """A request's parameters as they may be written: scrubbed strictly when the recording scrubs."""
        return self.scrubber.request(parameters) if self.scrubber is not None else parameters

    def private_path(self, path: str) -> str:
        """A request path as it may be written: a person id in it (people/{id}) scrubbed."""
        if self.scrubber is None:
            return path
        head, _, last = path.rpartition("/")
        return f"{head}/{self.scrubber.document({'id': last})['id']}"

    def exchange(self, entry: Mapping[str, Any]) -> None:
        """Append one exchange (already scrubbed by the caller) as a JSON line."""
        line = self.redact(json.dumps(entry, ensure_ascii=False, default=str))
        with self._lock:
            append_private(self.folder / EXCHANGES, line + "\n")
            if self.scrubber is not None:
                write_private(self.folder / SCRUBBED, json.dumps(self.scrubber.report(), indent=2) + "\n")
                write_private(self.folder / HASHES_FILE, json.dumps(self.scrubber.hashes(), indent=0) + "\n")

    def persons(self, path: str, real: Any, written: Any, params: Mapping[str, Any]) -> list[str]:
        """Save every person of a 2xx people answer as a fixture (`written`: the answer as written).

        In a scrubbed recording each person also keeps the keyed tags of the identities that found
        it (mock_server/domain/replay.py), so `serve` with the recording's key answers them.
        """
        saved = []
        for index, (person, shown) in enumerate(
            zip(_people(path, real), _people(path, written), strict=True)
        ):
            if isinstance(shown, Mapping) and isinstance(shown.get("id"), str):
                tags = self._replay_tags(path, person, params, index) if self.scrubber is not None else []
                saved.append(self._save_person(shown, tags))
        return saved

    def _replay_tags(self, path: str, person: Any, params: Mapping[str, Any], index: int) -> list[str]:
        """The keyed tags of the request's identity for this person and of the person's own."""
        assert self.scrubber is not None
        identities = fixture_identities(person) if isinstance(person, Mapping) else []
        asked = _asked_identity(path, params, index)
        if asked is not None:
            identities.append(asked)
        return sorted({self.scrubber.tag(kind, value) for kind, value in identities})

    def phones(self, payload: Any) -> list[str]:
        """Add the numbers a phone webhook (payload already scrubbed) delivered to the saved persons.

        Fixtures keep numbers in the person schema's (legacy) shape, which `serve --fixtures` turns
        back into webhook phone objects when it delivers a reveal.
        """
        people = payload.get("people") if isinstance(payload, Mapping) else None
        updated = []
        for entry in people if isinstance(people, list) else ():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("phone_numbers"), list):
                continue
            path = self.persons_dir / f"{_file_stem(entry.get('id'))}.json"
            numbers = [_fixture_phone(p) for p in entry["phone_numbers"] if isinstance(p, Mapping)]
            if not path.exists() or not numbers:
                continue
            with self._lock:
                record = json.loads(path.read_text(encoding="utf-8"))
                record["phone_numbers"] = numbers
                write_private(path, self.redact(json.dumps(record, indent=2, ensure_ascii=False) + "\n"))
            updated.append(path.stem)
        return updated

    def _save_person(self, person: Mapping[str, Any], tags: list[str]) -> str:
        """Write one person; schema violations become drift, the file stays."""
        record = dict(person)
        person_id = _file_stem(record["id"])
        path = self.persons_dir / f"{person_id}.json"
        if path.exists():
            # A person met again keeps what only an earlier call revealed (personal e-mails).
            earlier = json.loads(path.read_text(encoding="utf-8"))
            record = {**earlier, **record}
            tags = sorted(set(tags) | set(earlier.get(REPLAY_FIELD, {}).get("tags", [])))
        if tags:
            assert self.scrubber is not None
            record[REPLAY_FIELD] = {"key_id": self.scrubber.key_id, "tags": tags}
        for json_path, message in violations(
            "person", {k: v for k, v in record.items() if k != REPLAY_FIELD}
        ):
            self.person_problems += 1
            self.drift("person fixtures do not validate", f"{person_id}.json {json_path}: {message}")
        text = self.redact(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        with self._lock:
            write_private(path, text)
            self._persons_written.add(person_id)
        return person_id

    @property
    def persons_written(self) -> int:
        """How many person files this run wrote (a person met again is one file, counted once)."""
        with self._lock:
            return len(self._persons_written)

    # -- drift -------------------------------------------------------------------------------

    def drift(self, heading: str, finding: str) -> None:
        """Note one difference from the schemas under `heading`; the report is rewritten."""
        with self._lock:
            findings = self._drift.setdefault(heading, set())
            if finding in findings:
                return
            findings.add(finding)
            lines = ["# Drift: what the upstream sent that fakeapollo's schemas do not describe", ""]
            for title in sorted(self._drift):
                lines += [f"## {title}", ""] + [f"- {item}" for item in sorted(self._drift[title])] + [""]
            write_private(self.folder / DRIFT, self.redact("\n".join(lines)))

    def check_answer(
        self, path: str, status: int, headers: Mapping[str, str], body: Any, method: str = "GET"
    ) -> None:
        """Compare one upstream answer with the schemas: types, unknown keys, errors, headers."""
        operation = operation_of(path)
        for name in headers:
            if not KNOWN_HEADERS.match(name.lower()):
                self.drift("header families", f"`{name.lower()}` (on {operation}, HTTP {status})")
        if status >= 400:
            if status < 500 and not _validates("error.response", body):
                self.drift("error bodies", f"{operation} HTTP {status}: {_short(body)}")
            return
        found = _ROUTER.find(f"/api/v1/{operation}", method)
        schema = None if found is None else found[0].response
        if schema is None:
            self.drift("operations without a schema", operation)
            return
        self.check_document(schema, operation, body)

    def check_payload(self, payload: Any) -> None:
        """Compare a webhook payload with the phone or waterfall payload schema."""
        waterfall = isinstance(payload, Mapping) and "target_fields" in payload
        schema = "webhook_waterfall.payload" if waterfall else "webhook_phone.payload"
        self.check_document(schema, "webhook", payload)

    def check_document(self, schema: str, where: str, document: Any) -> None:
        """Type drift (loose violations) and unknown keys (what only the strict schema refuses)."""
        loose = {(_shape_path(p), m) for p, m in violations(schema, document)}
        strict = {(_shape_path(p), m) for p, m in violations(schema, document, strict=True)}
        for json_path, message in sorted(loose):
            self.drift("types and values", f"{where} {json_path}: {message}")
        for json_path, message in sorted(strict - loose):
            self.drift("unknown keys", f"{where} {json_path}: {message}")


def _file_stem(person_id: Any) -> str:
    """A person id made safe as a file name; ids that are not already safe keep a hash of themselves.

    `a/b` and `a_b` would both become `a_b`: an id with any character outside `[0-9A-Za-z_-]`, or
    longer than 64, gets a digest of the whole id appended, so two ids never share a file.
    """
    text = str(person_id)
    if re.fullmatch(r"[0-9A-Za-z_-]{1,64}", text):
        return text
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", text)[:40]
    return f"{safe}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def _people(path: str, body: Any) -> list[Any]:
    """The persons of a people answer: `person` (match, people/{id}) and `matches` (bulk_match)."""
    if not isinstance(body, Mapping) or not operation_of(path).startswith("people/"):
        return []
    found = [body.get("person")]
    if isinstance(body.get("matches"), list):
        found += body["matches"]
    return found


def _asked_identity(path: str, params: Mapping[str, Any], index: int) -> tuple[str, str] | None:
    """The identity (matching.resolve) the request gave for the person at `index` of the answer.

    people/match: its parameters (at index 0); bulk_match: `details[index - 1]` (index 0 is no
    `person`); people/{id}: the id. None when the request named none the server would resolve.
    """
    operation = operation_of(path)
    source: Any = None
    if operation == "people/match":
        source = params if index == 0 else None
    elif operation == "people/bulk_match":
        details = params.get("details")
        source = details[index - 1] if isinstance(details, list) and 0 < index <= len(details) else None
    elif index == 0:
        source = {"id": operation.partition("/")[2]}
    if not isinstance(source, Mapping):
        return None
    try:
        identity: Identity | None = resolve(parse_query(source))
    except ApolloError:
        return None
    return (identity.kind, identity.value) if identity is not None else None


def _fixture_phone(phone: Mapping[str, Any]) -> dict[str, Any]:
    """A webhook phone object (docs/apollo-facts.md 4.2, `*_cd` keys) in the person schema's phone shape."""
    return {
        "id": phone.get("id") or phone.get("_id"),
        "raw_number": phone.get("raw_number"),
        "sanitized_number": phone.get("sanitized_number"),
        "type": phone.get("type_cd", phone.get("type")),
        "position": phone.get("position", 0),
        "status": phone.get("status_cd", phone.get("status")),
        "dnc_status": phone.get("dnc_status_cd", phone.get("dnc_status")),
        "dnc_other_info": phone.get("dnc_other_info"),
    }


def _validates(schema: str, document: Any) -> bool:
    return not violations(schema, document)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."
