"""Authentication and authorization over HTTP, Apollo's exact bodies (docs/apollo-facts.md 1.3, 2.4, 2.5)."""

from __future__ import annotations

import pytest
import requests
from webhook_helpers import emulator

from tests.conftest import start_serve

UNAUTHORIZED = "Invalid access credentials."
KEY_NOT_IN_HEADER = {"error": "API key must be passed in the X-Api-Key header for security reasons"}


def _assert_401(response: requests.Response) -> None:
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == UNAUTHORIZED


def test_missing_key_gets_401_with_plain_text_body(base_url: str) -> None:
    _assert_401(requests.post(f"{base_url}/api/v1/people/match", params={"email": "a@b.com"}))


def test_unknown_key_gets_401(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/api/v1/people/match", json={"email": "a@b.com"}, headers={"x-api-key": "nope"}
    )
    _assert_401(response)


@pytest.mark.parametrize("header", ["x-api-key", "X-Api-Key", "X-API-KEY", "x-Api-kEy"])
def test_key_header_name_is_case_insensitive(base_url: str, header: str) -> None:
    response = requests.post(
        f"{base_url}/api/v1/people/match", json={"email": "ada@example.com"}, headers={header: "test-key"}
    )
    assert response.status_code == 200
    assert response.json()["person"]["email"] == "ada@example.com"


def test_api_key_as_bearer_token_gets_401(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "ada@example.com"},
        headers={"Authorization": "Bearer test-key"},
    )
    _assert_401(response)


def test_api_key_in_body_gets_422(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/api/v1/people/match", json={"email": "ada@example.com", "api_key": "test-key"}
    )
    assert response.status_code == 422
    assert response.json() == KEY_NOT_IN_HEADER


def test_api_key_in_query_string_gets_422(base_url: str) -> None:
    response = requests.get(
        f"{base_url}/v1/organizations/enrich", params={"domain": "apollo.io", "api_key": "test-key"}
    )
    assert response.status_code == 422
    assert response.json() == KEY_NOT_IN_HEADER


def test_legacy_api_key_mode_accepts_key_in_body() -> None:
    server = start_serve("--legacy-api-key")
    try:
        response = requests.post(
            f"{server.url}/api/v1/people/match", json={"email": "ada@example.com", "api_key": "test-key"}
        )
        assert response.status_code == 200
        assert response.json()["person"]["email"] == "ada@example.com"
        wrong = requests.post(
            f"{server.url}/api/v1/people/match", json={"email": "ada@example.com", "api_key": "bad"}
        )
        _assert_401(wrong)
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [("people/match", "api/v1/people/match"), ("people/bulk_match", "api/v1/people/bulk_match")],
)
def test_free_plan_key_gets_403_for_enrichment_when_blocked(path: str, endpoint: str) -> None:
    # docs/apollo-facts.md 2.5: the older reports' answer, behind --free-plan-blocked.
    with emulator(free_plan_blocked=True) as emu:
        response = emu.http.post(
            f"{emu.url}/api/v1/{path}",
            json={"email": "ada@example.com", "details": [{"email": "ada@example.com"}]},
            headers={"x-api-key": "free-plan-key"},
        )
    assert response.status_code == 403
    assert response.json() == {
        "error": f"The {endpoint} API is not included in your Free plan and is not accessible,"
        " even with a master key.",
        "error_code": "API_INACCESSIBLE",
    }


def test_free_plan_key_is_served_people_match_and_bulk_by_default(base_url: str) -> None:
    # docs/apollo-facts.md 2.5: a free-plan team's people/match answered 200 (recorded 2026-05), and the
    # 2026-10 bulk docs give free accounts access; bulk_match gets the recorded free limits (20/100/600).
    single = requests.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "ada@example.com"},
        headers={"x-api-key": "free-plan-key"},
    )
    assert single.status_code == 200 and single.headers["x-rate-limit-minute"] == "50"
    bulk = requests.post(
        f"{base_url}/api/v1/people/bulk_match",
        json={"details": [{"email": "ada@example.com"}]},
        headers={"x-api-key": "free-plan-key"},
    )
    assert bulk.status_code == 200
    limits = [bulk.headers[h] for h in ("x-rate-limit-minute", "x-rate-limit-hourly", "x-rate-limit-24-hour")]
    assert limits == ["20", "100", "600"]


def test_free_plan_key_may_enrich_organizations(base_url: str) -> None:
    response = requests.get(
        f"{base_url}/api/v1/organizations/enrich",
        params={"domain": "apollo.io"},
        headers={"x-api-key": "free-plan-key"},
    )
    assert response.status_code == 200
