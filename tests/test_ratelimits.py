"""Rate limits over real HTTP: Apollo's headers, the exact 429, Retry-After by the clock, plans."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import ServeProcess, key_registry, start_serve

LIMIT_429 = (
    "The maximum number of api calls allowed for {endpoint} is {limit} times per {window}."
    " Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade?source=api_rate_limit."
)
WINDOW_HEADERS = {
    "minute": ("x-rate-limit-minute", "x-minute-usage", "x-minute-requests-left"),
    "hour": ("x-rate-limit-hourly", "x-hourly-usage", "x-hourly-requests-left"),
    "day": ("x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left"),
}


@pytest.fixture
def frozen(admin: str) -> str:
    """The control API, with the clock frozen at the start of a minute."""
    requests.post(f"{admin}/clock", json={"freeze": True, "now": "2026-06-01T10:00:00Z"}, timeout=10)
    return admin


def match(base_url: str, key: str = "test-key", session: requests.Session | None = None) -> requests.Response:
    """POST people/match for a generated person."""
    http = session or requests
    return http.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "rate@example.com"},
        headers={"x-api-key": key},
        timeout=30,
    )


def assert_window(response: requests.Response, window: str, limit: int, usage: int) -> None:
    """The response carries Apollo's three headers for `window`."""
    limit_h, usage_h, left_h = WINDOW_HEADERS[window]
    assert response.headers[limit_h] == str(limit)
    assert response.headers[usage_h] == str(usage)
    assert response.headers[left_h] == str(max(limit - usage, 0))


def test_paid_plan_answers_carry_only_the_minute_window(frozen: str, base_url: str) -> None:
    response = match(base_url)
    assert_window(response, "minute", 1000, 1)
    for window in ("hour", "day"):
        assert WINDOW_HEADERS[window][0] not in response.headers


def test_free_plan_organization_enrich_carries_every_window(frozen: str, base_url: str) -> None:
    response = requests.get(
        f"{base_url}/api/v1/organizations/enrich",
        params={"domain": "apollo.io"},
        headers={"x-api-key": "free-plan-key"},
    )
    assert response.status_code == 200
    assert_window(response, "minute", 50, 1)
    assert_window(response, "hour", 200, 1)
    assert_window(response, "day", 600, 1)


def test_401_and_403_carry_no_rate_limit_headers(frozen: str, base_url: str) -> None:
    forbidden = requests.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "rate@example.com"},
        headers={"x-api-key": "test-key", "X-Mock-Scenario": "forbidden"},
        timeout=30,
    )
    for response in (match(base_url, "wrong-key"), forbidden):
        assert response.status_code in (401, 403)
        assert not [h for h in response.headers if h.lower().startswith("x-") and "minute" in h.lower()]


def test_bulk_match_gets_half_the_minute_limit(frozen: str, base_url: str) -> None:
    response = requests.post(
        f"{base_url}/api/v1/people/bulk_match",
        json={"details": [{"email": "a@example.com"}]},
        headers={"x-api-key": "test-key"},
    )
    assert_window(response, "minute", 500, 1)


def test_the_1001st_call_in_a_minute_gets_apollos_429(frozen: str, base_url: str) -> None:
    requests.post(f"{frozen}/clock", json={"now": "2026-06-01T10:00:20Z"}, timeout=10)
    with requests.Session() as session:
        statuses = [match(base_url, session=session).status_code for _ in range(1000)]
        assert statuses == [200] * 1000
        refused = match(base_url, session=session)
    assert refused.status_code == 429
    assert refused.json() == {
        "message": LIMIT_429.format(endpoint="api/v1/people/match", limit=1000, window="minute"),
        "error_details": {"code": "USAGE.RATE_LIMIT.API_RATE_LIMIT_EXCEEDED"},
    }
    assert_window(refused, "minute", 1000, 1000)
    assert refused.headers["Retry-After"] == "40"  # the window ends at 10:01:00, by the clock
    requests.post(f"{frozen}/clock/advance", json={"seconds": 39}, timeout=10)
    assert match(base_url).status_code == 429
    requests.post(f"{frozen}/clock/advance", json={"seconds": 1}, timeout=10)
    after = match(base_url)
    assert after.status_code == 200
    assert_window(after, "minute", 1000, 1)


def test_free_plan_hourly_window_is_enforced(frozen: str, base_url: str) -> None:
    url = f"{base_url}/api/v1/organizations/enrich"
    headers = {"x-api-key": "free-plan-key"}
    # Each organization costs a credit (Apollo's OpenAPI): enough of them to reach the hourly limit.
    requests.patch(f"{frozen}/keys/free-plan-key", json={"credits": 1000}, timeout=10).raise_for_status()
    with requests.Session() as session:
        for minute in range(4):
            for _ in range(50):
                assert session.get(url, params={"domain": "apollo.io"}, headers=headers).status_code == 200
            if minute < 3:
                requests.post(f"{frozen}/clock/advance", json={"seconds": 60}, timeout=10)
        requests.post(f"{frozen}/clock/advance", json={"seconds": 60}, timeout=10)
        refused = session.get(url, params={"domain": "apollo.io"}, headers=headers)
    assert refused.status_code == 429
    assert refused.json()["message"] == LIMIT_429.format(
        endpoint="api/v1/organizations/enrich", limit=200, window="hour"
    )
    assert refused.headers["Retry-After"] == str(3600 - 4 * 60)


def test_keys_of_one_team_share_its_limits(tmp_path: Path) -> None:
    keys = key_registry(
        tmp_path,
        {
            "key": "alpha-key",
            "team": "shared",
            "plan": "custom",
            "credits": None,
            "scopes": None,
            "limits": {"minute": 3, "hour": None, "day": None},
        },
        {
            "key": "beta-key",
            "team": "shared",
            "plan": "custom",
            "credits": None,
            "scopes": None,
            "limits": {"minute": 3, "hour": None, "day": None},
        },
    )
    server = start_serve("--keys", str(keys))
    try:
        requests.post(f"{server.url}/__admin/clock", json={"freeze": True, "now": "2026-01-01T00:00:00Z"})
        statuses = [
            match(server.url, key).status_code for key in ("alpha-key", "beta-key", "alpha-key", "beta-key")
        ]
        assert statuses == [200, 200, 200, 429]
    finally:
        server.stop()


# A team whose minute allows BURST_LIMIT calls: 50 concurrent clients ask for half as many again.
BURST_LIMIT = 100
BURST_CLIENTS = 50
BURST_EACH = 3


def _burst(server_url: str, key: str) -> list[int]:
    """50 concurrent clients send 150 requests on one team; the statuses they got."""
    requests.post(f"{server_url}/__admin/reset", timeout=30).raise_for_status()
    requests.post(
        f"{server_url}/__admin/clock", json={"freeze": True, "now": "2026-01-01T00:00:00Z"}, timeout=30
    )

    def client(n: int) -> list[int]:
        with requests.Session() as session:
            return [match(server_url, key, session=session).status_code for _ in range(BURST_EACH)]

    with ThreadPoolExecutor(max_workers=BURST_CLIENTS) as pool:
        return [status for statuses in pool.map(client, range(BURST_CLIENTS)) for status in statuses]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 4])
def test_limits_are_exact_under_concurrency(workers: int, tmp_path: Path) -> None:
    keys = key_registry(
        tmp_path,
        {
            "key": "burst-key",
            "team": "burst",
            "plan": "custom",
            "credits": None,
            "scopes": None,
            "limits": {"minute": BURST_LIMIT, "hour": None, "day": None},
        },
    )
    server: ServeProcess = start_serve("--workers", str(workers), "--threads", "16", "--keys", str(keys))
    try:
        statuses = _burst(server.url, "burst-key")
        assert len(statuses) == BURST_CLIENTS * BURST_EACH
        assert statuses.count(200) == BURST_LIMIT
        assert statuses.count(429) == BURST_CLIENTS * BURST_EACH - BURST_LIMIT
        usage = requests.post(
            f"{server.url}/api/v1/usage_stats/api_usage_stats", headers={"x-api-key": "burst-key"}, timeout=30
        ).json()
        assert usage['["api/v1/people", "match"]']["minute"] == {
            "limit": BURST_LIMIT,
            "consumed": BURST_LIMIT,
            "left_over": 0,
        }
    finally:
        server.stop()
