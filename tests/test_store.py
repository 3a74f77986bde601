"""The store backends: the same behaviour in memory, in SQLite and on a real Redis server.

This is the shared contract of the `Store` protocol: a new backend joins by adding its name to the
`store` fixture's params (skipping where its server is absent); every test here must then pass.
"""

from __future__ import annotations

import concurrent.futures
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mock_server.domain import store as store_module
from mock_server.domain.clock import Clock, ClockOutOfRange
from mock_server.domain.journal import Entry, mask_key
from mock_server.domain.store import MemoryStore, Store
from mock_server.stores.redis_store import RedisStore
from mock_server.stores.sqlite_store import SqliteStore
from tests.webhook_helpers import ids, stored_delivery


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend in turn; the Redis one on a real server, under a prefix of its own."""
    yield from open_store(request, tmp_path)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def small_journal_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend in turn, with a journal of 3 entries."""
    yield from open_store(request, tmp_path, journal_size=3)


def open_store(request: pytest.FixtureRequest, tmp_path: Path, journal_size: int = 1000) -> Iterator[Store]:
    """The backend `request.param` names, closed after the test."""
    if request.param == "memory":
        yield MemoryStore(journal_size=journal_size)
    elif request.param == "sqlite":
        yield SqliteStore(tmp_path / "state.sqlite3", journal_size=journal_size)
    else:
        url = request.getfixturevalue("redis_url")
        redis_store = RedisStore(url, prefix=f"test-{uuid.uuid4().hex}", journal_size=journal_size)
        yield redis_store
        redis_store.close()


def journal_entry(store: Store, path: str) -> Entry:
    """A journal entry for a request to `path`, numbered by the store."""
    return Entry(
        sequence=store.journal.next_sequence(),
        time=datetime(2026, 3, 1, tzinfo=UTC),
        method="POST",
        path=path,
        query={},
        headers={"x-api-key": "test-key"},
        body={"email": "ada@example.com"},
        status=200,
        response_text='{"person": null}',
        response_type="application/json",
        duration_ms=1.5,
    )


def test_the_journal_keeps_the_newest_entries_numbered_in_order(small_journal_store: Store) -> None:
    journal = small_journal_store.journal
    for n in range(5):
        journal.record(journal_entry(small_journal_store, f"/api/v1/call{n}"))
    kept = journal.entries()
    assert [e.path for e in kept] == ["/api/v1/call2", "/api/v1/call3", "/api/v1/call4"]
    assert [e.sequence for e in kept] == [3, 4, 5]
    assert kept[0].body == {"email": "ada@example.com"} and kept[0].time == datetime(2026, 3, 1, tzinfo=UTC)
    assert [e.path for e in journal.entries(path="/api/v1/call3")] == ["/api/v1/call3"]
    assert [e.path for e in journal.entries(limit=1)] == ["/api/v1/call4"]
    journal.clear()
    assert journal.entries() == []
    journal.record(journal_entry(small_journal_store, "/api/v1/again"))
    assert [e.sequence for e in journal.entries()] == [1]


def test_the_journal_keeps_hostile_bodies_as_they_were_sent(store: Store) -> None:
    entry = journal_entry(store, "/api/v1/people/match")
    entry.body = {"n": 2**70, "text": "caf\u00e9 \ud800", "nested": {"1": [1.5, None]}}
    store.journal.record(entry)
    (kept,) = store.journal.entries()
    assert kept.body == {"n": 2**70, "text": "caf\u00e9 \ud800", "nested": {"1": [1.5, None]}}


def test_the_journal_filters_by_the_whole_key_not_its_mask(store: Store) -> None:
    journal = store.journal
    for key, path in (("test-key", "/a"), ("tidy-key", "/b"), (None, "/c"), ("test-key", "/d")):
        entry = journal_entry(store, path)
        entry.api_key, entry.key_fingerprint = mask_key(key), journal.fingerprint(key)
        journal.record(entry)
    assert mask_key("test-key") == mask_key("tidy-key")
    assert [e.path for e in journal.entries(api_key="test-key")] == ["/a", "/d"]
    assert [e.path for e in journal.entries(api_key="tidy-key")] == ["/b"]
    assert journal.entries(api_key="t…y") == []
    assert journal.fingerprint(None) is None


def test_the_key_fingerprint_is_shared_by_every_process_on_the_store(store: Store) -> None:
    """Stores on one file or prefix fingerprint alike, after a reset too; a memory store's is its own."""
    before = store.journal.fingerprint("test-key")
    store.reset()
    if isinstance(store, SqliteStore):
        other: Store = SqliteStore(store.database.path)
    elif isinstance(store, RedisStore):
        other = RedisStore(store.url, prefix=store.keys.prefix)
    else:
        other = MemoryStore()
    try:
        same = other.journal.fingerprint("test-key") == before == store.journal.fingerprint("test-key")
        assert same is not isinstance(store, MemoryStore)
    finally:
        if isinstance(other, RedisStore):
            other.close()


def test_window_counting_stops_at_the_limit(store: Store) -> None:
    results = [store.take("team|ep", [("minute", 7, 2), ("hour", 0, None)]) for _ in range(3)]
    assert results == [(True, [1, 1]), (True, [2, 2]), (False, [2, 2])]
    assert store.take("team|ep", [("minute", 8, 2), ("hour", 0, None)]) == (True, [1, 3])
    assert store.peek("team|ep", [("minute", 8), ("hour", 0), ("minute", 9)]) == [1, 3, 0]


def crash(store: Store) -> None:
    """What a crash of the claiming process leaves: for Redis, claims whose lease ran out."""
    if isinstance(store, RedisStore):
        leases = store.keys.deliveries()[4]
        store.client.zadd(leases, {member: 0 for member in store.client.zrange(leases, 0, -1)})


def test_deliveries_are_claimed_once_and_requeued_after_a_crash(store: Store) -> None:
    store.add_delivery(stored_delivery("a", due_at=10.0))
    store.add_delivery(stored_delivery("b", due_at=20.0))
    assert ids(store.claim_due_deliveries(15.0, 10)) == ["a"]
    assert store.claim_due_deliveries(15.0, 10) == []
    crash(store)
    assert store.requeue_in_flight() == 1
    assert ids(store.claim_due_deliveries(25.0, 10)) == ["a", "b"]
    store.update_delivery("a", {"status": "delivered", "attempts": [{"attempt": 1, "status": 200}]})
    assert store.get_delivery("a") == stored_delivery("a", "delivered", 10.0).changed(
        {"attempts": [{"attempt": 1, "status": 200}]}
    )
    assert store.get_delivery("nope") is None


def test_finished_deliveries_beyond_the_cap_are_forgotten(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_DELIVERIES", 5)
    monkeypatch.setattr("mock_server.stores.sqlite_store.MAX_DELIVERIES", 5)
    monkeypatch.setattr("mock_server.stores.redis_deliveries.MAX_DELIVERIES", 5)
    for n in range(300):
        store.add_delivery(stored_delivery(f"d{n}", "delivered"))
    store.add_delivery(stored_delivery("pending"))
    kept = ids(store.deliveries())
    assert "pending" in kept
    assert len(kept) < 300
    assert "d299" in kept and "d0" not in kept


def test_documents_counters_and_reset(store: Store) -> None:
    store.set_document("keys", [{"key": "k"}])
    assert store.incr("credits:t", 1.5) == 1.5
    assert store.get_document("keys") == [{"key": "k"}]
    store.reset()
    assert store.get_document("keys") is None
    assert store.get("credits:t") == 0


def test_scenarios_let_calls_through_then_apply_their_times(store: Store) -> None:
    store.scenarios.add(
        {"outcome": "no_match", "after": 1, "times": 2, "match": {"params": {"email": "a@b.c"}}}
    )
    taken = [store.scenarios.take("/v1/people/match", None, {"email": "a@b.c"}) for _ in range(4)]
    assert [t.name if t else None for t in taken] == [None, "no_match", "no_match", None]
    assert store.scenarios.take("/v1/people/match", None, {"email": "other@b.c"}) is None
    assert store.scenarios.list() == []


def test_respond_scenarios_hand_out_their_answers_in_order(store: Store) -> None:
    store.scenarios.add(
        {"outcome": "respond", "times": 3, "responses": [{"status": 500}, {"status": 200, "body": "ok"}]}
    )
    taken = [store.scenarios.take("/api/v1/people/match", "k", {}) for _ in range(4)]
    answers = [o.response for o in taken if o is not None and o.response is not None]
    assert [(a.status, a.body) for a in answers] == [(500, b""), (200, b"ok"), (200, b"ok")]
    assert taken[3] is None


def test_spend_charges_only_within_the_limit_and_tallies_the_reason(store: Store) -> None:
    assert store.spend("credits:t", 3, 5, "credits:t:match") is True
    assert store.spend("credits:t", 3, 5, "credits:t:match") is False  # 6 > 5: nothing changes
    assert (store.get("credits:t"), store.get("credits:t:match")) == (3, 3)
    assert store.spend("credits:t", 2, 5) is True  # exactly the limit is allowed
    assert store.spend("credits:t", 0.5, None, "credits:t:phone") is True  # None: unlimited
    store.settle()  # an uncapped spend may be applied later (Redis: behind the answer)
    assert (store.get("credits:t"), store.get("credits:t:match"), store.get("credits:t:phone")) == (
        5.5,
        3,
        0.5,
    )


def test_spend_with_fractional_credits_reaches_the_limit_exactly(store: Store) -> None:
    assert all(store.spend("credits:f", 0.1, 1.0) for _ in range(10))
    assert store.spend("credits:f", 0.1, 1.0) is False


def test_spend_is_atomic_under_racing_threads(store: Store) -> None:
    """64 threads race for 50 credits: exactly 50 are granted, the counter never passes the limit."""
    barrier = threading.Barrier(8)

    def spender() -> int:
        barrier.wait()
        return sum(store.spend("credits:race", 1, 50, "credits:race:match") for _ in range(8))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        granted = sum(pool.map(lambda _: spender(), range(8)))
    assert granted == 50
    assert store.get("credits:race") == 50 and store.get("credits:race:match") == 50


def test_clock_advances_racing_from_several_clocks_all_count(store: Store) -> None:
    """8 clocks on one store (as 8 processes would be) advance 10 times each at once: none is lost."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    clocks = [Clock(start, frozen=True, state=store.clock_state) for _ in range(8)]
    barrier = threading.Barrier(8)

    def advancer(clock: Clock) -> None:
        barrier.wait()
        for _ in range(10):
            clock.advance(1.5)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(advancer, clocks))
    assert clocks[0].timestamp() == start.timestamp() + 8 * 10 * 1.5
    clocks[1].set(datetime(2199, 12, 31, tzinfo=UTC))
    with pytest.raises(ClockOutOfRange):  # refused inside the store's step: the clock stays put
        clocks[1].advance(2 * 86_400)
    assert clocks[0].now() == datetime(2199, 12, 31, tzinfo=UTC)
