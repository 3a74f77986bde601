"""What `fakeapollo record` writes to its folder: person fixtures, exchanges, drift, scrub counts.

Plain Python, no HTTP: the proxy (mock_server/recording/proxy.py) hands it what went back and forth.
Nothing it writes holds the real API key: every line passes through `redact` first.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mock_server.domain.data import violations
from mock_server.domain.scenarios import operation_of
from mock_server.recording.scrubbing import HASHES_FILE, KEY_FILE, Scrubber, load_key

PERSONS = "persons"
EXCHANGES = "exchanges.jsonl"
DRIFT = "drift.md"
SCRUBBED = "scrubbed.json"
# The schema that describes a 2xx answer of each operation.
ANSWER_SCHEMAS = {
    "people/match": "people_match.response",
    "people/bulk_match": "people_bulk_match.response",
    "organizations/enrich": "organization_enrich.response",
    "organizations/bulk_enrich": "organizations_bulk_enrich.response",
    "usage_stats/api_usage_stats": "api_usage_stats.response",
}
# Operations with an id in the path: webhook_result/{request_id}, people/{id}.
ANSWER_SCHEMA_PREFIXES = (("webhook_result/", "webhook_result.response"), ("people/", "people_show.response"))
# Header families fakeapollo's schemas and docs describe (docs/apollo-facts.md 3.1), plus plain HTTP ones.
KNOWN_HEADERS = re.compile(
    r"^(x-rate-limit-(minute|hourly|24-hour|daily)|x-(minute|hourly|24-hour|daily)-(usage|requests-left)"
    r"|retry-after|content-type|content-length|date|server|connection|keep-alive|vary|etag"
    r"|cache-control|transfer-encoding|content-encoding)$"
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
        self.persons_dir.mkdir(parents=True, exist_ok=True)
        self._secret = secret
        self._lock = threading.Lock()
        self.scrubber: Scrubber | None = None
        if scrub:
            hashes = folder / HASHES_FILE
            known = json.loads(hashes.read_text(encoding="utf-8")) if hashes.exists() else {}
            self.scrubber = Scrubber(load_key(folder), known)
            # The key reverses nothing by itself, but with it guesses can be checked: keep it out of git.
            (folder / ".gitignore").write_text(f"{KEY_FILE}\n", encoding="utf-8")
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

    def exchange(self, entry: Mapping[str, Any]) -> None:
        """Append one exchange (already scrubbed by the caller) as a JSON line."""
        line = self.redact(json.dumps(entry, ensure_ascii=False, default=str))
        with self._lock:
            with (self.folder / EXCHANGES).open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            if self.scrubber is not None:
                _write(self.folder / SCRUBBED, json.dumps(self.scrubber.report(), indent=2) + "\n")
                _write(self.folder / HASHES_FILE, json.dumps(self.scrubber.hashes(), indent=0) + "\n")

    def persons(self, path: str, body: Any) -> list[str]:
        """Save every person of a 2xx people/match or bulk_match answer (already scrubbed) as a fixture."""
        found: list[Any] = []
        if isinstance(body, Mapping) and operation_of(path).startswith("people/"):
            # people/match and people/{id} answer `person`; bulk_match answers `matches`.
            found = [body.get("person")]
            if isinstance(body.get("matches"), list):
                found += body["matches"]
        saved = []
        for person in found:
            if isinstance(person, Mapping) and isinstance(person.get("id"), str):
                saved.append(self._save_person(person))
        return saved

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
                _write(path, self.redact(json.dumps(record, indent=2, ensure_ascii=False) + "\n"))
            updated.append(path.stem)
        return updated

    def _save_person(self, person: Mapping[str, Any]) -> str:
        """Write one person; schema violations become drift, the file stays."""
        record = dict(person)
        person_id = _file_stem(record["id"])
        path = self.persons_dir / f"{person_id}.json"
        if path.exists():
            # A person met again keeps what only an earlier call revealed (personal e-mails).
            record = {**json.loads(path.read_text(encoding="utf-8")), **record}
        for json_path, message in violations("person", record):
            self.person_problems += 1
            self.drift("person fixtures do not validate", f"{person_id}.json {json_path}: {message}")
        text = self.redact(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        with self._lock:
            _write(path, text)
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
            _write(self.folder / DRIFT, self.redact("\n".join(lines)))

    def check_answer(self, path: str, status: int, headers: Mapping[str, str], body: Any) -> None:
        """Compare one upstream answer with the schemas: types, unknown keys, errors, headers."""
        operation = operation_of(path)
        for name in headers:
            if not KNOWN_HEADERS.match(name.lower()):
                self.drift("header families", f"`{name.lower()}` (on {operation}, HTTP {status})")
        if status >= 400:
            if status < 500 and not _validates("error.response", body):
                self.drift("error bodies", f"{operation} HTTP {status}: {_short(body)}")
            return
        schema = ANSWER_SCHEMAS.get(operation) or next(
            (name for prefix, name in ANSWER_SCHEMA_PREFIXES if operation.startswith(prefix)), None
        )
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
    """A person id made safe as a file name."""
    return re.sub(r"[^0-9A-Za-z_-]", "_", str(person_id))[:64] or "person"


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


def _write(path: Path, text: str) -> None:
    """Replace a file's contents atomically."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _validates(schema: str, document: Any) -> bool:
    return not violations(schema, document)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."
