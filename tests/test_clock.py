"""The clock: frozen, advanced and set time, and listeners that run what falls due."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mock_server.domain.clock import Clock, parse_instant

START = datetime(2026, 1, 8, 8, 5, 49, tzinfo=UTC)


def test_frozen_clock_stands_still_until_advanced() -> None:
    clock = Clock(START, frozen=True)
    assert clock.now() == START
    clock.advance(61.5)
    assert (clock.now() - START).total_seconds() == 61.5


def test_running_clock_keeps_its_offset_after_advance() -> None:
    clock = Clock(START)
    clock.advance(3600)
    assert 3600 <= (clock.now() - START).total_seconds() < 3660


def test_unfreeze_resumes_from_the_frozen_instant() -> None:
    clock = Clock(START, frozen=True)
    clock.unfreeze()
    assert not clock.frozen
    assert 0 <= (clock.now() - START).total_seconds() < 5


def test_advance_notifies_listeners_before_returning() -> None:
    clock = Clock(START, frozen=True)
    seen: list[datetime] = []
    clock.subscribe(seen.append)
    clock.advance(10)
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert seen == [parse_instant("2026-01-08T08:05:59Z"), datetime(2027, 1, 1, tzinfo=UTC)]


def test_cannot_advance_backwards() -> None:
    with pytest.raises(ValueError):
        Clock(START).advance(-1)


def test_reset_returns_to_the_initial_state() -> None:
    clock = Clock(START, frozen=True)
    clock.advance(100)
    clock.reset()
    assert clock.now() == START


def test_iso_uses_z_suffix() -> None:
    assert Clock.iso(START) == "2026-01-08T08:05:49.000Z"
