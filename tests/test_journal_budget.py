"""The journal keeps to an entry count and a byte budget, in both stores, and is read in pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server.domain.journal import Entry, entry_size
from mock_server.domain.store import MemoryStore, Store
from mock_server.stores.redis_store import RedisStore
from mock_server.stores.sqlite_store import SqliteStore
from tests.conftest import ServeProcess, serving

MATCH = "/api/v1/people/match"


@contextmanager
def make_store(request: pytest.FixtureRequest, folder: Path, journal_bytes: int) -> Iterator[Store]:
    """The store `request.param` names, whose journal holds 100 entries and `journal_bytes`."""
    if request.param == "memory":
        yield MemoryStore(journal_size=100, journal_bytes=journal_bytes)
    elif request.param == "sqlite":
        yield SqliteStore(folder / "state.sqlite3", journal_size=100, journal_bytes=journal_bytes)
    else:
        shared = RedisStore(
            request.getfixturevalue("redis_url"),
            prefix=f"test-{uuid.uuid4().hex}",
            journal_size=100,
            journal_bytes=journal_bytes,
        )
        yield shared
        shared.close()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def small_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend with room for 100 entries but only 20,000 bytes."""
    with make_store(request, tmp_path, 20_000) as store:
        yield store


@pytest.fixture(params=["memory", "sqlite", "redis"])
def roomy_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend with room for 100 entries and bytes to spare."""
    with make_store(request, tmp_path, 10_000_000) as store:
        yield store


def entry(store: Store, text: str) -> Entry:
    """A journal entry whose response holds `text`."""
    body = text.encode()
    return Entry(
        sequence=store.journal.next_sequence(),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        method="POST",
        path=MATCH,
        query={},
        headers={},
        body={},
        status=200,
        response_text=text,
        response_type="text/plain",
        duration_ms=1.0,
        size=entry_size(0, body),
    )


def test_the_oldest_entries_go_when_the_bytes_run_out(small_store: Store) -> None:
    for _ in range(30):
        small_store.journal.record(entry(small_store, "x" * 3_000))
    kept = small_store.journal.entries()
    usage = small_store.journal.usage()
    assert 1 < len(kept) < 10
    assert usage.entries == len(kept) and usage.bytes <= 20_000
    assert kept[-1].sequence == 30
    assert [e.sequence for e in kept] == list(range(31 - len(kept), 31))


def test_the_newest_entry_stays_however_large(small_store: Store) -> None:
    small_store.journal.record(entry(small_store, "small"))
    small_store.journal.record(entry(small_store, "y" * 50_000))
    assert [e.sequence for e in small_store.journal.entries()] == [2]


def test_the_entry_count_still_bounds_small_entries(roomy_store: Store) -> None:
    for _ in range(130):
        roomy_store.journal.record(entry(roomy_store, "z"))
    assert roomy_store.journal.usage().entries == 100
    assert roomy_store.journal.entries()[0].sequence == 31


@pytest.fixture(scope="module")
def budgeted() -> Iterator[ServeProcess]:
    """A server whose journal may hold 64 KiB."""
    with serving("--journal-bytes", "65536") as server:
        yield server


def journal_page(url: str, **params: Any) -> dict[str, Any]:
    """One page of GET /__admin/requests."""
    response = requests.get(f"{url}/__admin/requests", params=params, timeout=10)
    assert response.status_code == 200
    page: dict[str, Any] = response.json()
    return page


def test_large_bodies_over_http_keep_the_journal_within_its_bytes(budgeted: ServeProcess) -> None:
    requests.post(f"{budgeted.url}/__admin/reset", timeout=10)
    for number in range(40):
        requests.post(
            budgeted.url + MATCH,
            json={"email": f"p{number}@example.com", "note": "n" * 8_000},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )
    page = journal_page(budgeted.url)
    assert page["journal"]["max_bytes"] == 65_536
    assert page["journal"]["bytes"] <= 65_536
    assert 1 < len(page["requests"]) < 40
    assert page["requests"][-1]["body"]["email"] == "p39@example.com"


def test_pages_walk_back_through_the_journal(budgeted: ServeProcess) -> None:
    requests.post(f"{budgeted.url}/__admin/reset", timeout=10)
    for number in range(7):
        requests.post(
            budgeted.url + MATCH,
            json={"email": f"page{number}@example.com"},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )
    seen: list[str] = []
    page = journal_page(budgeted.url, limit=3)
    pages = 1
    while True:
        seen = [r["body"]["email"] for r in page["requests"]] + seen
        if page["next_cursor"] is None:
            break
        page = journal_page(budgeted.url, limit=3, cursor=page["next_cursor"])
        pages += 1
    assert pages == 3
    assert seen == [f"page{n}@example.com" for n in range(7)]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("limit=-1", "'limit' must be an integer of at least 0, got '-1'"),
        ("cursor=0", "'cursor' must be an integer of at least 1, got '0'"),
        ("limit=" + "9" * 5000, "'limit' must be an integer of at least 0, got '" + "9" * 40 + "'"),
    ],
)
def test_a_bad_page_argument_is_a_400(budgeted: ServeProcess, query: str, error: str) -> None:
    response = requests.get(f"{budgeted.url}/__admin/requests?{query}", timeout=10)
    assert response.status_code == 400
    assert response.json() == {"error": error}
