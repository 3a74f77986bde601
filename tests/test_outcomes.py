"""Every forced outcome, over real HTTP, chosen by header and by a queued scenario."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import requests

Check = Callable[[requests.Response], None]
GATEWAY = "text/html"


def _match(response: requests.Response) -> None:
    assert response.status_code == 200
    assert response.json()["person"]["id"]


def _no_match(response: requests.Response) -> None:
    assert response.status_code == 200
    assert response.json() == {"person": None}


def _partial(response: requests.Response) -> None:
    person = response.json()["person"]
    assert person["email"] is None or person["organization"] is None or person["employment_history"] == []


def _unauthorized(response: requests.Response) -> None:
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == "Invalid access credentials."
    assert "x-rate-limit-minute" not in response.headers


def _forbidden(response: requests.Response) -> None:
    assert response.status_code == 403
    assert response.json() == {
        "error": "api/v1/people/match is not accessible with this api_key",
        "error_code": "API_INACCESSIBLE",
    }


def _rate_limited(response: requests.Response) -> None:
    assert response.status_code == 429
    assert response.json() == {
        "message": "The maximum number of api calls allowed for api/v1/people/match is 1000 times per minute."
        " Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade?source=api_rate_limit.",
        "error_details": {"code": "USAGE.RATE_LIMIT.API_RATE_LIMIT_EXCEEDED"},
    }
    assert response.headers["x-rate-limit-minute"] == "1000"
    assert response.headers["x-minute-usage"] == "1000"
    assert response.headers["x-minute-requests-left"] == "0"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def _invalid_request(response: requests.Response) -> None:
    assert response.status_code == 422
    assert response.json() == {"error": "Parameters misconfigured - Not a valid ID"}


def _server_error(response: requests.Response) -> None:
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}


def _bad_gateway(response: requests.Response) -> None:
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith(GATEWAY)
    assert "502 Bad Gateway" in response.text


def _service_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith(GATEWAY)
    assert "503 Service Temporarily Unavailable" in response.text
    assert response.headers["Retry-After"] == "30"


def _malformed_json(response: requests.Response) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert response.text.startswith('{"person":')


ANSWERS: dict[str, tuple[str, Check]] = {
    "match": ("someone@nomatch.test", _match),
    "no_match": ("ada@example.com", _no_match),
    "partial": ("ada@example.com", _partial),
    "unauthorized": ("ada@example.com", _unauthorized),
    "forbidden": ("ada@example.com", _forbidden),
    "rate_limited": ("ada@example.com", _rate_limited),
    "invalid_request": ("ada@example.com", _invalid_request),
    "server_error": ("ada@example.com", _server_error),
    "bad_gateway": ("ada@example.com", _bad_gateway),
    "service_unavailable": ("ada@example.com", _service_unavailable),
    "malformed_json": ("ada@example.com", _malformed_json),
}


def _call(base_url: str, email: str, header: str | None = None, timeout: float = 10) -> requests.Response:
    headers = {"x-api-key": "test-key"}
    if header is not None:
        headers["X-Mock-Scenario"] = header
    return requests.post(
        f"{base_url}/api/v1/people/match", json={"email": email}, headers=headers, timeout=timeout
    )


@pytest.mark.parametrize("outcome", sorted(ANSWERS))
def test_outcome_by_header(admin: str, base_url: str, outcome: str) -> None:
    email, check = ANSWERS[outcome]
    check(_call(base_url, email, outcome))
    assert _call(base_url, "ada@example.com").status_code == 200  # only that one request


@pytest.mark.parametrize("outcome", sorted(ANSWERS))
def test_outcome_by_queued_scenario(admin: str, base_url: str, outcome: str) -> None:
    email, check = ANSWERS[outcome]
    requests.post(f"{admin}/scenarios", json={"outcome": outcome, "times": 1}, timeout=10).raise_for_status()
    check(_call(base_url, email))
    assert _call(base_url, "ada@example.com").status_code == 200


def _slow_check(response: requests.Response, started: float) -> None:
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_slow_by_header(admin: str, base_url: str) -> None:
    started = time.monotonic()
    _slow_check(_call(base_url, "ada@example.com", "slow; delay_ms=300"), started)


def test_slow_by_scenario(admin: str, base_url: str) -> None:
    requests.post(
        f"{admin}/scenarios", json={"outcome": "slow", "params": {"delay_ms": 300}, "times": 1}, timeout=10
    )
    started = time.monotonic()
    _slow_check(_call(base_url, "ada@example.com"), started)


def test_timeout_by_header_outlasts_the_client(admin: str, base_url: str) -> None:
    with pytest.raises(requests.exceptions.ReadTimeout):
        _call(base_url, "ada@example.com", "timeout; seconds=1", timeout=0.3)


def test_timeout_by_scenario_ends_in_a_gateway_timeout(admin: str, base_url: str) -> None:
    requests.post(
        f"{admin}/scenarios", json={"outcome": "timeout", "params": {"seconds": 0.5}, "times": 1}, timeout=10
    )
    response = _call(base_url, "ada@example.com", timeout=10)
    assert response.status_code == 504
    assert "504 Gateway Time-out" in response.text


def test_connection_reset_by_header(admin: str, base_url: str) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        _call(base_url, "ada@example.com", "connection_reset")
    assert _call(base_url, "ada@example.com").status_code == 200


def test_connection_reset_by_scenario(admin: str, base_url: str) -> None:
    requests.post(f"{admin}/scenarios", json={"outcome": "connection_reset", "times": 1}, timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):
        _call(base_url, "ada@example.com")
    assert _call(base_url, "ada@example.com").status_code == 200


def test_bulk_outcomes_use_bulk_bodies(admin: str, base_url: str) -> None:
    headers = {"x-api-key": "test-key", "X-Mock-Scenario": "invalid_request"}
    response = requests.post(
        f"{base_url}/api/v1/people/bulk_match", json={"details": [{"email": "a@b.com"}]}, headers=headers
    )
    assert response.status_code == 422
    assert response.json() == {
        "status": "failed",
        "error_code": "UNKNOWN_ERROR",
        "error_message": "no implicit conversion of Symbol into Integer",
    }
    headers["X-Mock-Scenario"] = "no_match"
    response = requests.post(
        f"{base_url}/api/v1/people/bulk_match",
        json={"details": [{"email": "a@b.com"}, {"email": "c@d.com"}]},
        headers=headers,
    )
    assert response.json()["matches"] == [None, None]
