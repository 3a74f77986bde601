"""Every response example Apollo has published validates, and no key is required that one leaves out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain import data

EXAMPLES = Path(__file__).parent / "data" / "apollo_examples"
#: File-name stem (after legacy_/current_) -> the schema its body answers to.
SCHEMA_BY_KIND = {
    "people_match": "people_match.response",
    "people_show": "people_show.response",
    "people_bulk_match": "people_bulk_match.response",
    "organization_enrich": "organization_enrich.response",
    "organizations_enrich": "organization_enrich.response",
    "organizations_bulk_enrich": "organizations_bulk_enrich.response",
    "webhook_payload_phone": "webhook_phone.payload",
    "webhook_payload_waterfall": "webhook_waterfall.payload",
    "webhook_result": "webhook_result.response",
}


def _files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def _schema_for(path: Path) -> str:
    stem = path.stem.removeprefix("legacy_").removeprefix("current_")
    return next(schema for kind, schema in SCHEMA_BY_KIND.items() if stem.startswith(kind))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _instances(schema: str, document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(definition or schema name, object) for the message and every nested object it documents."""
    yield schema, document
    persons: list[Any] = [document.get("person")] + list(document.get("matches") or [])
    organizations: list[Any] = [document.get("organization")] + list(document.get("organizations") or [])
    for person in persons:
        if not isinstance(person, dict):
            continue
        yield "person", person
        organizations.append(person.get("organization"))
        for name in ("account", "contact"):
            if isinstance(person.get(name), dict):
                yield name, person[name]
        for item in person.get("phone_numbers") or []:
            yield "phone_number", item
        for item in person.get("employment_history") or []:
            yield "employment_history_item", item
    for organization in organizations:
        if not isinstance(organization, dict) or not organization:
            continue
        yield "organization", organization
        if isinstance(organization.get("account"), dict):
            yield "account", organization["account"]
        for item in organization.get("current_technologies") or []:
            yield "technology", item
        for item in organization.get("funding_events") or []:
            yield "funding_event", item


def _required(name: str) -> list[str]:
    schema = data.load_schema(name)
    if "$ref" in schema:
        schema = data.load_schema("definitions")["definitions"][name]
    required: list[str] = schema.get("required", [])
    return required


def test_every_example_file_is_named_in_sources() -> None:
    sources = (EXAMPLES / "SOURCES.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `([^`]+\.json)` \|", sources, re.MULTILINE))
    assert named == {path.name for path in _files()}
    # Every distinct example of every version of apolloio/apollo-api-docs' _enrichment.md.
    assert sum(name.startswith("legacy_") for name in named) == 16


@pytest.mark.parametrize("path", _files(), ids=lambda path: path.name)
def test_public_example_validates(path: Path) -> None:
    data.validate(_schema_for(path), _load(path))


def test_a_key_is_required_only_when_every_example_carries_it() -> None:
    missing: dict[str, set[str]] = {}
    seen: set[str] = set()
    for path in _files():
        for name, instance in _instances(_schema_for(path), _load(path)):
            seen.add(name)
            for key in _required(name):
                if key not in instance:
                    missing.setdefault(name, set()).add(f"{key} ({path.name})")
    assert missing == {}
    assert {"person", "organization", "account", "contact", "phone_number"} <= seen
