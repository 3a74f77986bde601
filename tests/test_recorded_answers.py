"""Every real recorded Apollo answer kept in tests/data/recorded validates against fakeapollo's schemas.

Recorded answers are ground truth: a schema that refuses one is wrong, not the recording. Answers of
endpoints fakeapollo does not serve yet (search, contacts, accounts) are listed apart, so a new
recording has to be placed in one list or the other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain import data

RECORDED = Path(__file__).parent / "data" / "recorded"
#: Recording -> the schema its body answers to (errors of any endpoint answer to error.response).
SCHEMA_OF = {
    "people_match_thin-person-unknown-email_nango_2026-05-18.json": "people_match.response",
    "people_match_full-person-by-id_getleads_2024-04-19.json": "people_match.response",
    "people_bulk_match_unmatched-id_nango_2026-05-18.json": "people_bulk_match.response",
    "organizations_enrich_apollo-io_nango_2026-05-18.json": "organization_enrich.response",
    "organizations_enrich_no-match-empty-object_superagent-pr1114_2026-09-16.json": (
        "organization_enrich.response"
    ),
    "contacts_destroy_403-api-inaccessible-access-token_nango_2026-05-18.json": "error.response",
    "contacts_search_rate-limit-per-day-message_supaglue-pr1926_2023-11-15.json": "error.response",
    "mixed_people_search_403-free-plan-access-token_withoneai-issue4_2026-03-24.json": "error.response",
    "usage_stats_401-bearer-with-api-key_oomol-issue80_2026-07-11.json": "error.response",
}
#: Answers of endpoints fakeapollo does not serve (yet): kept for the search and CRM endpoints.
NOT_SERVED = {
    "accounts_create_nango_2026-05-18.json",
    "accounts_search_5-accounts_nango_2026-05-18.json",
    "contacts_create_nango_2026-05-18.json",
    "contacts_search_3-contacts_nango_2026-05-18.json",
    "contacts_show_nango_2026-05-18.json",
    "mixed_companies_search_10-orgs_getleads_2024-04-19.json",
    "mixed_companies_search_2-orgs_getleads_2024-04-26.json",
    "mixed_companies_search_q-name-apollo_nango_2026-05-18.json",
    "mixed_people_api_search_5-people_nango_2026-05-18.json",
}


def _recording(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    return document


def test_every_recording_is_validated_or_named_as_not_served() -> None:
    names = {path.name for path in RECORDED.glob("*.json")}
    assert names == set(SCHEMA_OF) | NOT_SERVED
    assert not set(SCHEMA_OF) & NOT_SERVED


@pytest.mark.parametrize("name", sorted(SCHEMA_OF))
def test_recorded_answer_validates(name: str) -> None:
    data.validate(SCHEMA_OF[name], _recording(name)["body"])


@pytest.mark.parametrize("name", sorted(n for n, s in SCHEMA_OF.items() if s != "error.response"))
def test_recorded_answer_validates_strictly(name: str) -> None:
    # Strict: every key the recording carries is one the schemas document.
    data.validate(SCHEMA_OF[name], _recording(name)["body"], strict=True)


def test_unknown_email_gets_the_recorded_thin_person_over_http(api: Any, base_url: str) -> None:
    recorded = _recording("people_match_thin-person-unknown-email_nango_2026-05-18.json")["body"]
    response = api.post(f"{base_url}/api/v1/people/match", params={"email": "alice@nango.thin.test"})
    assert response.status_code == 200
    body = response.json()
    person = body["person"]
    assert list(body) == ["person", "request_id"] and isinstance(body["request_id"], int)
    assert list(person) == list(recorded["person"])
    assert person["email"] == "alice@nango.thin.test"
    assert {k: v for k, v in person.items() if k not in ("id", "email")} == {
        k: v for k, v in recorded["person"].items() if k not in ("id", "email")
    }
    for absent in ("organization", "city", "state", "country", "match_confidence"):
        assert absent not in person
    data.validate("people_match.response", body, strict=True)
    # Apollo created the person: its id finds it again; a bulk answers it as a miss.
    assert api.post(f"{base_url}/api/v1/people/match", params={"id": person["id"]}).json()["person"] == person
    bulk = api.post(
        f"{base_url}/api/v1/people/bulk_match", json={"details": [{"email": "alice@nango.thin.test"}]}
    ).json()
    assert bulk["matches"] == [None] and bulk["missing_records"] == 1 and bulk["credits_consumed"] == 0


def test_standard_bulk_answer_has_no_request_id_over_http(api: Any, base_url: str) -> None:
    recorded = _recording("people_bulk_match_unmatched-id_nango_2026-05-18.json")["body"]
    body = api.post(
        f"{base_url}/api/v1/people/bulk_match", json={"details": [{"id": "6a0af20f499fdc0010dfadaf"}]}
    ).json()
    assert body == recorded
    assert list(body) == list(recorded)  # no request_id; matches before the counters


def test_enriched_organizations_carry_the_2026_keys_over_http(api: Any, base_url: str) -> None:
    organizations = []
    for i in range(20):
        response = api.get(f"{base_url}/api/v1/organizations/enrich", params={"domain": f"keys{i}.example"})
        data.validate("organization_enrich.response", response.json(), strict=True)
        organizations.append(response.json()["organization"])
    assert not any("blog_url" in organization for organization in organizations)
    for key in ("sic_codes", "naics_codes", "organization_revenue", "organization_revenue_printed"):
        assert sum(key in organization for organization in organizations) >= 15, key
    assert all(
        o["organization_revenue"] == o["annual_revenue"]
        for o in organizations
        if "organization_revenue" in o and "annual_revenue" in o
    )
