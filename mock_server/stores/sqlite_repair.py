"""Damaged rows of a sound SQLite state file, set aside at start with one warning line each.

SQLite checks its own pages (`check_state_file`); this checks what fakeapollo wrote in them: a row
whose value cannot be read back (a delivery, the clock, the key registry, a journal entry, a
scenario, a counter) is moved to the table `set_aside` (table, row, reason) and the rest of the
state is kept. The emulator then starts as if that row had never been written.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mock_server.domain.clock import Clock, ClockOutOfRange, check_timestamp
from mock_server.domain.journal import entry_from_json, mask_secret
from mock_server.domain.keys import DOCUMENT as KEYS_DOCUMENT
from mock_server.domain.keys import check_stored_registry
from mock_server.domain.scenarios import scenario_from_json
from mock_server.domain.webhooks.delivery import STATUSES, Delivery
from mock_server.stores.sqlite_store import Database

SET_ASIDE = """
CREATE TABLE IF NOT EXISTS set_aside (
    tbl TEXT NOT NULL, row TEXT NOT NULL, reason TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT);
"""
# What reading a damaged value back raises.
DAMAGE = (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError)


def _number(value: Any) -> float:
    """A finite number stored as one; ValueError otherwise (SQLite keeps any value in any column)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r:.40}")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not an integer: {value!r:.40}")
    return value


def _delivery(row: tuple[Any, ...]) -> None:
    delivery_id, _, status, due_at, doc = row
    delivery = Delivery.from_document(json.loads(doc))
    if delivery.id != delivery_id:
        raise ValueError(f"its document is delivery {delivery.id!r}")
    if status not in STATUSES:
        raise ValueError(f"status {status!r:.40}")
    _number(due_at)


def _clock(row: tuple[Any, ...]) -> None:
    _, offset, frozen_at = row
    check_timestamp(Clock().timestamp() + _number(offset))  # a fresh clock: the real time
    if frozen_at is not None:
        check_timestamp(_number(frozen_at))


def _document(row: tuple[Any, ...]) -> None:
    name, doc = row
    document = json.loads(doc)
    if name == KEYS_DOCUMENT and document is not None:
        check_stored_registry(document)


def _journal(row: tuple[Any, ...]) -> None:
    _integer(row[0])
    entry_from_json(row[1]).describe(Clock.iso)


def _scenario(row: tuple[Any, ...]) -> None:
    scenario = scenario_from_json(row[2])
    if scenario.id != row[0]:
        raise ValueError(f"its document is scenario {scenario.id!r}")
    scenario.describe(mask_secret)


# Counters the store turns into row numbers or byte totals (SQLite INTEGER, signed 64-bit): a whole
# number from 0 up to 2**53, past which a REAL column no longer counts by one.
WHOLE_COUNTERS = frozenset({"journal_sequence", "journal_bytes", "scenario_sequence", "delivery_sequence"})
MAX_WHOLE = 2**53
# Any other counter (credits, fractional ones included) stays within the signed 64-bit range.
MAX_COUNTER = 2.0**63


def _counter(row: tuple[Any, ...]) -> None:
    key, value = row
    number = _number(value)
    if key in WHOLE_COUNTERS:
        if not number.is_integer() or not 0 <= number <= MAX_WHOLE:
            raise ValueError(f"not a whole number from 0 to 2**53: {value!r:.40}")
    elif abs(number) >= MAX_COUNTER:
        raise ValueError(f"outside the signed 64-bit range: {value!r:.40}")


def _window(row: tuple[Any, ...]) -> None:
    _integer(row[2])
    _integer(row[3])


# Each table fakeapollo reads back: its key column, and how one row is checked.
CHECKS: dict[str, tuple[str, Callable[[tuple[Any, ...]], None]]] = {
    "deliveries": ("id", _delivery),
    "clock": ("id", _clock),
    "documents": ("name", _document),
    "journal": ("seq", _journal),
    "scenarios": ("id", _scenario),
    "counters": ("key", _counter),
    "windows": ("scope || '/' || name", _window),
}


def set_aside_damaged(path: Path) -> list[str]:
    """Move every row of `path` that cannot be read back to `set_aside`; one warning line for each.

    The file must be sound for SQLite (`check_state_file`); its tables exist (a SqliteStore opened it).
    """
    database = Database(path)
    warnings: list[str] = []
    try:
        with database.write() as db:
            db.execute(SET_ASIDE)
            for table, (key, check) in CHECKS.items():
                rows = db.execute(f"SELECT {key}, * FROM {table}").fetchall()  # noqa: S608 - fixed names
                for name, *row in rows:
                    reason = _damage(check, tuple(row))
                    if reason is None:
                        continue
                    db.execute(
                        "INSERT INTO set_aside (tbl, row, reason) VALUES (?, ?, ?)",
                        (table, json.dumps([_plain(v) for v in row]), reason),
                    )
                    db.execute(f"DELETE FROM {table} WHERE {key} = ?", (name,))  # noqa: S608
                    warnings.append(
                        f"state file {path}: {table} row {str(name)[:60]!r} is damaged ({reason});"
                        " set aside in its table set_aside"
                    )
    finally:
        database.close()
    return warnings


def _damage(check: Callable[[tuple[Any, ...]], None], row: tuple[Any, ...]) -> str | None:
    """Why `row` cannot be read back, in a few words, or None."""
    try:
        check(row)
    except ClockOutOfRange as exc:
        return str(exc)
    except (*DAMAGE, json.JSONDecodeError, sqlite3.Error) as exc:
        return f"{type(exc).__name__}: {exc}"[:160]
    return None


def _plain(value: Any) -> Any:
    """A column's value as JSON can hold it."""
    return value.hex() if isinstance(value, bytes) else value
