"""A store on a Redis (or Valkey) server: one state for any number of processes on any number of hosts.

Every step that counts runs on the server in one Lua script or one MULTI transaction, so processes
never read-then-write in Python: rate-limit windows, counters and credits, request and journal ids,
claims of webhook deliveries (stores/redis_deliveries.py). All keys start with a prefix, so several
deployments can share one server (stores/redis_client.py).

What no answer waits on (journal entries, charges of teams without a credit cap) is written behind
the answers in batches, and every process flushes it before anything reads it (the Mirror's sync,
stores/redis_mirror.py). The scripts an answer does wait on share round trips between a process's
threads (stores/redis_batch.py).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import redis

from mock_server.domain.journal import DEFAULT_BYTES, DEFAULT_SIZE
from mock_server.domain.store import SPEND_TOLERANCE, SharedAliasIndex
from mock_server.domain.webhooks.delivery import Delivery, DeliveryChanges
from mock_server.stores.redis_batch import GroupCommit, Increments, RoundTrips, WriteBehind
from mock_server.stores.redis_client import DEFAULT_PREFIX, Health, Keys, connect, guarded, text
from mock_server.stores.redis_deliveries import DEFAULT_LEASE, RedisDeliveries
from mock_server.stores.redis_journal import RedisJournal
from mock_server.stores.redis_mirror import Mirror
from mock_server.stores.redis_state import RedisClockState, RedisScenarioBook

if TYPE_CHECKING:
    from mock_server.domain.directory import LRUMap

log = logging.getLogger("fakeapollo.redis")

# Counters that only hand out unique numbers (request ids; never read back as totals): each process
# reserves them from the server BLOCK at a time, so most requests need no round trip for one. A
# reset drops every process's block (through the Mirror), so numbering starts again everywhere.
NUMBERED = frozenset({"request_id_sequence"})
BLOCK = 1024

# Count one call in each window unless one is full. KEYS[1]: the windows hash.
# ARGV: scope, then (name, index, limit or "") per window. Each field holds "index:count".
TAKE = """
local n = (#ARGV - 1) / 3
local used, allowed = {}, 1
for i = 0, n - 1 do
  local field = ARGV[1] .. '\\t' .. ARGV[2 + 3 * i]
  local stored = redis.call('HGET', KEYS[1], field)
  local count = 0
  if stored then
    local index, value = string.match(stored, '^(-?%d+):(%d+)$')
    if index == ARGV[3 + 3 * i] then count = tonumber(value) end
  end
  used[i + 1] = count
  local limit = ARGV[4 + 3 * i]
  if limit ~= '' and count >= tonumber(limit) then allowed = 0 end
end
if allowed == 1 then
  for i = 0, n - 1 do
    used[i + 1] = used[i + 1] + 1
    redis.call('HSET', KEYS[1], ARGV[1] .. '\\t' .. ARGV[2 + 3 * i], ARGV[3 + 3 * i] .. ':' .. used[i + 1])
  end
end
table.insert(used, 1, allowed)
return used
"""

# Check and charge in one step. KEYS[1]: the counters hash. ARGV: key, amount, limit, tolerance,
# tally ("" for none). 1: charged; 0: the limit would be passed, nothing changed.
SPEND = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if current + tonumber(ARGV[2]) > tonumber(ARGV[3]) + tonumber(ARGV[4]) then return 0 end
redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], ARGV[2])
if ARGV[5] ~= '' then redis.call('HINCRBYFLOAT', KEYS[1], ARGV[5], ARGV[2]) end
return 1
"""

# Look an alias up and, when it is not there, record a new person's aliases in the same step.
# KEYS[1]: the aliases hash. ARGV: the key looked up, then (key, value) pairs to add unless present.
# Returns the value found, or nil (the pairs were added).
CLAIM_ALIASES = """
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then return found end
for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
return false
"""


@guarded(
    "incr",
    "get",
    "settle",
    "spend",
    "_load_document",
    "set_document",
    "take",
    "peek",
    "add_delivery",
    "deliveries",
    "get_delivery",
    "update_delivery",
    "claim_due_deliveries",
    "requeue_in_flight",
    "reset",
)
class RedisStore:
    """The Store interface on a Redis server, for processes on one host or many (`--store redis://`)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        journal_size: int = DEFAULT_SIZE,
        journal_bytes: int = DEFAULT_BYTES,
        lease_seconds: float = DEFAULT_LEASE,
    ) -> None:
        self.url = url
        self.keys = Keys(prefix)
        self.client = connect(url)
        # Whether the server answers: while it is away, calls fail at once with a 503.
        self.health = Health(url)
        # Writes no answer waits for (journal entries, uncapped credits), sent by one thread in
        # batches; the Mirror's sync flushes them in every process before they are read.
        self.behind = WriteBehind(self.client, [], self.health)
        self.mirror = Mirror(self.client, self.keys, self._flush_behind)
        # The per-request scripts (rate limits, credits) of this process's threads share round trips
        # (mock_server/stores/redis_batch.py).
        self.round_trips = RoundTrips()
        self.batch = GroupCommit(self.client, self.round_trips)
        self.journal = RedisJournal(
            self.client, self.keys, self.behind, self.mirror.sync, self.health, journal_size, journal_bytes
        )
        self.behind.scripts.append(self.journal.script)
        self.scenarios = RedisScenarioBook(self.client, self.keys, self.mirror, self.health)
        self.clock_state = RedisClockState(self.client, self.keys, self.mirror, self.health)
        self._counters = self.keys("counters")
        self._windows = self.keys("windows")
        self._documents = self.keys("documents")
        # Uncapped charges, written behind the answers: one addition a field a batch.
        self._increments = Increments(self._counters)
        self.webhooks = RedisDeliveries(self.client, self.keys, lease_seconds)
        self._take = self.client.register_script(TAKE)
        self._spend = self.client.register_script(SPEND)
        # Reserved blocks of NUMBERED counters: key -> [mirror generation, next, last].
        self._blocks: dict[str, list[int]] = {}
        self._blocks_lock = threading.Lock()

    # Threads of one process wait on the server side by side (their scripts share round trips).
    serial = False

    @property
    def blocking(self) -> bool:
        """Whether calls may wait long on the server: only while requests often wait on slow round trips.

        Read once a request (it counts requests, `RoundTrips.per_request`). A near server (a
        millisecond or less), or one requests rarely wait on, is called from the event loop: on a
        machine of few cores the hand-over to a thread and back cost more than the wait (bench/). A
        far or busy one that requests often wait on is called from threads, so requests wait on it
        side by side.
        """
        return self.round_trips.per_request()

    def alias_map(self) -> RedisAliases:
        """The alias index on the server, so an id served by one process resolves in another."""
        from mock_server.domain.directory import ALIAS_INDEX_SIZE, LRUMap

        # The local copy holds as many as the in-memory store's index: each person takes about five
        # entries (id, LinkedIn URL, hashes, email), so a smaller one missed on most requests.
        return RedisAliases(self.client, self.keys, LRUMap(ALIAS_INDEX_SIZE), self.round_trips, self.health)

    def incr(self, key: str, amount: float = 1) -> float:
        """Atomically add `amount` to counter `key` and return the new value (unique numbers: a block)."""
        if key in NUMBERED and amount == 1:
            return float(self._numbered(key))
        return float(self.client.hincrbyfloat(self._counters, key, amount))

    def _numbered(self, key: str) -> int:
        """The next number of `key` from this process's block; a new block from the server when used up."""
        with self._blocks_lock:
            generation = self.mirror.generation()
            if generation is None:  # not subscribed: a reset could not reach a block, so take one number
                return int(self.client.hincrby(self._counters, key, 1))
            block = self._blocks.get(key)
            if block is None or block[0] != generation or block[1] > block[2]:
                end = int(self.client.hincrby(self._counters, key, BLOCK))
                block = self._blocks[key] = [generation, end - BLOCK + 1, end]
            block[1] += 1
            return block[1] - 1

    def settle(self) -> None:
        """Write what every process holds behind its answers (uncapped credits), before a read of it."""
        self.mirror.sync()

    def _flush_behind(self) -> None:
        """The Mirror's `on_sync`: write what this process holds behind its answers."""
        if not self.behind.flush():
            log.warning("deferred writes were still queued after 30 s")

    def get(self, key: str) -> float:
        """The value of counter `key` (0 when never touched; see `settle`)."""
        raw = self.client.hget(self._counters, key)
        return 0.0 if raw is None else float(raw)

    def spend(self, key: str, amount: float, limit: float | None, tally: str | None = None) -> bool:
        """Add `amount` to `key` (and `tally`) only if `key` stays within `limit`: one script.

        With no limit there is nothing to check: the increments go behind the answer (`settle`).
        """
        if limit is None:
            self.behind.add(self._increments, ((key, tally) if tally else (key,), float(amount)))
            return True
        args = [key, repr(float(amount)), repr(float(limit)), repr(SPEND_TOLERANCE), tally or ""]
        return bool(self.batch.call(self._spend, [self._counters], args))

    def get_document(self, name: str) -> Any:
        """The JSON document stored under `name`, or None (mirrored: no round trip while unchanged)."""
        raw = self.mirror.get(f"document:{name}", lambda: self._load_document(name))
        return None if raw is None else json.loads(raw)

    def _load_document(self, name: str) -> Any:
        """The document's stored text (guarded: the Mirror's copy is served while the server is away)."""
        return self.client.hget(self._documents, name)

    def set_document(self, name: str, document: Any) -> None:
        """Store a JSON document under `name`; every process reads it once this returns."""
        text = json.dumps(document)
        self.mirror.sync()  # uncapped credits held behind land before a change (keys) may cap them
        self.mirror.change(lambda pipe: pipe.hset(self._documents, name, text))

    def take(self, scope: str, windows: list[tuple[str, int, int | None]]) -> tuple[bool, list[int]]:
        """Atomically count one call in each (name, index, limit) window unless one is full."""
        args: list[str] = [scope]
        for name, index, limit in windows:
            args += [name, str(index), "" if limit is None else str(limit)]
        allowed, *usages = self.batch.call(self._take, [self._windows], args)
        return bool(allowed), [int(u) for u in usages]

    def peek(self, scope: str, windows: list[tuple[str, int]]) -> list[int]:
        """The usage of each (name, index) window, without counting."""
        if not windows:
            return []
        stored = self.client.hmget(self._windows, [f"{scope}\t{name}" for name, _ in windows])
        usages = []
        for raw, (_, index) in zip(stored, windows, strict=True):
            at, _, count = text(raw).partition(":") if raw is not None else ("", "", "0")
            usages.append(int(count) if at == str(index) else 0)
        return usages

    def add_delivery(self, delivery: Delivery) -> None:
        """Record a webhook delivery (its id unique) that is due later."""
        self.webhooks.add(delivery)

    def deliveries(self) -> list[Delivery]:
        """Every recorded delivery, oldest first."""
        return self.webhooks.all()

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        """One delivery by id."""
        return self.webhooks.get(delivery_id)

    def update_delivery(self, delivery_id: str, changes: DeliveryChanges) -> None:
        """Apply `changes` to a delivery (compare and set on the server, retried on a conflict)."""
        self.webhooks.update(delivery_id, changes)

    def claim_due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        """Atomically take up to `limit` pending deliveries with `due_at <= now`, leased to this process."""
        return self.webhooks.claim_due(now, limit)

    def requeue_in_flight(self) -> int:
        """Put deliveries whose claim expired (their process died) back to pending; how many."""
        return self.webhooks.requeue_expired()

    def reset(self) -> None:
        """Forget everything this deployment shares (its prefix only): back to a fresh emulator."""
        # "journal" was the journal's key before it became a list: an older version's is dropped too.
        names = ["counters", "windows", "documents", "journal", "journal:entries", "journal:sizes",
                 "scenarios", "scenarios:order"]  # fmt: skip
        doomed = [self.keys(name) for name in names] + self.webhooks.keys
        self.mirror.sync()  # the journal entries processes still hold go with the rest
        self.mirror.change(lambda pipe: pipe.delete(*doomed))
        self.webhooks.forget_claims()

    def close(self) -> None:
        """Stop renewing leases and listening for changes; close the connections."""
        self.webhooks.close()
        self.health.close()
        self.behind.close()
        self.mirror.close()
        self.client.close()


@guarded("_claim", "_save", "_save_new", "_forget")
class RedisAliases(SharedAliasIndex):
    """The alias index in one hash on the server, with a local cache in front (misses included).

    Most lookups are of emails nobody aliased (a person's own email is its identity): remembering
    the miss saves a round trip on every request for a person this process already served.
    """

    remember_misses = True

    def __init__(
        self, client: redis.Redis, keys: Keys, local: LRUMap, round_trips: RoundTrips, health: Health
    ) -> None:
        super().__init__(local)
        self.client = client
        self.health = health
        self.key = keys("aliases")
        self.round_trips = round_trips
        self._claim_script = client.register_script(CLAIM_ALIASES)

    def _claim(self, key: str, rows: list[tuple[str, str, str]]) -> tuple[str, str] | None:
        args = [key]
        for row_key, kind, value in rows:
            args += [row_key, f"{kind}\t{value}"]
        with self.round_trips.timed():
            raw = self._claim_script(keys=[self.key], args=args)
        if raw is None:
            return None
        kind, _, value = text(raw).partition("\t")
        return kind, value

    def _save(self, key: str, kind: str, value: str, *, overwrite: bool) -> None:
        if overwrite:
            self.client.hset(self.key, key, f"{kind}\t{value}")
        else:
            self.client.hsetnx(self.key, key, f"{kind}\t{value}")

    def _save_new(self, rows: list[tuple[str, str, str]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key, kind, value in rows:
            pipe.hsetnx(self.key, key, f"{kind}\t{value}")
        with self.round_trips.timed():
            pipe.execute()

    def _forget(self) -> None:
        self.client.delete(self.key)
