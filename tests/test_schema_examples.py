"""Every body Apollo documents (and every error body seen live) validates against its schema.

The bodies are kept in tests/data/apollo_examples (errors/, openapi/); its SOURCES.md names each source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain import data

EXAMPLES = Path(__file__).parent / "data" / "apollo_examples"
ERRORS = EXAMPLES / "errors"
#: OpenAPI operation (under /api/v1) -> schema of its 200 response.
OPENAPI_SCHEMAS = {
    "POST /people/match": "people_match.response",
    "POST /people/bulk_match": "people_bulk_match.response",
    "GET /organizations/enrich": "organization_enrich.response",
    "GET /webhook_result/{request_id}": "webhook_result.response",
    "POST /usage_stats/api_usage_stats": "api_usage_stats.response",
}


def _error_files() -> list[Path]:
    return sorted(path for path in ERRORS.glob("*.json") if path.name != "observed_live_error_bodies.json")


def _observed_entries() -> list[dict[str, Any]]:
    document = json.loads((ERRORS / "observed_live_error_bodies.json").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = document["entries"]
    return entries


def _openapi_example_value(value: Any) -> Any:
    """An OpenAPI example value as a document; some JSON examples are stored as JSON text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        pass
    if value.rstrip().endswith("\n0"):
        # Apollo's usage-stats example ends with "0" where its closing brace belongs.
        return json.loads(value.rstrip()[:-1] + "}")
    return value


def _openapi_examples() -> list[tuple[str, str, Any]]:
    """(case id, schema, document) for every example the docs' OpenAPI gives the emulated endpoints."""
    path = EXAMPLES / "openapi" / "openapi_examples.json"
    cases: list[tuple[str, str, Any]] = []
    for example in json.loads(path.read_text(encoding="utf-8"))["examples"]:
        operation, title = example["operation"], example["title"]
        schema = OPENAPI_SCHEMAS[operation]
        if example["part"] == "request":
            request = schema.replace(".response", ".request")
            cases.append((f"{operation} request {title}", request, example["value"]))
            continue
        target = schema if example["status"] == 200 else "error.response"
        value = _openapi_example_value(example["value"])
        cases.append((f"{operation} {example['status']} {title}", target, value))
    return cases


def test_every_documented_example_is_covered() -> None:
    assert len(_error_files()) >= 7
    assert len(OPENAPI_CASES) >= 25
    operations = {" ".join(case[0].split(" ")[:2]) for case in OPENAPI_CASES}
    assert operations == set(OPENAPI_SCHEMAS)
    assert len(_observed_entries()) >= 10


@pytest.mark.parametrize("path", _error_files(), ids=lambda path: path.name)
def test_documented_error_example_validates(path: Path) -> None:
    data.validate("error.response", json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "entry", _observed_entries(), ids=lambda entry: f"{entry['status']} {entry['trigger'][:40]}"
)
def test_error_body_observed_live_validates(entry: dict[str, Any]) -> None:
    # The file also records the live no-match body, a 200 (docs/apollo-facts.md 2.2).
    schema = "people_match.response" if entry["status"] == 200 else "error.response"
    data.validate(schema, entry["body"])


OPENAPI_CASES = _openapi_examples()


@pytest.mark.parametrize(
    ("case", "schema", "document"), OPENAPI_CASES, ids=[case[0] for case in OPENAPI_CASES]
)
def test_openapi_example_validates(case: str, schema: str, document: Any) -> None:
    data.validate(schema, document)


def test_reference_page_person_response_validates() -> None:
    document = json.loads((EXAMPLES / "current_people_match_reference_page.json").read_text(encoding="utf-8"))
    assert document["person"]["email"] == "tim@apollo.io"
    data.validate("people_match.response", document)


@pytest.mark.parametrize(
    "value",
    [
        "8d935115b9ff4489f2d1f9249503cadf",
        "97817c0c49994eb500ad0a5e7e2d8aed51977b26424d508f66e4e8887746a152",
    ],
)
def test_documented_hashed_email_examples_are_accepted(value: str) -> None:
    data.validate("people_match.request", {"hashed_email": value})
    data.validate("people_bulk_match.request", {"details": [{"hashed_email": value}]})


def test_documented_webhook_url_examples_are_accepted() -> None:
    for url in (
        "https://webhook.site/11f2643a-b1b4-c6be-8e6a-6c7da2c12610",
        "https%3A%2F%2Fwebhook.site%2F11f2643a-b1b4-c6be-8e6a-6c7da2c12610",
    ):
        data.validate("people_match.request", {"reveal_phone_number": True, "webhook_url": url})
