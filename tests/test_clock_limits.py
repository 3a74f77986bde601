"""The clock stays in a window far from year 9999: a bad clock value is a 400, never a broken server."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from mock_server.domain.clock import Clock, ClockOutOfRange
from mock_server.stores.sqlite_store import SqliteStore
from tests.conftest import start_serve

WINDOW = "1970-01-01T00:00:00.000Z to 2200-01-01T00:00:00.000Z"
ADVANCE_RANGE = "'seconds' must be a finite number from 0 to 315360000 (ten years)"


def still_serves(base_url: str, admin: str) -> None:
    """An Apollo route and the control API both still answer 200."""
    answer = requests.post(
        f"{base_url}/api/v1/people/match",
        json={"email": "after@example.com"},
        headers={"x-api-key": "test-key"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()["person"] is not None
    assert requests.get(f"{admin}/clock", timeout=10).status_code == 200
    assert requests.post(f"{admin}/reset", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "instant", ["9999-12-31T23:59:59.5Z", "2200-01-01T00:00:01Z", "1969-12-31T23:59:59Z"]
)
def test_setting_the_clock_outside_its_window_is_a_400_naming_the_range(
    admin: str, base_url: str, instant: str
) -> None:
    before = requests.get(f"{admin}/clock", timeout=10).json()
    response = requests.post(f"{admin}/clock", json={"now": instant}, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"error": f"'now' must be an instant from {WINDOW}, got {instant!r}"}
    assert requests.get(f"{admin}/clock", timeout=10).json()["now"][:16] == before["now"][:16]
    still_serves(base_url, admin)


# NaN and the infinities are refused before any field is read (tests/test_hostile_json_values.py).
@pytest.mark.parametrize("raw", [b'{"seconds": 1e308}', b'{"seconds": -1e308}', b'{"seconds": 1e20}'])
def test_advancing_by_a_number_that_is_not_finite_or_too_large_is_a_400(
    admin: str, base_url: str, raw: bytes
) -> None:
    response = requests.post(
        f"{admin}/clock/advance", data=raw, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json() == {"error": ADVANCE_RANGE}
    still_serves(base_url, admin)


def test_advancing_past_the_end_of_the_window_is_a_400_and_the_clock_stays(admin: str, base_url: str) -> None:
    at = requests.post(f"{admin}/clock", json={"freeze": True, "now": "2199-12-01T00:00:00Z"}, timeout=10)
    assert at.status_code == 200
    response = requests.post(f"{admin}/clock/advance", json={"seconds": 86_400 * 365}, timeout=10)
    assert response.status_code == 400
    assert response.json() == {
        "error": f"'seconds' would move the clock past 2200-01-01T00:00:00.000Z:"
        f" the clock must stay between {WINDOW}"
    }
    assert requests.get(f"{admin}/clock", timeout=10).json()["now"] == "2199-12-01T00:00:00.000Z"
    still_serves(base_url, admin)


def test_the_clock_object_refuses_values_outside_its_window() -> None:
    clock = Clock(frozen=True)
    before = clock.timestamp()
    for seconds in (math.nan, math.inf, -1.0, 1e12):
        with pytest.raises(ClockOutOfRange):
            clock.advance(seconds)
    with pytest.raises(ClockOutOfRange):
        clock.set(datetime.max.replace(tzinfo=UTC))
    with pytest.raises(ClockOutOfRange):
        Clock(datetime(9999, 12, 31, tzinfo=UTC))
    assert clock.timestamp() == before


def test_a_broken_clock_in_a_state_file_is_not_restored_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    SqliteStore(state)
    with sqlite3.connect(state) as db:  # what an older version let through: frozen at year 9999
        db.execute("INSERT INTO clock (id, offset, frozen_at) VALUES (1, 0, 253402300799.5)")
    server = start_serve("--state-file", str(state))
    try:
        clock = requests.get(f"{server.url}/__admin/clock", timeout=10).json()
        assert clock["frozen"] is False and clock["now"] < "2200"
        still_serves(server.url, f"{server.url}/__admin")
    finally:
        server.stop()
