"""The Redis store's batching: group commit, write-behind, the Mirror's sync, and when its calls block."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import redis
from conftest import Pair, StoreFactory, spread
from redis.client import Pipeline
from test_hot_path import REQUESTS, TOKEN, _shown, call
from test_store import journal_entry

from mock_server.config import Config
from mock_server.domain.journal import Deferred
from mock_server.stores import redis_batch
from mock_server.stores.redis_batch import GroupCommit, RoundTrips, WriteBehind
from mock_server.stores.redis_client import Health
from mock_server.stores.redis_store import RedisStore
from mock_server.web import journaling
from mock_server.web.asgi import Emulator
from mock_server.web.factory import build_service

# Counts every call in 'all' and the caller's own calls in the field ARGV[1]; returns both counts.
# A caller named 'fail' gets an error reply instead (and counts nothing).
COUNT = """
if ARGV[1] == 'fail' then return redis.error_reply('refused by request') end
return {redis.call('HINCRBY', KEYS[1], 'all', 1), redis.call('HINCRBY', KEYS[1], ARGV[1], 1)}
"""
# Keeps the server busy for ARGV[1] microseconds by its own clock: a slow round trip on demand.
SPIN = """
local start = redis.call('TIME')
local now = start
while (now[1] - start[1]) * 1000000 + (now[2] - start[2]) < tonumber(ARGV[1]) do now = redis.call('TIME') end
return 1
"""


class CountingRedis(redis.Redis):
    """A Redis client that counts the pipelines it opens (each is one round trip)."""

    pipelines = 0

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        """A pipeline, counted."""
        self.pipelines += 1
        return super().pipeline(transaction, shard_hint)


@pytest.fixture
def client(redis_url: str) -> Iterator[CountingRedis]:
    """A client of the session's Redis server that counts its pipelines."""
    pool = redis.ConnectionPool.from_url(redis_url)
    yield CountingRedis(connection_pool=pool)
    pool.disconnect()


@pytest.fixture
def key() -> str:
    """A Redis key no other test uses."""
    return f"batching-{uuid.uuid4().hex}"


@pytest.fixture
def long_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers hold what is queued for a minute unless someone flushes: only a sync gets it written."""
    monkeypatch.setattr(redis_batch, "BEHIND_LINGER", 60.0)


class _Announcing(threading.Condition):
    """A lock that wakes its waiters whenever it is released, so one can wait for a queue to fill."""

    def __exit__(self, *exc: Any) -> None:
        self.notify_all()
        super().__exit__(*exc)


class HeldCommit(GroupCommit):
    """A GroupCommit whose first round trip waits until `behind` calls queued after it; notes batch sizes.

    `before_batch` runs before each batch of more than one call goes out.
    """

    def __init__(self, client: redis.Redis, behind: int, before_batch: Callable[[], object] = lambda: None):
        super().__init__(client, RoundTrips())
        self._announcing = _Announcing()
        self._lock = self._announcing  # type: ignore[assignment]
        self.behind = behind
        self.before_batch = before_batch
        self.sizes: list[int] = []
        self.sending = threading.Event()

    def _send(self, batch: list[Any]) -> None:
        if not self.sending.is_set():
            self.sending.set()
            with self._announcing:
                assert self._announcing.wait_for(lambda: len(self._queue) >= self.behind, timeout=10)
        self.sizes.append(len(batch))
        if len(batch) > 1:
            self.before_batch()
        super()._send(batch)


def counted_behind_a_lone_call(
    commit: HeldCommit, client: redis.Redis, key: str, names: list[str]
) -> list[Any]:
    """COUNT for each name, each in its own thread; replies (or errors) in order.

    The others start once the first call is on the wire: with `commit` holding that round trip until
    they all queued, they go out as one batch.
    """
    script = client.register_script(COUNT)
    with ThreadPoolExecutor(len(names)) as pool:
        futures = [pool.submit(commit.call, script, [key], [names[0]])]
        assert commit.sending.wait(10)
        futures += [pool.submit(commit.call, script, [key], [name]) for name in names[1:]]
    return [_outcome(future) for future in futures]


def _outcome(future: Future[Any]) -> Any:
    error = future.exception()
    return error if error is not None else future.result()


def test_eight_threads_counting_through_one_group_commit_get_distinct_numbers_in_shared_round_trips(
    client: CountingRedis, key: str
) -> None:
    script = client.register_script(COUNT)
    commit = HeldCommit(client, behind=7)
    names = [f"thread{n}" for n in range(8)]

    def count(name: str) -> list[list[int]]:
        return [commit.call(script, [key], [name]) for _ in range(200)]

    with ThreadPoolExecutor(8) as pool:
        replies = dict(zip(names, pool.map(count, names), strict=True))
    assert sorted(every for got in replies.values() for every, _ in got) == list(range(1, 1601))
    for got in replies.values():  # each caller got its own replies, in the order it made the calls
        assert [mine for _, mine in got] == list(range(1, 201))
    assert sum(commit.sizes) == 1600
    assert max(commit.sizes) >= 7  # the seven calls queued behind the first went out together
    assert client.pipelines == sum(1 for size in commit.sizes if size > 1)  # one round trip a batch


def test_a_lone_call_after_the_server_lost_its_scripts_still_runs(client: redis.Redis, key: str) -> None:
    script = client.register_script(COUNT)
    commit = GroupCommit(client, RoundTrips())
    assert commit.call(script, [key], ["me"]) == [1, 1]
    client.script_flush()
    assert commit.call(script, [key], ["me"]) == [2, 2]


def test_a_batch_sent_after_the_server_lost_its_scripts_runs_every_call_once(
    client: redis.Redis, key: str
) -> None:
    commit = HeldCommit(client, behind=4, before_batch=client.script_flush)
    outcomes = counted_behind_a_lone_call(commit, client, key, ["lead", "one", "two", "three", "four"])
    assert commit.sizes == [1, 4]
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert sorted(every for every, _ in outcomes) == [1, 2, 3, 4, 5]
    assert [mine for _, mine in outcomes] == [1] * 5
    assert client.hget(key, "all") == b"5"


def test_an_error_reply_is_raised_in_its_callers_thread_and_the_rest_of_its_batch_succeeds(
    client: redis.Redis, key: str
) -> None:
    commit = HeldCommit(client, behind=4)
    outcomes = counted_behind_a_lone_call(commit, client, key, ["lead", "one", "fail", "two", "three"])
    assert commit.sizes == [1, 4]
    refused = outcomes.pop(2)
    assert isinstance(refused, redis.ResponseError)
    assert str(refused) == "refused by request"
    assert sorted(every for every, _ in outcomes) == [1, 2, 3, 4]
    assert commit.call(client.register_script(COUNT), [key], ["after"]) == [5, 1]  # and the commit goes on


def _push(key: str, value: int) -> Callable[[Pipeline], object]:
    return lambda pipe: pipe.rpush(key, value)


def test_write_behind_puts_every_submitted_operation_on_the_server_in_order_once_flushed(
    client: redis.Redis, key: str, long_linger: None, redis_url: str
) -> None:
    behind = WriteBehind(client, [], Health(redis_url))
    try:
        for n in range(1000):  # several pipelines' worth (BEHIND_OPS each)
            behind.submit(_push(key, n))
        assert client.llen(key) == 0  # held by the lingering writer
        assert behind.flush(timeout=10) is True  # a flush cuts the linger short
        assert [int(value) for value in client.lrange(key, 0, -1)] == list(range(1000))
    finally:
        behind.close()


def test_a_journal_entry_queued_after_the_server_lost_its_scripts_is_still_written(
    stores: StoreFactory,
) -> None:
    store = stores()
    store.journal.record(journal_entry(store, "/api/v1/first"))
    assert [e.path for e in store.journal.entries()] == ["/api/v1/first"]
    store.client.script_flush()
    store.journal.record(journal_entry(store, "/api/v1/second"))
    assert [e.path for e in store.journal.entries()] == ["/api/v1/first", "/api/v1/second"]


def test_only_the_writes_whose_script_was_lost_are_sent_again(
    stores: StoreFactory, long_linger: None
) -> None:
    store = stores()
    store.journal.record(journal_entry(store, "/api/v1/first"))
    store.settle()  # the journal's script is on the server now
    store.client.script_flush()
    store.spend("credits:team", 2, None)  # one pipeline with the entry below (the writer lingers)
    store.journal.record(journal_entry(store, "/api/v1/second"))
    store.spend("credits:team", 3, None)
    store.settle()
    assert [e.path for e in store.journal.entries()] == ["/api/v1/first", "/api/v1/second"]
    assert store.get("credits:team") == 5  # written once, not again with the entry


def test_an_entry_recorded_by_one_process_is_listed_by_another_at_once(
    stores: StoreFactory, long_linger: None
) -> None:
    first, second = stores(), stores()
    first.journal.record(journal_entry(first, "/api/v1/people/match"))
    assert [e.path for e in second.journal.entries()] == ["/api/v1/people/match"]
    assert second.journal.usage().entries == 1


def test_uncapped_spending_in_one_process_is_seen_by_another_once_settled(
    stores: StoreFactory, long_linger: None
) -> None:
    first, second = stores(), stores()
    for _ in range(5):
        assert first.spend("credits:team", 1.5, None, "credits:team:match") is True
    assert second.get("credits:team") == 0  # still held behind the answers in the first process
    second.settle()
    assert (second.get("credits:team"), second.get("credits:team:match")) == (7.5, 7.5)


def test_a_charge_made_while_a_process_shuts_down_is_still_written(
    stores: StoreFactory, long_linger: None
) -> None:
    first, second = stores(), stores()
    assert first.spend("credits:team", 1.5, None) is True
    first.behind.close()  # what was queued goes out; a later charge is sent at once
    assert first.spend("credits:team", 2.5, None) is True
    assert second.get("credits:team") == 4.0


def test_a_capped_spend_is_seen_by_another_process_without_settling(
    stores: StoreFactory, long_linger: None
) -> None:
    first, second = stores(), stores()
    assert first.spend("credits:team", 4, 10, "credits:team:match") is True
    assert (second.get("credits:team"), second.get("credits:team:match")) == (4, 4)


def test_a_reset_in_one_process_drops_what_another_still_held_behind(
    stores: StoreFactory, long_linger: None
) -> None:
    first, second = stores(), stores()
    first.journal.record(journal_entry(first, "/api/v1/before-reset"))
    first.spend("credits:team", 2, None)
    second.reset()
    assert first.journal.entries() == []
    assert second.journal.entries() == []
    first.settle()
    assert first.get("credits:team") == 0


def test_charges_held_behind_add_up_as_the_server_adds_them_one_by_one(
    stores: StoreFactory, long_linger: None
) -> None:
    store = stores()
    for _ in range(10):  # one batch: fractional amounts are sent in turn, whole ones summed
        store.spend("credits:team", 0.1, None, "credits:team:match")
    for amount in (2, 3):
        store.spend("credits:other", amount, None)
    for _ in range(10):
        store.client.hincrbyfloat(store.keys("counters"), "credits:one-by-one", 0.1)
    store.settle()
    expected = store.get("credits:one-by-one")
    assert expected == 1.0 != sum([0.1] * 10)  # the server's sum, not Python's 0.9999999999999999
    assert (store.get("credits:team"), store.get("credits:team:match")) == (expected, expected)
    assert store.get("credits:other") == 5


def test_entries_read_back_from_another_process_as_they_were_recorded(
    stores: StoreFactory, long_linger: None
) -> None:
    first, second = stores(), stores()
    bodies: list[str | bytes] = [
        b'{"person":{"name":"\xc3\x89mile \xe2\x80\x94 \\"quoted\\"\\n"}}',
        b"\xff\xfe not UTF-8",  # shown with replacement characters, as the in-memory journal shows it
        "a body given as text \u2014 with a newline\n",
        b"",
    ]
    recorded = []
    for number, body in enumerate(bodies):
        entry = journal_entry(first, f"/api/v1/call{number}")
        entry.response_text = body
        entry.query = {"page": "2", "note": "line one\nline two"}
        entry.size = 100 + number
        recorded.append(entry)
        first.journal.record(entry)
    listed = second.journal.entries()
    assert [e.sequence for e in listed] == [1, 2, 3, 4]
    for entry, read in zip(recorded, listed, strict=True):
        assert read.text() == entry.text()
        entry.response_text, entry.sequence = entry.text(), read.sequence
        assert read == entry


def test_entries_built_on_the_writer_read_as_entries_built_at_once_and_hold_no_secret(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = [
        build_service(
            Config(seed=3, request_id_seed=3, store=redis_url, store_prefix=f"test-{uuid.uuid4().hex}")
        )
        for _ in range(2)
    ]
    try:
        deferred, eager = services
        for service in services:
            service.clock.freeze()
        eager.clock.set(deferred.clock.now())
        deferred_app, eager_app = Emulator(deferred), Emulator(eager)
        kept: list[bool] = []
        record = deferred.store.journal.record
        monkeypatch.setattr(
            deferred.store.journal,
            "record",
            lambda entry: kept.append(isinstance(entry, Deferred)) or record(entry),
        )
        for body, headers, query in REQUESTS:
            status = call(deferred_app, body, headers, query)
            with monkeypatch.context() as patched:
                patched.setattr(journaling, "_deferrable", lambda *args: None)
                assert call(eager_app, body, headers, query) == status
        assert kept == [True, True, True, False, False, False, True, False, False]  # as in memory
        listed = deferred.store.journal.entries()
        assert [_shown(e) for e in listed] == [_shown(e) for e in eager.store.journal.entries()]
        assert len(listed) == len(REQUESTS)
        store = deferred.store
        assert isinstance(store, RedisStore)
        stored = b"".join(store.client.lrange(store.keys("journal:entries"), 0, -1))  # type: ignore[arg-type]
        for secret in ("test-key", "sk-123456789", TOKEN, "no-such-key", "s3cr3t-cookie", "other-key-123"):
            assert secret.encode() not in stored
    finally:
        for service in services:
            service.close()


def test_a_store_whose_requests_stop_waiting_on_the_server_stops_blocking(stores: StoreFactory) -> None:
    store = stores()
    for _ in range(20):
        store.round_trips.observe(0.05)  # slow round trips (a busy machine, or a far server)
    assert store.blocking is True
    blocking = [store.blocking for _ in range(200)]  # requests that make none (write-behind, copies)
    assert blocking[-1] is False  # the slow round trips' average alone does not keep it on threads


def test_a_local_store_starts_non_blocking_and_blocks_only_while_round_trips_are_slow(
    stores: StoreFactory,
) -> None:
    store = stores()
    assert store.blocking is False
    for _ in range(20):
        store.round_trips.observe(0.05)
    assert store.blocking is True
    for _ in range(200):
        store.round_trips.observe(0.0001)
    assert store.blocking is False


def test_scripts_that_keep_the_server_busy_make_the_store_blocking(stores: StoreFactory) -> None:
    store = stores()
    spin = store.client.register_script(SPIN)
    for _ in range(20):
        store.batch.call(spin, [], [5000])  # 5 ms each, well over SLOW_ROUND_TRIP
    assert store.blocking is True


@pytest.mark.slow
def test_unlimited_credits_and_the_journal_add_up_at_once_across_two_processes(pair: Pair) -> None:
    answered: list[str] = []
    for round_, reader in enumerate((1, 0)):
        emails = [f"spender{round_}-{n}@batching.test" for n in range(30)]
        answers = spread(pair.urls, "hooks-key", emails, clients=10)
        assert [(a.status_code, a.json()["person"]["email"]) for a in answers] == [(200, e) for e in emails]
        answered += emails
        # Read right after the answers from one process, half of them answered by the other; the
        # first read of each round syncs both processes: the credits in one round, the journal in the other.
        reads = [credits_spent, journaled_emails]
        for read in reads if round_ == 0 else reversed(reads):
            read(pair, reader, answered)


def credits_spent(pair: Pair, reader: int, answered: list[str]) -> None:
    """Process `reader`'s control API charged hooks-key's unlimited team one credit for each answer."""
    usage = {team["team"]: team["credits"] for team in pair.admin(reader, "GET", "/usage")["teams"]}
    assert usage["team-hooks"]["spent"] == len(answered)
    assert usage["team-hooks"]["by_reason"] == {"match": len(answered), "phone": 0}
    assert usage["team-hooks"]["left"] is None


def journaled_emails(pair: Pair, reader: int, answered: list[str]) -> None:
    """Process `reader`'s journal lists every answered request."""
    listed = pair.admin(reader, "GET", "/requests", params={"path": "/api/v1/people/match"})["requests"]
    assert sorted(entry["body"]["email"] for entry in listed) == sorted(answered)
