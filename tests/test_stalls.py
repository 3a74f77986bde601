"""Nothing one request waits on holds up another: ordering checks, over real HTTP, on `fakeapollo serve`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import ServeProcess, start_serve

MATCH = "/api/v1/people/match"
TIMEOUT = 30


def _match(base_url: str, header: str | None = None, timeout: float = TIMEOUT) -> requests.Response:
    headers = {"x-api-key": "test-key"}
    if header is not None:
        headers["X-Mock-Scenario"] = header
    return requests.post(
        f"{base_url}{MATCH}", json={"email": "ada@example.com"}, headers=headers, timeout=timeout
    )


@pytest.fixture
def stateful(tmp_path: Path) -> Iterator[tuple[ServeProcess, Path]]:
    """`fakeapollo serve --state-file` and the path of its SQLite file."""
    path = tmp_path / "state.sqlite3"
    server = start_serve("--state-file", str(path))
    try:
        yield server, path
    finally:
        server.stop()


def test_the_control_api_and_openapi_answer_while_another_process_holds_the_write_lock(
    stateful: tuple[ServeProcess, Path],
) -> None:
    server, path = stateful
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what another worker's transaction does, held on purpose
    with ThreadPoolExecutor(4) as pool:
        waiting = [pool.submit(_match, server.url) for _ in range(3)]
        try:
            spec = requests.get(f"{server.url}/openapi.json", timeout=TIMEOUT)
            clock = requests.get(f"{server.url}/__admin/clock", timeout=TIMEOUT)
            assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
            assert clock.status_code == 200 and "now" in clock.json()
            assert not any(f.done() for f in waiting)  # the API calls wait for the lock meanwhile
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert [f.result().status_code for f in waiting] == [200, 200, 200]


def test_the_control_api_answers_while_eight_timeouts_are_held(admin: str, base_url: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        held: list[Future[requests.Response]] = [
            pool.submit(_match, base_url, "timeout; seconds=3") for _ in range(8)
        ]
        for _ in range(3):
            assert requests.get(f"{admin}/clock", timeout=TIMEOUT).status_code == 200
            assert _match(base_url).status_code == 200
        assert not any(f.done() for f in held)
        assert [f.result().status_code for f in held] == [504] * 8


def test_a_slow_answer_does_not_hold_up_the_requests_after_it(admin: str, base_url: str) -> None:
    requests.post(
        f"{admin}/scenarios",
        json={"outcome": "slow", "params": {"delay_ms": 2000}, "times": 1},
        timeout=TIMEOUT,
    ).raise_for_status()
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(_match, base_url)
        while not requests.get(f"{admin}/scenarios", timeout=TIMEOUT).json() == {"scenarios": []}:
            pass  # the slow request has taken its scenario
        quick = [_match(base_url) for _ in range(5)]
        assert not slow.done()
        assert [r.status_code for r in quick] == [200] * 5
        assert slow.result().status_code == 200


def test_a_scenario_queued_while_requests_are_in_flight_goes_to_exactly_one(
    admin: str, base_url: str
) -> None:
    start = threading.Barrier(17)

    def call(wait: bool = True) -> str:
        if wait:
            start.wait()
        try:
            return str(_match(base_url).status_code)
        except requests.exceptions.ConnectionError:
            return "reset"

    with ThreadPoolExecutor(16) as pool:
        calls = [pool.submit(call) for _ in range(16)]
        start.wait()
        requests.post(f"{admin}/scenarios", json={"outcome": "connection_reset", "times": 1}, timeout=TIMEOUT)
        results = [f.result() for f in calls]
    outcomes = results + [call(wait=False)]
    # Whoever comes first after the scenario is queued gets the reset; nobody else is touched.
    assert outcomes.count("reset") == 1
    assert outcomes.count("200") == 16
