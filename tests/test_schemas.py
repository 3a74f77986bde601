"""The JSON Schemas: well-formed, strict where Apollo is consistent, tolerant where it is not."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from contract_tests import strategies
from mock_server.domain import data

MESSAGES = {
    "people_match.request",
    "people_match.response",
    "people_bulk_match.request",
    "people_bulk_match.response",
    "webhook_phone.payload",
    "webhook_waterfall.payload",
    "webhook_result.response",
    "organization_enrich.request",
    "organization_enrich.response",
    "organizations_bulk_enrich.request",
    "organizations_bulk_enrich.response",
    "people_show.response",
    "api_usage_stats.response",
    "error.response",
    "key_registry",
    # Search, contacts, accounts and the calls around enrichment (docs/apollo-facts.md 7).
    "accounts_bulk_create.response",
    "accounts_create.response",
    "accounts_search.response",
    "accounts_show.response",
    "auth_health.response",
    "contacts_bulk_create.response",
    "contacts_create.response",
    "contacts_search.response",
    "contacts_show.response",
    "mixed_companies_search.response",
    "mixed_people_api_search.response",
    "organization_job_postings.response",
    "organization_show.response",
}

ID = "64a7ff0cc4dfae00013df1a5"
ORG_ID = "5e66b6381e05b4008c8331b8"


def person(**changes: Any) -> dict[str, Any]:
    """A minimal valid person, with `changes` applied (a None value deletes the key)."""
    doc: dict[str, Any] = {
        "id": ID,
        "first_name": "Tim",
        "last_name": "Zheng",
        "name": "Tim Zheng",
        "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
        "title": "Founder & CEO",
        "organization_id": ORG_ID,
        "state": "California",
        "city": "San Francisco",
        "country": "United States",
        "revealed_for_current_team": True,
    }
    doc.update(changes)
    return doc


def phone_number(**changes: Any) -> dict[str, Any]:
    """A valid phone number as a person or contact carries it."""
    doc: dict[str, Any] = {
        "raw_number": "+1 415-555-0117",
        "sanitized_number": "+14155550117",
        "type": "work_hq",
        "position": 0,
        "status": "no_status",
        "dnc_status": None,
        "dnc_other_info": None,
    }
    doc.update(changes)
    return doc


def enriched_phone_number(**changes: Any) -> dict[str, Any]:
    """A valid phone number as a webhook delivers it."""
    doc: dict[str, Any] = {
        "_id": "64dbe6d172c24f00017b9b71",
        "confidence_cd": "high",
        "dnc_other_info": {"country": "United States"},
        "dnc_status_cd": "not_found",
        "dnc_status_updated_at": "2023-08-15T20:57:53.108+00:00",
        "raw_number": "+1 555-555-0164",
        "sanitized_number": "+15555550164",
        "status_cd": "valid_number",
        "type_cd": "other",
        "id": "64dbe6d172c24f00017b9b71",
        "key": "64dbe6d172c24f00017b9b71",
    }
    doc.update(changes)
    return doc


def phone_payload(**changes: Any) -> dict[str, Any]:
    """A valid native phone webhook payload."""
    doc: dict[str, Any] = {
        "status": "success",
        "total_requested_enrichments": 1,
        "unique_enriched_records": 1,
        "missing_records": 0,
        "credits_consumed": 1,
        "people": [{"id": ID, "status": "success", "phone_numbers": [enriched_phone_number()]}],
    }
    doc.update(changes)
    return doc


def waterfall_payload(**changes: Any) -> dict[str, Any]:
    """A valid waterfall webhook payload."""
    doc: dict[str, Any] = {
        "status": "success",
        "total_requested_enrichments": 1,
        "target_fields": ["emails"],
        "records_enriched": 1,
        "email_records_enriched": 1,
        "mobile_records_enriched": 0,
        "enrichment_not_found": 0,
        "email_records_not_found": 0,
        "mobile_records_not_found": 0,
        "credits_consumed": 0,
        "request_id": "-4611686018427387904",
        "request_initiated": "2026-01-08T08:05:49Z",
        "request_completed": "2026-01-08T08:10:56Z",
        "people": [
            {
                "id": ID,
                "waterfall": {"emails": [{"vendors": []}], "phone_numbers": []},
                "phone_numbers": [],
                "emails": [
                    {
                        "email": "tim@apollo.io",
                        "email_source_cd": None,
                        "position": 0,
                        "email_status_cd": "Verified",
                        "extrapolated_email_confidence": None,
                        "third_party_data_provider_id": "icypeas_single_email_search",
                        "waterfall_enriched_at": "2026-01-08T08:05:50.241Z",
                        "vendor_validation_statuses": [],
                    }
                ],
            }
        ],
    }
    doc.update(changes)
    return doc


def employment(**changes: Any) -> dict[str, Any]:
    """A valid employment history item."""
    doc: dict[str, Any] = dict.fromkeys(
        ["created_at", "degree", "description", "emails", "end_date", "grade_level", "kind"], None
    )
    doc.update(dict.fromkeys(["major", "organization_id", "raw_address", "updated_at"], None))
    doc.update(
        {"_id": ID, "id": ID, "key": ID, "current": True, "organization_name": "Apollo"},
        start_date="2016-01-01",
        title="Founder & CEO",
    )
    doc.update(changes)
    return doc


def bulk_response(**changes: Any) -> dict[str, Any]:
    """A valid standard bulk_match response: one hit, one miss."""
    doc: dict[str, Any] = {
        "status": "success",
        "error_code": None,
        "error_message": None,
        "total_requested_enrichments": 2,
        "unique_enriched_records": 1,
        "missing_records": 1,
        "credits_consumed": 1,
        "matches": [person(), None],
        "request_id": -1039995589705121900,
    }
    doc.update(changes)
    return {key: value for key, value in doc.items() if value is not ...}


WATERFALL_ACCEPTED = {"status": "accepted", "message": "Results will be sent to the webhook."}


def poll_result(**changes: Any) -> dict[str, Any]:
    """A valid Poll Webhook Result body."""
    doc: dict[str, Any] = {
        "request_id": "1039995589705121900",
        "webhook_status": "success",
        "request_type": "phone",
        "last_dispatched_at": "2026-05-26T10:42:11Z",
        "failure_reason": None,
        "webhook_result": phone_payload(),
    }
    doc.update(changes)
    return doc


def usage_window(**changes: Any) -> dict[str, Any]:
    """One valid usage-stats window."""
    doc: dict[str, Any] = {"limit": 600, "consumed": 5, "left_over": 595}
    doc.update(changes)
    return doc


def usage(**window: Any) -> dict[str, Any]:
    """A valid usage-stats body for people/match."""
    return {'["api/v1/people", "match"]': usage_entry(**window)}


def usage_entry(**window: Any) -> dict[str, Any]:
    """The usage of one endpoint."""
    return {"day": usage_window(), "hour": usage_window(), "minute": usage_window(**window)}


def keys(**changes: Any) -> dict[str, Any]:
    """A valid key registry with one entry."""
    entry: dict[str, Any] = {
        "key": "k1",
        "team": "t1",
        "plan": "professional",
        "credits": 10,
        "scopes": None,
    }
    entry.update(changes)
    return {"keys": [entry]}


def without(doc: dict[str, Any], *path: Any) -> dict[str, Any]:
    """A deep copy of `doc` with the key at `path` removed."""
    clone = copy.deepcopy(doc)
    node = clone
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return clone


# (schema, document) pairs every schema must accept.
VALID: list[tuple[str, Any]] = [
    ("people_match.request", {}),
    ("people_match.request", {"email": "tim@apollo.io", "reveal_personal_emails": "true"}),
    ("people_match.request", {"reveal_phone_number": True, "webhook_url": "https://x.test/h"}),
    ("people_match.request", {"run_waterfall_email": "true", "webhook_url": "https%3A%2F%2Fx.test"}),
    ("people_match.request", {"hashed_email": "8d935115b9ff4489f2d1f9249503cadf"}),
    ("people_match.request", {"domain": None, "reveal_phone_number": "false"}),
    ("people_bulk_match.request", {"details": [{"id": ID}] * 10}),
    ("people_match.response", {"person": None}),
    ("people_match.response", {"person": person(), "request_id": -9223372036854775808}),
    ("people_match.response", {"person": person(), "waterfall": WATERFALL_ACCEPTED}),
    ("people_match.response", {"person": person(email=None, organization=None, city=None)}),
    ("people_match.response", {"person": person(phone_numbers=[phone_number()])}),
    ("people_match.response", {"person": person(employment_history=[employment()])}),
    ("people_bulk_match.response", bulk_response()),
    ("people_bulk_match.response", bulk_response(credits_consumed=1.01)),
    ("people_bulk_match.response", bulk_response(matches=[])),
    (
        "people_bulk_match.response",
        bulk_response(
            unique_enriched_records=...,
            missing_records=...,
            credits_consumed=...,
            waterfall=WATERFALL_ACCEPTED,
        ),
    ),
    ("webhook_phone.payload", phone_payload()),
    ("webhook_phone.payload", phone_payload(request_id=-5)),
    ("webhook_waterfall.payload", waterfall_payload()),
    ("webhook_waterfall.payload", waterfall_payload(request_id=1039995589705121900)),
    ("webhook_result.response", poll_result()),
    ("webhook_result.response", poll_result(request_id=-12, webhook_result=waterfall_payload())),
    ("webhook_result.response", poll_result(webhook_status="in_progress", webhook_result=None)),
    ("organization_enrich.response", {}),
    ("organization_enrich.request", {"domain": "apollo.io"}),
    ("organization_enrich.request", {"name": "apollo", "website": "http://www.apollo.io"}),
    ("organizations_bulk_enrich.request", {"details": [{"linkedin_url": "http://x.test/c"}]}),
    ("organizations_bulk_enrich.request", {"domains": ["apollo.io", "microsoft.com"]}),
    ("people_show.response", {"person": person()}),
    (
        "organizations_bulk_enrich.response",
        {
            "status": "success",
            "error_code": None,
            "error_message": None,
            "total_requested_domains": 1,
            "unique_domains": 1,
            "unique_enriched_records": 0,
            "missing_records": 1,
            "organizations": [],
        },
    ),
    ("api_usage_stats.response", usage()),
    ("api_usage_stats.response", usage(limit=None, left_over=None)),
    ("error.response", "Invalid access credentials."),
    ("error.response", {"error": "x", "error_code": "API_INACCESSIBLE"}),
    ("error.response", {"error": "Invalid boolean", "field": "reveal_phone_number"}),
    ("error.response", {"error": "Method Not Allowed", "allowed_methods": ["GET", "POST"]}),
    ("error.response", {"status": "failed", "error_code": "X", "error_message": "y"}),
    ("error.response", {"message": "slow down", "error_details": {"code": "USAGE.X"}}),
    ("error.response", {"error_code": "result_pending", "retry_after_seconds": 10}),
    ("error.response", {"error_code": "request_id_expired"}),
    ("key_registry", keys()),
    ("key_registry", keys(plan="custom", limits={"minute": 5, "hour": None, "day": None})),
    ("key_registry", keys(credits=None, scopes=["api/v1/people/match"])),
]

# (schema, plausible mistake, document) triples every schema must reject.
INVALID: list[tuple[str, str, Any]] = [
    ("people_match.request", "boolean 'yes'", {"reveal_personal_emails": "yes"}),
    ("people_match.request", "boolean 1", {"run_waterfall_phone": 1}),
    ("people_match.request", "hashed_email of 31 hex", {"hashed_email": "8d935115b9ff4489f2d1f9"}),
    ("people_match.request", "hashed_email not hex", {"hashed_email": "z" * 32}),
    ("people_match.request", "integer id", {"id": 5}),
    ("people_match.request", "id not 24 hex", {"id": "587cf802"}),
    ("people_match.request", "phone reveal without webhook_url", {"reveal_phone_number": "true"}),
    ("people_match.request", "waterfall without webhook_url", {"run_waterfall_email": True}),
    ("people_match.request", "webhook_url not a URL", {"webhook_url": "not a url"}),
    ("people_match.request", "not an object", ["tim@apollo.io"]),
    ("people_bulk_match.request", "11 details", {"details": [{"id": ID}] * 11}),
    ("people_bulk_match.request", "no details", {"details": []}),
    ("people_bulk_match.request", "details missing", {"reveal_personal_emails": True}),
    ("people_bulk_match.request", "details an object", {"details": {"id": ID}}),
    ("people_bulk_match.request", "bad hashed_email", {"details": [{"hashed_email": "abc"}]}),
    ("people_bulk_match.request", "boolean 'yes'", {"details": [{}], "reveal_phone_number": "yes"}),
    ("people_match.response", "missing person key", {"request_id": 1}),
    ("people_match.response", "integer person.id", {"person": person(id=123)}),
    ("people_match.response", "uppercase person.id", {"person": person(id=ID.upper())}),
    ("people_match.response", "person without id", {"person": without(person(), "id")}),
    ("people_match.response", "person without name", {"person": without(person(), "name")}),
    ("people_match.response", "string request_id", {"person": None, "request_id": "12"}),
    ("people_match.response", "request_id beyond int64", {"person": None, "request_id": 2**63}),
    ("people_match.response", "person a list", {"person": [person()]}),
    (
        "people_match.response",
        "phone number without sanitized_number",
        {"person": person(phone_numbers=[without(phone_number(), "sanitized_number")])},
    ),
    (
        "people_match.response",
        "sanitized_number not E.164",
        {"person": person(phone_numbers=[phone_number(sanitized_number="415-555-0117")])},
    ),
    (
        "people_match.response",
        "employment start_date not a date",
        {"person": person(employment_history=[employment(start_date="January 2016")])},
    ),
    ("people_match.response", "waterfall without status", {"person": None, "waterfall": {}}),
    ("people_bulk_match.response", "matches not an array", bulk_response(matches={"0": None})),
    ("people_bulk_match.response", "match with integer id", bulk_response(matches=[person(id=1)])),
    ("people_bulk_match.response", "11 matches", bulk_response(matches=[None] * 11)),
    ("people_bulk_match.response", "status failed", bulk_response(status="failed")),
    ("people_bulk_match.response", "counters missing", bulk_response(missing_records=...)),
    ("people_bulk_match.response", "credits as string", bulk_response(credits_consumed="1")),
    (
        "people_bulk_match.response",
        "counters beside waterfall",
        bulk_response(waterfall=WATERFALL_ACCEPTED),
    ),
    ("people_bulk_match.response", "no matches key", bulk_response(matches=...)),
    ("webhook_phone.payload", "counters missing", without(phone_payload(), "missing_records")),
    (
        "webhook_phone.payload",
        "phone number without sanitized_number",
        without(phone_payload(), "people", 0, "phone_numbers", 0, "sanitized_number"),
    ),
    ("webhook_phone.payload", "unknown status", phone_payload(status="done")),
    ("webhook_waterfall.payload", "unknown target field", waterfall_payload(target_fields=["x"])),
    (
        "webhook_waterfall.payload",
        "timestamp without zone",
        waterfall_payload(request_initiated="2026-01-08 08:05:49"),
    ),
    ("webhook_waterfall.payload", "request_id with letters", waterfall_payload(request_id="abc")),
    ("webhook_waterfall.payload", "people missing", without(waterfall_payload(), "people")),
    ("webhook_result.response", "unknown webhook_status", poll_result(webhook_status="done")),
    ("webhook_result.response", "payload not an object", poll_result(webhook_result="ok")),
    ("webhook_result.response", "last_dispatched_at not ISO", poll_result(last_dispatched_at="now")),
    ("webhook_result.response", "request_type missing", without(poll_result(), "request_type")),
    ("organization_enrich.response", "integer organization id", {"organization": {"id": 1}}),
    ("organization_enrich.response", "organization null", {"organization": None}),
    ("organization_enrich.request", "no identifier", {}),
    ("organization_enrich.request", "empty domain", {"domain": ""}),
    ("organizations_bulk_enrich.request", "11 companies", {"domains": ["a.test"] * 11}),
    ("organizations_bulk_enrich.request", "a company without identifier", {"details": [{}]}),
    ("organizations_bulk_enrich.response", "no organizations", {"status": "success"}),
    ("people_show.response", "person null", {"person": None}),
    ("api_usage_stats.response", "window missing", {'["api/v1/people", "match"]': {"day": {}}}),
    ("api_usage_stats.response", "negative consumed", usage(consumed=-1)),
    ("api_usage_stats.response", "key not an endpoint pair", {"people/match": usage_entry()}),
    ("error.response", "429 without message", {"error_details": {"code": "USAGE.X"}}),
    ("error.response", "empty object", {}),
    ("error.response", "empty string", ""),
    ("error.response", "bulk error without error_message", {"status": "failed", "error_code": "X"}),
    ("error.response", "unknown poll error_code", {"error_code": "maybe_later"}),
    ("error.response", "error not a string", {"error": 5}),
    ("error.response", "a number", 401),
    ("mixed_people_api_search.response", "pagination instead of total_entries", {"people": []}),
    ("mixed_people_api_search.response", "a person without id", {"total_entries": 1, "people": [{}]}),
    (
        "mixed_companies_search.response",
        "no pagination",
        {"breadcrumbs": [], "accounts": [], "organizations": []},
    ),
    ("organization_show.response", "organization null", {"organization": None}),
    (
        "organization_job_postings.response",
        "a posting without url",
        {"organization_job_postings": [{"id": "1"}]},
    ),
    ("auth_health.response", "is_logged_in a string", {"healthy": True, "is_logged_in": "yes"}),
    ("contacts_create.response", "no contact", {"labels": []}),
    ("contacts_show.response", "contact without id", {"contact": {"first_name": "A"}}),
    ("contacts_search.response", "contacts not a list", {"contacts": {}, "pagination": {}}),
    ("contacts_bulk_create.response", "existing missing", {"created_contacts": []}),
    ("accounts_create.response", "account a string", {"account": "acme"}),
    ("accounts_show.response", "no account", {}),
    ("accounts_search.response", "no pagination", {"accounts": []}),
    ("accounts_bulk_create.response", "created missing", {"existing_accounts": []}),
    ("key_registry", "unknown plan", keys(plan="enterprise")),
    ("key_registry", "limits on a non-custom plan", keys(limits={"minute": 1, "hour": 1, "day": 1})),
    ("key_registry", "negative credits", keys(credits=-1)),
    ("key_registry", "scopes not a list", keys(scopes="api/v1/people/match")),
    ("key_registry", "misspelt field", {"keys": [{**keys()["keys"][0], "plna": "free"}]}),
    ("key_registry", "key missing", {"keys": [without(keys()["keys"][0], "key")]}),
]


def _ids(cases: list[Any]) -> list[str]:
    return [f"{case[0]}: {case[1]}" if len(case) == 3 else case[0] for case in cases]


def test_every_message_has_a_schema_file() -> None:
    assert set(data.schema_names()) == MESSAGES


@pytest.mark.parametrize("name", sorted(MESSAGES | {"definitions"}))
def test_schema_file_is_a_valid_draft_07_document(name: str) -> None:
    schema = data.load_schema(name)
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"].endswith(f"/{name}.json")
    assert schema["title"] and schema["description"]


def test_person_inside_a_response_and_organization_are_shared_definitions() -> None:
    text = json.dumps([data.load_schema(name) for name in MESSAGES])
    assert '"definitions.json#/definitions/person"' in text
    assert '"definitions.json#/definitions/organization"' in text
    properties = data.load_schema("definitions")["definitions"]["person"]["properties"]
    assert properties["organization"]["anyOf"][0] == {"$ref": "#/definitions/organization"}


def test_person_required_keys_are_those_of_every_documented_and_recorded_match() -> None:
    required = data.load_schema("definitions")["definitions"]["person"]["required"]
    # Apollo's older examples leave revealed_for_current_team out (tests/data/apollo_examples); the
    # recorded thin person has no location keys (tests/data/recorded).
    assert set(required) == set(person()) - {"revealed_for_current_team", "state", "city", "country"}


@pytest.mark.parametrize(("name", "document"), VALID, ids=_ids(VALID))
def test_valid_document_is_accepted(name: str, document: Any) -> None:
    data.validate(name, document)


@pytest.mark.parametrize(("name", "mistake", "document"), INVALID, ids=_ids(INVALID))
def test_plausible_mistake_is_rejected(name: str, mistake: str, document: Any) -> None:
    with pytest.raises(data.SchemaViolation):
        data.validate(name, document)


def test_every_schema_has_rejection_cases() -> None:
    assert {case[0] for case in INVALID} == MESSAGES


def test_person_with_integer_id_is_rejected_with_its_json_path() -> None:
    with pytest.raises(data.SchemaViolation) as caught:
        data.validate("people_match.response", {"person": person(id=123)})
    assert caught.value.violations == [("$.person.id", "123 is not of type 'string'")]
    assert "$.person.id: 123 is not of type 'string'" in str(caught.value)


def test_violation_lists_every_problem() -> None:
    document = {"person": person(id=123, revealed_for_current_team="yes")}
    with pytest.raises(data.SchemaViolation) as caught:
        data.validate("people_match.response", document)
    paths = [path for path, _ in caught.value.violations]
    assert paths == ["$.person.id", "$.person.revealed_for_current_team"]


def test_violation_in_a_bulk_match_names_its_position() -> None:
    with pytest.raises(data.SchemaViolation) as caught:
        data.validate("people_bulk_match.response", bulk_response(matches=[None, person(id=7)]))
    assert caught.value.violations == [("$.matches[1].id", "7 is not of type 'string'")]


def test_schema_name_may_end_in_json() -> None:
    data.validate("people_match.response.json", {"person": None})


def test_unknown_schema_name_is_reported() -> None:
    with pytest.raises(data.UnknownSchema, match="people_match.response"):
        data.validate("people_match.reply", {})


def test_shared_definition_can_be_validated_by_name() -> None:
    data.validate("person", person())
    with pytest.raises(data.SchemaViolation):
        data.validate("organization", {"id": ORG_ID})


def test_unknown_keys_are_tolerated_by_default() -> None:
    document = {"person": person(brand_new_field=1), "something_new": True}
    data.validate("people_match.response", document)


def test_strict_check_rejects_undocumented_keys() -> None:
    document = {"person": person(brand_new_field=1)}
    with pytest.raises(data.SchemaViolation) as caught:
        data.validate("people_match.response", document, strict=True)
    assert caught.value.violations[0][0] == "$.person"
    assert "brand_new_field" in caught.value.violations[0][1]


def test_strict_check_rejects_undocumented_keys_deep_inside() -> None:
    document = phone_payload()
    document["people"][0]["phone_numbers"][0]["colour"] = "red"
    data.validate("webhook_phone.payload", document)
    with pytest.raises(data.SchemaViolation, match="colour"):
        data.validate("webhook_phone.payload", document, strict=True)


def test_strict_check_keeps_maps_open() -> None:
    document = usage()
    data.validate("api_usage_stats.response", document, strict=True)


@pytest.mark.parametrize(("name", "document"), VALID, ids=_ids(VALID))
def test_valid_document_passes_the_strict_check(name: str, document: Any) -> None:
    data.validate(name, document, strict=True)


def test_strict_schema_closes_every_documented_object() -> None:
    strict = data.strict_schema("definitions")["definitions"]
    assert strict["person"]["additionalProperties"] is False
    assert strict["organization"]["additionalProperties"] is False
    assert "additionalProperties" not in data.load_schema("definitions")["definitions"]["person"]


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_bundled_schema_has_only_local_references(name: str) -> None:
    bundled = data.bundled_schema(name)
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(bundled)
    assert all(ref.startswith("#/definitions/") for ref in refs)
    assert all(ref.removeprefix("#/definitions/") in bundled["definitions"] for ref in refs)
    Draft7Validator.check_schema(bundled)


@pytest.mark.parametrize(
    ("name", "document", "valid"),
    [(case[0], case[1], True) for case in VALID] + [(case[0], case[2], False) for case in INVALID],
    ids=_ids(VALID) + _ids(INVALID),
)
def test_bundled_schema_judges_like_the_file_schema(name: str, document: Any, valid: bool) -> None:
    assert Draft7Validator(data.bundled_schema(name)).is_valid(document) is valid


# Fewer examples of the big response schemas, more of the small ones.
_HEAVY = {
    "people_bulk_match.response": 3,
    "people_match.response": 5,
    "webhook_result.response": 5,
    "api_usage_stats.response": 3,
}


def _check_generated(name: str, strategy: st.SearchStrategy[Any]) -> Callable[[], None]:
    @settings(
        max_examples=_HEAVY.get(name, 8),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(document: Any) -> None:
        data.validate(name, document)

    return run


# The answer documents come from the contract suite's own generator, which walks the bundled
# schema (the one users validate with) and is many times faster than hypothesis-jsonschema; the
# rest (requests, errors, the key registry) from hypothesis-jsonschema, independent of our code.
_OWN_GENERATOR = {
    "organization_enrich.response": lambda: strategies.from_schema(
        data.bundled_schema("organization_enrich.response")
    ),
    "organizations_bulk_enrich.response": lambda: strategies.from_schema(
        data.bundled_schema("organizations_bulk_enrich.response")
    ),
    "people_match.response": lambda: strategies.from_schema(data.bundled_schema("people_match.response")),
    "people_show.response": lambda: strategies.from_schema(data.bundled_schema("people_show.response")),
    "people_bulk_match.response": strategies.bulk_responses,
    "webhook_phone.payload": strategies.phone_webhook_payloads,
    "webhook_result.response": lambda: strategies.from_schema(data.bundled_schema("webhook_result.response")),
    "webhook_waterfall.payload": strategies.waterfall_webhook_payloads,
}


# Answers still drawn by hypothesis-jsonschema: the error body and the usage stats' keyed map.
_INDEPENDENT_ANSWERS = ("error.response", "api_usage_stats.response")


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_documents_generated_from_the_bundled_schema_validate(name: str) -> None:
    own = _OWN_GENERATOR.get(name)
    if own is None and name.endswith(".response") and name not in _INDEPENDENT_ANSWERS:
        # Every other answer document (search, contacts, accounts, ...) from the same generator.
        own = lambda: strategies.from_schema(data.bundled_schema(name))  # noqa: E731
    if own is not None:
        _check_generated(name, own())()
        return
    from hypothesis_jsonschema import from_schema

    with warnings.catch_warnings():
        # hypothesis-jsonschema still uses jsonschema's deprecated RefResolver.
        warnings.simplefilter("ignore", DeprecationWarning)
        _check_generated(name, from_schema(data.bundled_schema(name)))()
