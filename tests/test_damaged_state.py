"""Damaged rows in a sound state file, through `fakeapollo serve --state-file`.

Each is set aside with a warning line naming it and the rest of the state is kept: never a
traceback at start, never a lasting 500.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import requests

from mock_server.domain.store import MemoryStore
from mock_server.domain.webhooks.delivery import Delivery
from mock_server.stores.sqlite_store import SqliteStore
from tests.conftest import ServeProcess, people_match, start_serve
from tests.webhook_helpers import stored_delivery

ADDED_KEY = {"key": "added-key-1", "team": "team-added", "plan": "basic", "credits": 5, "scopes": None}


def state_file(path: Path) -> Path:
    """A state file as a server leaves it: deliveries, clock, keys, journal, a scenario, counters."""
    store = SqliteStore(path)
    store.add_delivery(stored_delivery("1:phone", due_at=4_000_000_000.0))
    store.add_delivery(stored_delivery("2:phone", due_at=4_000_000_000.0))
    store.clock_state.save(0.0, 1_800_000_000.0)
    store.set_document("keys", [*json.loads(Path("fixtures/keys.json").read_text())["keys"], ADDED_KEY])
    store.scenarios.add({"outcome": "no_match"})
    store.incr("credits:team-test", 3)
    memory = MemoryStore()  # a journal entry as the server writes it
    memory.journal.record(_entry())
    store.journal.record(memory.journal.entries()[0])
    store.close()
    return path


def _entry() -> object:
    from datetime import UTC, datetime

    from mock_server.domain.journal import Entry

    return Entry(
        sequence=1,
        time=datetime(2027, 1, 1, tzinfo=UTC),
        method="GET",
        path="/api/v1/auth/health",
        query={},
        headers={},
        body=None,
        status=200,
        response_text="{}",
        response_type="application/json",
        duration_ms=1.0,
    )


def damage(path: Path, sql: str) -> None:
    """Write into the file behind fakeapollo's back."""
    with sqlite3.connect(path) as db:
        assert db.execute(sql).rowcount == 1
    db.close()


def still_serves(server: ServeProcess) -> None:
    """Every kind of route answers without a 5xx."""
    assert people_match(server.url).status_code == 200
    for path in ("requests", "clock", "scenarios", "keys", "usage", "webhooks"):
        response = requests.get(f"{server.url}/__admin/{path}", timeout=30)
        assert response.status_code == 200, (path, response.text)


DAMAGES = {
    "deliveries": (
        "UPDATE deliveries SET doc = 'not json {' WHERE id = '1:phone'",
        "deliveries row '1:phone'",
    ),
    "delivery_fields": (
        "UPDATE deliveries SET doc = json_set(doc, '$.due_at', 'soon') WHERE id = '1:phone'",
        "deliveries row '1:phone'",
    ),
    "clock": ("UPDATE clock SET offset = 'abc'", "clock row '1'"),
    "keys_not_json": ("UPDATE documents SET doc = '[{' WHERE name = 'keys'", "documents row 'keys'"),
    "keys_not_keys": (
        "UPDATE documents SET doc = '[{\"key\": 5}]' WHERE name = 'keys'",
        "documents row 'keys'",
    ),
    # A registry an older fakeapollo let through: a team no store or generator can encode.
    "keys_lone_surrogate_team": (
        "UPDATE documents SET doc = '[{\"key\": \"sk1\", \"team\": \"\\ud800\", \"plan\": \"free\","
        " \"credits\": 5, \"scopes\": null}]' WHERE name = 'keys'",
        "documents row 'keys'",
    ),
    "journal": ("UPDATE journal SET doc = 'garbage'", "journal row '"),
    "scenarios": ("UPDATE scenarios SET doc = '{}'", "scenarios row 'scn_1'"),
    "counters": (
        "UPDATE counters SET value = 'lots' WHERE key = 'credits:team-test'",
        "counters row 'credits:team-test'",
    ),
    # Finite but past what SQLite's 64-bit INTEGER holds: every journaled call answered a 500.
    "journal_sequence_past_64_bits": (
        "INSERT OR REPLACE INTO counters (key, value) VALUES ('journal_sequence', 1e300)",
        "counters row 'journal_sequence'",
    ),
    "journal_sequence_not_whole": (
        "INSERT OR REPLACE INTO counters (key, value) VALUES ('journal_sequence', 2.5)",
        "counters row 'journal_sequence'",
    ),
    "scenario_sequence_negative": (
        "INSERT OR REPLACE INTO counters (key, value) VALUES ('scenario_sequence', -3)",
        "counters row 'scenario_sequence'",
    ),
    "delivery_sequence_past_64_bits": (
        "UPDATE counters SET value = 1e19 WHERE key = 'delivery_sequence'",
        "counters row 'delivery_sequence'",
    ),
    "credits_past_64_bits": (
        "UPDATE counters SET value = -1e300 WHERE key = 'credits:team-test'",
        "counters row 'credits:team-test'",
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGES))
def test_a_damaged_row_is_set_aside_with_one_warning_naming_it(tmp_path: Path, case: str) -> None:
    path = state_file(tmp_path / "state.sqlite3")
    sql, named = DAMAGES[case]
    damage(path, sql)
    server = start_serve("--state-file", str(path))
    try:
        assert "Traceback" not in server.before_banner
        warnings = [line for line in server.before_banner.splitlines() if line.strip()]
        assert len(warnings) == 1, server.before_banner
        assert warnings[0].startswith(f"fakeapollo: warning: state file {path}: {named}")
        assert "is damaged" in warnings[0] and "set aside" in warnings[0]
        still_serves(server)
        deliveries = requests.get(f"{server.url}/__admin/webhooks", timeout=30).json()["deliveries"]
        assert "2:phone" in [d["id"] for d in deliveries]  # the rest of the state is kept
    finally:
        server.stop()
    with sqlite3.connect(path) as db:
        assert [row[0] for row in db.execute("SELECT tbl FROM set_aside")] == [named.split()[0]]
    db.close()


def test_an_undamaged_state_file_starts_without_a_warning_and_keeps_everything(tmp_path: Path) -> None:
    path = state_file(tmp_path / "state.sqlite3")
    server = start_serve("--state-file", str(path))
    try:
        assert server.before_banner.strip() == ""
        assert people_match(server.url, ADDED_KEY["key"]).status_code == 200
        assert requests.get(f"{server.url}/__admin/clock", timeout=30).json()["frozen"] is True
        assert len(requests.get(f"{server.url}/__admin/webhooks", timeout=30).json()["deliveries"]) == 2
    finally:
        server.stop()


def test_a_key_registry_damaged_while_serving_falls_back_to_the_start_up_keys(tmp_path: Path) -> None:
    path = state_file(tmp_path / "state.sqlite3")
    server = start_serve("--state-file", str(path))
    try:
        assert people_match(server.url, ADDED_KEY["key"]).status_code == 200
        damage(path, "UPDATE documents SET doc = '[{\"key\": 5}]' WHERE name = 'keys'")
        for _ in range(3):
            assert people_match(server.url).status_code == 200  # a start-up key; never a 500
        assert people_match(server.url, ADDED_KEY["key"]).status_code == 401
    finally:
        server.stop()


def test_the_delivery_reader_names_what_is_wrong() -> None:
    good = stored_delivery("x").document()
    assert Delivery.from_document(good) == stored_delivery("x")
    for broken, problem in (
        ([], "must be a JSON object"),
        ({k: v for k, v in good.items() if k != "team"}, "needs 'team'"),
        ({**good, "status": "lost"}, "'status'"),
        ({**good, "due_at": float("nan")}, "'due_at'"),
        ({**good, "attempts": "none"}, "'attempts'"),
    ):
        with pytest.raises(ValueError, match=problem):
            Delivery.from_document(broken)
