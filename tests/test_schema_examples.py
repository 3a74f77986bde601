"""Every body Apollo documents (and every error body seen live) validates against its schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain import data
from tests.conftest import SHARED_APOLLO as SHARED
from tests.conftest import needs_shared_apollo

EXAMPLES = SHARED / "examples"

#: Example file name -> schema.
EXAMPLE_SCHEMAS = {
    "organizations_enrich_200.json": "organization_enrich.response",
    "people_bulk_match_200.json": "people_bulk_match.response",
    "people_bulk_match_200_waterfall.json": "people_bulk_match.response",
    "people_match_200_with_waterfall.json": "people_match.response",
    "webhook_payload_phone.json": "webhook_phone.payload",
    "webhook_payload_waterfall.json": "webhook_waterfall.payload",
    "webhook_result_200_phone.json": "webhook_result.response",
    "webhook_result_200_waterfall.json": "webhook_result.response",
}
#: OpenAPI path (under /api/v1) -> schema of its 200 response.
OPENAPI_SCHEMAS = {
    "/people/match": "people_match.response",
    "/people/bulk_match": "people_bulk_match.response",
    "/organizations/enrich": "organization_enrich.response",
    "/webhook_result/{request_id}": "webhook_result.response",
    "/usage_stats/api_usage_stats": "api_usage_stats.response",
}


def _example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    return sorted(
        path
        for path in EXAMPLES.rglob("*.json")
        if not path.name.endswith(".meta.json") and path.name != "observed_live_error_bodies.json"
    )


def _observed_entries() -> list[dict[str, Any]]:
    path = EXAMPLES / "errors" / "observed_live_error_bodies.json"
    if not path.is_file():
        return []
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["entries"]
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
    """(case id, schema, document) for every example of the emulated endpoints."""
    path = SHARED / "openapi-people-enrichment.json"
    if not path.is_file():
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    cases: list[tuple[str, str, Any]] = []
    for route, schema in OPENAPI_SCHEMAS.items():
        for method, operation in document["paths"][route].items():
            for status, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    for title, example in media.get("examples", {}).items():
                        target = schema if status == "200" else "error.response"
                        value = _openapi_example_value(example["value"])
                        cases.append((f"{method} {route} {status} {title}", target, value))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for title, example in body.get("examples", {}).items():
                target = schema.replace(".response", ".request")
                cases.append((f"{method} {route} request {title}", target, example["value"]))
    return cases


def _reference_person_response() -> Any:
    """The full example response on Apollo's People Enrichment reference page."""
    text = (SHARED / "seed-people-enrichment-reference.txt").read_text(encoding="utf-8")
    start = text.rindex("{", 0, text.index('"person": {'))
    document, _ = json.JSONDecoder().raw_decode(text[start:])
    return document


needs_shared = needs_shared_apollo


@needs_shared
def test_every_documented_example_is_covered() -> None:
    names = {path.name for path in _example_files() if path.parent == EXAMPLES}
    assert names == set(EXAMPLE_SCHEMAS)
    assert len(OPENAPI_CASES) >= 25
    assert len(_observed_entries()) >= 10


@needs_shared
@pytest.mark.parametrize("path", _example_files(), ids=lambda path: path.name)
def test_documented_example_validates(path: Path) -> None:
    schema = EXAMPLE_SCHEMAS.get(path.name, "error.response")
    if path.parent.name == "errors":
        schema = "error.response"
    data.validate(schema, json.loads(path.read_text(encoding="utf-8")))


@needs_shared
@pytest.mark.parametrize(
    "entry", _observed_entries(), ids=lambda entry: f"{entry['status']} {entry['trigger'][:40]}"
)
def test_error_body_observed_live_validates(entry: dict[str, Any]) -> None:
    # The file also records the live no-match body, a 200 (docs/apollo-facts.md 2.2).
    schema = "people_match.response" if entry["status"] == 200 else "error.response"
    data.validate(schema, entry["body"])


OPENAPI_CASES = _openapi_examples()


@needs_shared
@pytest.mark.parametrize(
    ("case", "schema", "document"), OPENAPI_CASES, ids=[case[0] for case in OPENAPI_CASES]
)
def test_openapi_example_validates(case: str, schema: str, document: Any) -> None:
    data.validate(schema, document)


@needs_shared
def test_reference_page_person_response_validates() -> None:
    document = _reference_person_response()
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
