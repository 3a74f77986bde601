"""Apollo's answer headers and wordings over HTTP (docs/apollo-facts.md 2.5, 2.7, 3.4)."""

from __future__ import annotations

import re
import uuid

import requests
from webhook_helpers import emulator

JSON_UTF8 = "application/json; charset=utf-8"
FRESH = "max-age=0, private, must-revalidate"
WEAK_ETAG = re.compile(r'W/"[0-9a-f]{32}"')
OAUTH_SCOPED = {
    "key": "oauth-headers",
    "kind": "oauth_token",
    "team": "team-test",
    "plan": "professional",
    "credits": None,
    "scopes": ["api/v1/organizations/enrich"],
}


def _is_uuid4(text: str) -> bool:
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == text


def _assert_apollo_200(response: requests.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_UTF8
    assert response.headers["cache-control"] == FRESH
    assert WEAK_ETAG.fullmatch(response.headers["etag"]), response.headers["etag"]
    assert _is_uuid4(response.headers["x-transaction-id"]), response.headers["x-transaction-id"]


def _assert_apollo_error(response: requests.Response) -> None:
    assert response.headers["Content-Type"] == JSON_UTF8
    assert response.headers["cache-control"] == "no-cache"
    assert "etag" not in response.headers and "x-transaction-id" not in response.headers


def test_a_match_carries_apollos_headers_in_the_recorded_order(api: requests.Session, base_url: str) -> None:
    response = api.post(f"{base_url}/api/v1/people/match", json={"email": "header.order@example.com"})
    _assert_apollo_200(response)
    names = [name.lower() for name in response.raw.headers]
    # cache-control and etag before the rate-limit headers, x-transaction-id after (tests/data/recorded).
    assert names.index("cache-control") < names.index("etag") < names.index("x-rate-limit-minute")
    assert names.index("x-minute-requests-left") < names.index("x-transaction-id")


def test_every_enrichment_operation_answers_with_the_headers(api: requests.Session, base_url: str) -> None:
    answers = [
        api.post(f"{base_url}/api/v1/people/bulk_match", json={"details": [{"email": "bulk.h@example.com"}]}),
        api.get(f"{base_url}/api/v1/organizations/enrich", params={"domain": "apollo.io"}),
        api.post(f"{base_url}/v1/organizations/bulk_enrich", json={"domains": ["apollo.io"]}),
    ]
    for response in answers:
        _assert_apollo_200(response)


def test_transaction_ids_differ_and_the_etag_follows_the_body(api: requests.Session, base_url: str) -> None:
    url = f"{base_url}/api/v1/organizations/enrich"
    first, again = (api.get(url, params={"domain": "apollo.io"}) for _ in range(2))
    other = api.get(url, params={"domain": "stripe.com"})
    assert first.content == again.content
    assert first.headers["etag"] == again.headers["etag"]
    assert first.headers["x-transaction-id"] != again.headers["x-transaction-id"]
    assert other.content != first.content and other.headers["etag"] != first.headers["etag"]


def test_head_carries_the_headers_of_a_200_but_no_etag(api: requests.Session, base_url: str) -> None:
    response = api.head(f"{base_url}/api/v1/organizations/enrich", params={"domain": "apollo.io"})
    assert response.status_code == 200 and response.content == b""
    assert response.headers["Content-Type"] == JSON_UTF8
    assert response.headers["cache-control"] == FRESH
    assert _is_uuid4(response.headers["x-transaction-id"])
    assert "etag" not in response.headers


def test_an_api_keys_forced_403_names_the_api_key_without_fresh_headers(
    api: requests.Session, base_url: str
) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "forbidden.h@example.com"},
        headers={"X-Mock-Scenario": "forbidden"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "api/v1/people/match is not accessible with this api_key",
        "error_code": "API_INACCESSIBLE",
    }
    _assert_apollo_error(response)


def test_an_oauth_token_outside_its_scope_gets_the_access_token_403(base_url: str, admin: str) -> None:
    requests.post(f"{admin}/keys", json=OAUTH_SCOPED, timeout=10).raise_for_status()
    headers = {"Authorization": "Bearer oauth-headers"}
    response = requests.post(
        f"{base_url}/api/v1/people/match", json={"email": "x@example.com"}, headers=headers, timeout=10
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "api/v1/people/match is not accessible with this access token",
        "error_code": "API_INACCESSIBLE",
    }
    _assert_apollo_error(response)
    assert "x-rate-limit-minute" not in response.headers
    forced = requests.get(
        f"{base_url}/api/v1/organizations/enrich",
        params={"domain": "apollo.io"},
        headers={**headers, "X-Mock-Scenario": "forbidden"},
        timeout=10,
    )
    assert forced.status_code == 403
    assert forced.json() == {
        "error": "api/v1/organizations/enrich is not accessible with this access token",
        "error_code": "API_INACCESSIBLE",
    }


def test_an_oauth_token_on_a_blocked_free_plan_gets_the_recorded_wording() -> None:
    token = {**OAUTH_SCOPED, "key": "oauth-free", "plan": "free", "scopes": None}
    with emulator(free_plan_blocked=True) as emu:
        emu.http.post(f"{emu.url}/__admin/keys", json=token).raise_for_status()
        response = requests.post(
            f"{emu.url}/api/v1/people/match",
            json={"email": "ada@example.com"},
            headers={"Authorization": "Bearer oauth-free"},
            timeout=10,
        )
    assert response.status_code == 403
    assert response.json() == {
        "error": "api/v1/people/match is not accessible with this access token on a free plan."
        " Please upgrade your plan from https://app.apollo.io/.",
        "error_code": "API_INACCESSIBLE",
    }


def test_a_429_links_with_the_rate_limit_source(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "limited.h@example.com"},
        headers={"X-Mock-Scenario": "rate_limited"},
    )
    assert response.status_code == 429
    assert response.json()["message"].endswith(
        "Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade?source=api_rate_limit."
    )
    _assert_apollo_error(response)
    assert response.headers["x-minute-requests-left"] == "0"


def test_the_control_api_keeps_its_own_plain_json_type(base_url: str, admin: str) -> None:
    response = requests.get(f"{admin}/keys", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "x-transaction-id" not in response.headers
