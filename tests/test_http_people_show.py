"""GET people/{id}, forced stub no-matches and OAuth tokens, over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from mock_server.domain import data

UNAUTHORIZED = "Invalid access credentials."


def match(api: requests.Session, base_url: str, **params: Any) -> Any:
    """people/match with a JSON body; the parsed answer."""
    response = api.post(f"{base_url}/api/v1/people/match", json=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_person_by_id_is_the_person_matched_before(api: requests.Session, base_url: str) -> None:
    person = match(api, base_url, email="show.me@example.com")["person"]
    response = api.get(f"{base_url}/api/v1/people/{person['id']}")
    assert response.status_code == 200
    shown = response.json()
    data.validate("people_show.response", shown, strict=True)
    assert shown["person"]["id"] == person["id"]
    assert shown["person"]["name"] == person["name"]
    # Get Complete Person Info hides a verified address of someone who is not the team's contact.
    if "contact" not in shown["person"] and person.get("email_status") == "verified":
        assert shown["person"]["email"] == "email_not_unlocked@domain.com"


def test_person_by_id_also_under_v1(api: requests.Session, base_url: str) -> None:
    person = match(api, base_url, email="tim@apollo.io")["person"]
    assert api.get(f"{base_url}/v1/people/{person['id']}").json()["person"]["id"] == person["id"]


def test_unknown_id_gets_apollos_person_does_not_exist(api: requests.Session, base_url: str) -> None:
    response = api.get(f"{base_url}/api/v1/people/0123456789abcdef01234567")
    assert response.status_code == 422
    assert response.json() == {"error": "Person does not exist."}


def test_person_by_id_costs_one_credit(api: requests.Session, base_url: str, admin: str) -> None:
    person = match(api, base_url, email="credit.check@example.com")["person"]
    before = requests.get(f"{admin}/usage", timeout=10).json()
    api.get(f"{base_url}/api/v1/people/{person['id']}")
    after = requests.get(f"{admin}/usage", timeout=10).json()

    def spent(usage: Any) -> float:
        return float(next(t for t in usage["teams"] if t["team"] == "team-test")["credits"]["spent"])

    assert spent(after) - spent(before) == 1


def test_forced_stub_no_match_is_a_nameless_person_and_free(
    api: requests.Session, base_url: str, admin: str
) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "someone@initrode-example.com"},
        headers={"X-Mock-Scenario": "stub_no_match"},
    )
    body = response.json()
    data.validate("people_match.response", body, strict=True)
    stub = body["person"]
    assert stub["name"] == "" and stub["match_confidence"] == "none"
    assert stub["organization"]["primary_domain"] == "initrode-example.com"
    usage = requests.get(f"{admin}/usage", timeout=10).json()
    assert next(t for t in usage["teams"] if t["team"] == "team-test")["credits"]["spent"] == 0


def test_forced_stub_no_match_in_bulk_marks_every_record(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/bulk_match",
        json={"details": [{"email": "a@example.com"}, {"email": "b@example.com"}]},
        headers={"X-Mock-Scenario": "stub_no_match"},
    )
    body = response.json()
    assert [m["match_confidence"] for m in body["matches"]] == ["none", "none"]
    assert body["unique_enriched_records"] == 0 and body["missing_records"] == 2


def test_bulk_phone_reveal_announces_phone_enrichment(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/bulk_match",
        params={"reveal_phone_number": "true", "webhook_url": "http://127.0.0.1:9/hook"},
        json={"details": [{"email": "phones@example.com"}]},
    )
    body = response.json()
    data.validate("people_bulk_match.response", body, strict=True)
    assert body["phone_enrichment"]["status"] == "pending"
    # Its own 24-hex id, which polling refuses; the top-level request_id is the one to poll.
    enrichment_id = body["phone_enrichment"]["request_id"]
    assert len(enrichment_id) == 24 and int(enrichment_id, 16) >= 0
    assert enrichment_id != str(body["request_id"]) and isinstance(body["request_id"], int)
    polled = api.get(f"{base_url}/api/v1/webhook_result/{enrichment_id}")
    assert polled.status_code == 400 and polled.json() == {"error_code": "invalid_request_id"}


def test_gdpr_person_keeps_an_empty_personal_emails(api: requests.Session, base_url: str) -> None:
    person = match(api, base_url, email="anna@eu.test", reveal_personal_emails=True)["person"]
    assert person["personal_emails"] == []


def test_non_contacts_have_no_contact_keys_and_contacts_have_both(
    api: requests.Session, base_url: str
) -> None:
    seen = {"contact": 0, "none": 0}
    for i in range(60):
        person = match(api, base_url, email=f"member{i}@contacts-example.com")["person"]
        if "contact" in person:
            assert person["contact_id"] == person["contact"]["id"]
            assert person["contact"]["person_id"] == person["id"]
            seen["contact"] += 1
        else:
            assert "contact_id" not in person
            seen["none"] += 1
    assert seen["contact"] and seen["none"]


def test_registered_oauth_token_works_as_bearer(api: requests.Session, base_url: str, admin: str) -> None:
    token = {"key": "oauth-token-1", "kind": "oauth_token", "team": "team-test", "plan": "professional"}
    requests.post(f"{admin}/keys", json={**token, "credits": None, "scopes": None}, timeout=10)
    response = requests.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "bearer@example.com"},
        headers={"Authorization": "Bearer oauth-token-1"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["person"]["email"] == "bearer@example.com"
    # The token is no API key: sent as x-api-key it is refused.
    refused = requests.get(
        f"{base_url}/api/v1/organizations/enrich",
        params={"domain": "apollo.io"},
        headers={"x-api-key": "oauth-token-1"},
        timeout=10,
    )
    assert refused.status_code == 401 and refused.text == UNAUTHORIZED


def test_oauth_token_follows_its_scopes(base_url: str, admin: str) -> None:
    entry = {
        "key": "oauth-scoped",
        "kind": "oauth_token",
        "team": "team-test",
        "plan": "professional",
        "credits": None,
        "scopes": ["api/v1/organizations/enrich"],
    }
    requests.post(f"{admin}/keys", json=entry, timeout=10).raise_for_status()
    headers = {"Authorization": "Bearer oauth-scoped"}
    allowed = requests.get(
        f"{base_url}/api/v1/organizations/enrich", params={"domain": "apollo.io"}, headers=headers, timeout=10
    )
    assert allowed.status_code == 200
    refused = requests.post(
        f"{base_url}/api/v1/people/match", json={"email": "x@example.com"}, headers=headers, timeout=10
    )
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "API_INACCESSIBLE"


def test_api_key_sent_as_bearer_stays_401(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "x@example.com"},
        headers={"Authorization": "Bearer test-key"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.text == UNAUTHORIZED
    assert response.headers["Content-Type"].startswith("text/plain")


def test_a_fractional_credit_price_gives_fractional_credits_consumed(base_url: str, admin: str) -> None:
    entry = {
        "key": "priced-key",
        "team": "team-priced",
        "plan": "professional",
        "credits": 100,
        "scopes": None,
        "credit_price": 0.5,
    }
    requests.post(f"{admin}/keys", json=entry, timeout=10).raise_for_status()
    response = requests.post(
        f"{base_url}/api/v1/people/bulk_match",
        json={"details": [{"email": f"priced{i}@price.test"} for i in range(3)]},
        headers={"x-api-key": "priced-key"},
        timeout=10,
    )
    body = response.json()
    assert body["unique_enriched_records"] == 3
    assert body["credits_consumed"] == 1.5
    usage = requests.get(f"{admin}/usage", timeout=10).json()
    assert next(t for t in usage["teams"] if t["team"] == "team-priced")["credits"]["spent"] == 1.5


def test_oauth_token_polls_webhook_results(base_url: str, admin: str) -> None:
    entry = {"key": "oauth-poll", "kind": "oauth_token", "team": "team-test", "plan": "professional"}
    requests.post(f"{admin}/keys", json={**entry, "credits": None, "scopes": None}, timeout=10)
    response = requests.get(
        f"{base_url}/api/v1/webhook_result/12345",
        headers={"Authorization": "Bearer oauth-poll"},
        timeout=10,
    )
    assert response.status_code == 404
    assert response.json() == {"error_code": "request_id_unknown"}
    refused = requests.get(
        f"{base_url}/api/v1/webhook_result/12345", headers={"Authorization": "Bearer test-key"}, timeout=10
    )
    assert refused.status_code == 401 and refused.text == UNAUTHORIZED
