"""people/bulk_match over real HTTP: positional matches, counters and Apollo's 400 bodies."""

from __future__ import annotations

import pytest
import requests

from mock_server.domain import data

MISSING_DETAILS = {
    "status": "failed",
    "error_code": "INVALID_REQUEST",
    "error_message": "invalid request, missing details",
}
TOO_MANY = {
    "status": "failed",
    "error_code": "RECORD_LIMIT_EXCEEDED",
    "error_message": "cannot enrich more than 10 in a single request",
}


def bulk(api: requests.Session, base_url: str, body: object) -> requests.Response:
    """POST bulk_match with a JSON body."""
    return api.post(f"{base_url}/api/v1/people/bulk_match", json=body)


def test_matches_are_positional_with_null_for_misses(api: requests.Session, base_url: str) -> None:
    details = [
        {"email": "first@example.com"},
        {"email": "nobody@nomatch.test"},
        {"name": "Only A Name"},
        {"email": "fourth@example.com"},
    ]
    body = bulk(api, base_url, {"details": details}).json()
    matches = body["matches"]
    assert len(matches) == 4
    assert matches[0]["email"] == "first@example.com"
    assert matches[1] is None
    assert matches[2] is None
    assert matches[3]["email"] == "fourth@example.com"
    assert body["status"] == "success"
    assert body["error_code"] is None and body["error_message"] is None
    assert body["total_requested_enrichments"] == 4
    assert body["unique_enriched_records"] == 2
    assert body["missing_records"] == 2
    assert body["credits_consumed"] == 2
    assert "request_id" not in body  # a standard bulk has none (docs/apollo-facts.md 5)


def test_bulk_match_agrees_with_single_match(api: requests.Session, base_url: str) -> None:
    single = api.post(f"{base_url}/api/v1/people/match", json={"email": "same@example.com"}).json()
    many = bulk(api, base_url, {"details": [{"email": "same@example.com"}]}).json()
    assert many["matches"][0] == single["person"]


def test_status_is_success_when_nobody_matched(api: requests.Session, base_url: str) -> None:
    body = bulk(api, base_url, {"details": [{"email": "x@nomatch.test"}]}).json()
    assert body["status"] == "success"
    assert body["matches"] == [None]
    assert body["unique_enriched_records"] == 0
    assert body["credits_consumed"] == 0


@pytest.mark.parametrize("body", [{}, {"details": []}, {"details": None}])
def test_missing_or_empty_details_get_apollos_400(api: requests.Session, base_url: str, body: object) -> None:
    response = bulk(api, base_url, body)
    assert response.status_code == 400
    assert response.json() == MISSING_DETAILS


def test_more_than_ten_details_get_apollos_400(api: requests.Session, base_url: str) -> None:
    details = [{"email": f"p{i}@example.com"} for i in range(11)]
    response = bulk(api, base_url, {"details": details})
    assert response.status_code == 400
    assert response.json() == TOO_MANY


def test_ten_details_are_fine(api: requests.Session, base_url: str) -> None:
    details = [{"email": f"p{i}@example.com"} for i in range(10)]
    response = bulk(api, base_url, {"details": details})
    assert response.status_code == 200
    assert len(response.json()["matches"]) == 10


def test_details_that_are_not_objects_get_apollos_unknown_error(api: requests.Session, base_url: str) -> None:
    response = bulk(api, base_url, {"details": [{"email": "a@example.com"}, "b@example.com"]})
    assert response.status_code == 422
    # Apollo's documented bulk 422 (OpenAPI): Ruby's TypeError for a string where an object belongs.
    assert response.json() == {
        "status": "failed",
        "error_code": "UNKNOWN_ERROR",
        "error_message": "no implicit conversion of Symbol into Integer",
    }


def test_waterfall_bulk_has_no_counters_and_no_emails(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/bulk_match",
        params={"run_waterfall_email": "true", "webhook_url": "http://127.0.0.1:9/hook"},
        json={"details": [{"email": "w@waterfall.test"}, {"email": "z@nomatch.test"}]},
    )
    body = response.json()
    assert response.status_code == 200
    for counter in ("unique_enriched_records", "missing_records", "credits_consumed"):
        assert counter not in body
    assert body["waterfall"]["status"] == "accepted"
    assert "email" not in body["matches"][0] and "email_status" not in body["matches"][0]
    # A waterfall miss is a stub person (docs/apollo-facts.md 5), not null.
    assert body["matches"][1]["match_confidence"] in ("none", "low") and body["matches"][1]["name"] == ""


def test_waterfall_misses_are_stubs_of_none_or_low_confidence(
    api: requests.Session, base_url: str, admin: str
) -> None:
    confidences: list[str] = []
    for batch in range(4):
        response = api.post(
            f"{base_url}/api/v1/people/bulk_match",
            params={"run_waterfall_phone": "true", "webhook_url": "http://127.0.0.1:9/hook"},
            json={"details": [{"email": f"miss{batch}.{i}@nomatch.test"} for i in range(10)]},
        )
        assert response.status_code == 200, response.text
        data.validate("people_bulk_match.response", response.json(), strict=True)
        for stub in response.json()["matches"]:
            assert stub["name"] == "" and stub["first_name"] == "" and stub["organization"]
            confidences.append(stub["match_confidence"])
    # Apollo's bulk docs (2026-10): "none" for a waterfall miss, "low" too; here "low" for a seeded 20%.
    assert set(confidences) == {"none", "low"}
    assert 2 <= confidences.count("low") <= 16, confidences
    usage = requests.get(f"{admin}/usage", timeout=10).json()["teams"]
    assert next(t for t in usage if t["team"] == "team-test")["credits"]["spent"] == 0
    forced = api.post(
        f"{base_url}/api/v1/people/bulk_match",
        params={"run_waterfall_phone": "true", "webhook_url": "http://127.0.0.1:9/hook"},
        json={"details": [{"email": f"miss0.{i}@nomatch.test"} for i in range(10)]},
        headers={"X-Mock-Scenario": "stub_no_match"},
    )
    assert {m["match_confidence"] for m in forced.json()["matches"]} == {"none"}


def test_bulk_phone_reveal_without_webhook_gets_400(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/bulk_match",
        params={"reveal_phone_number": "true"},
        json={"details": [{"email": "w@example.com"}]},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"
    }
