"""A store on a Redis (or Valkey) server: one state for any number of processes on any number of hosts.

Every step that counts runs on the server in one Lua script or one MULTI transaction, so processes
never read-then-write in Python: rate-limit windows, counters and credits, request and journal ids,
claims of webhook deliveries. Claims carry a lease in the server's own time (TIME): a delivery whose
claimer died goes back to pending once its lease runs out, and a live claimer renews its leases.
All keys start with a prefix, so several deployments can share one server.

What no answer waits on (journal entries, charges of teams without a credit cap) is written behind
the answers in batches, and every process flushes it before anything reads it (`Mirror.sync`). The
scripts an answer does wait on share round trips between a process's threads (stores/redis_batch.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis

from mock_server.domain.clock import Shifted, shifted
from mock_server.domain.journal import DEFAULT_BYTES, DEFAULT_SIZE
from mock_server.domain.scenarios import (
    Outcome,
    Scenario,
    scenario_from_document,
    scenario_from_json,
    scenario_to_json,
)
from mock_server.domain.store import MAX_DELIVERIES, PRUNE_STEP, SPEND_TOLERANCE, SharedAliasIndex
from mock_server.domain.webhooks.delivery import Delivery, DeliveryChanges
from mock_server.stores.redis_batch import GroupCommit, RoundTrips, WriteBehind
from mock_server.stores.redis_journal import RedisJournal

if TYPE_CHECKING:
    from mock_server.domain.directory import LRUMap

log = logging.getLogger("fakeapollo.redis")

SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PREFIX = "fakeapollo"
# Seconds a claimed webhook delivery stays with its claimer; renewed every third of it while alive.
DEFAULT_LEASE = 30.0
# Seconds to wait for the server on connect and on each reply; a dead server is a clear error.
SOCKET_TIMEOUT = 10.0
# Seconds a change (clock, keys, scenarios, reset) waits for every process to drop its copies, and
# a journal read for every process to write the entries it holds.
ACK_TIMEOUT = 2.0
# A message on the change channel that asks for a sync (Mirror.sync), not a change: this, then a nonce.
SYNC = "sync:"
# Counters that only hand out unique numbers (request ids; never read back as totals): each process
# reserves them from the server BLOCK at a time, so most requests need no round trip for one. A
# reset drops every process's block (through the Mirror), so numbering starts again everywhere.
NUMBERED = frozenset({"request_id_sequence"})
BLOCK = 64

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

# Deliveries live in: documents (id -> JSON), status (id -> status), order (zset, id by sequence),
# pending (zset, id by due_at), leases (zset, id by lease expiry in server seconds), owners
# (id -> claimer), leased_due (id -> due_at, to requeue an expired claim at its place).
DELIVERY_KEYS = ("documents", "status", "order", "pending", "leases", "owners", "leased_due")

# Put back to pending every claim whose lease ran out; how many. KEYS: DELIVERY_KEYS.
_REQUEUE_EXPIRED = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  if redis.call('HGET', KEYS[2], id) == 'in_flight' then
    redis.call('HSET', KEYS[2], id, 'pending')
    redis.call('ZADD', KEYS[4], redis.call('HGET', KEYS[7], id) or '0', id)
  end
  redis.call('HDEL', KEYS[7], id)
end
"""
REQUEUE_EXPIRED = _REQUEUE_EXPIRED + "return #expired\n"

# Claim up to ARGV[2] deliveries due by ARGV[1] (the emulator's clock) for owner ARGV[4], leased for
# ARGV[3] seconds of server time; expired claims are requeued first. Returns [id, JSON, ...].
CLAIM = (
    _REQUEUE_EXPIRED
    + """
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local claimed = {}
for i = 1, #due, 2 do
  local id = due[i]
  redis.call('ZREM', KEYS[4], id)
  redis.call('HSET', KEYS[2], id, 'in_flight')
  redis.call('ZADD', KEYS[5], now + tonumber(ARGV[3]), id)
  redis.call('HSET', KEYS[6], id, ARGV[4])
  redis.call('HSET', KEYS[7], id, due[i + 1])
  table.insert(claimed, id)
  table.insert(claimed, redis.call('HGET', KEYS[1], id))
end
return claimed
"""
)

# Extend the leases of the claims ARGV[3..] that owner ARGV[2] still holds by ARGV[1] seconds.
RENEW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local renewed = 0
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[6], ARGV[i]) == ARGV[2] then
    redis.call('ZADD', KEYS[5], 'XX', now + tonumber(ARGV[1]), ARGV[i])
    renewed = renewed + 1
  end
end
return renewed
"""

# Record a delivery (ARGV: id, JSON, status, due_at, cap, prune step); now and then forget the
# oldest finished ones beyond the cap. KEYS: DELIVERY_KEYS, then the counters hash.
ADD = """
local id = ARGV[1]
local seq = redis.call('HINCRBY', KEYS[8], 'delivery_sequence', 1)
redis.call('HSET', KEYS[1], id, ARGV[2])
redis.call('HSET', KEYS[2], id, ARGV[3])
redis.call('ZADD', KEYS[3], seq, id)
redis.call('ZREM', KEYS[5], id)
redis.call('HDEL', KEYS[6], id)
redis.call('HDEL', KEYS[7], id)
if ARGV[3] == 'pending' then redis.call('ZADD', KEYS[4], ARGV[4], id) else redis.call('ZREM', KEYS[4], id) end
if seq % tonumber(ARGV[6]) == 0 then
  for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', seq - tonumber(ARGV[5]))) do
    local status = redis.call('HGET', KEYS[2], old)
    if status == 'delivered' or status == 'failed' then
      redis.call('HDEL', KEYS[1], old)
      redis.call('HDEL', KEYS[2], old)
      redis.call('ZREM', KEYS[3], old)
    end
  end
end
return seq
"""

# Replace a delivery's JSON if it is still ARGV[2] (compare and set); ARGV: id, old JSON, new JSON,
# new status ("" keeps the current one), due_at. 1: done, 0: changed meanwhile, -1: no such delivery.
UPDATE = """
local id = ARGV[1]
local current = redis.call('HGET', KEYS[1], id)
if not current then return -1 end
if current ~= ARGV[2] then return 0 end
local status = ARGV[4]
if status == '' then status = redis.call('HGET', KEYS[2], id) end
redis.call('HSET', KEYS[1], id, ARGV[3])
redis.call('HSET', KEYS[2], id, status)
if status == 'pending' then redis.call('ZADD', KEYS[4], ARGV[5], id) else redis.call('ZREM', KEYS[4], id) end
if status ~= 'in_flight' then
  redis.call('ZREM', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  redis.call('HDEL', KEYS[7], id)
end
return 1
"""

def is_redis_url(url: str) -> bool:
    """Whether `url` names a Redis server (redis://, rediss:// or unix://)."""
    return urlsplit(url).scheme in SCHEMES


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def connect(url: str) -> redis.Redis:
    """A client for `url`; ValueError when the URL is malformed."""
    if not is_redis_url(url):
        raise ValueError(f"--store must be a redis://HOST:PORT/DB URL, got {describe(url)!r}")
    try:
        return redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            health_check_interval=30,
        )
    except ValueError as exc:
        raise ValueError(f"--store {describe(url)}: {exc}") from exc


def check_reachable(url: str) -> None:
    """Ping the server once; ValueError saying why it cannot be used."""
    client = connect(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ValueError(f"cannot reach Redis at {describe(url)}: {exc}") from exc
    finally:
        client.close()


def check_prefix(prefix: str) -> str:
    """A key prefix: 1 to 64 letters, digits, `-`, `_`, `.` or `:`; ValueError otherwise."""
    if not 1 <= len(prefix) <= 64 or not all(c.isascii() and (c.isalnum() or c in "-_.:") for c in prefix):
        raise ValueError("--store-prefix must be 1 to 64 letters, digits, '-', '_', '.' or ':'")
    return prefix


class Keys:
    """The names of one deployment's keys: everything under `prefix:`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = check_prefix(prefix)

    def __call__(self, name: str) -> str:
        """The full name of key `name`."""
        return f"{self.prefix}:{name}"

    def deliveries(self) -> list[str]:
        """The keys the delivery scripts take, in DELIVERY_KEYS order."""
        return [self(f"deliveries:{name}") for name in DELIVERY_KEYS]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Mirror:
    """Local copies of values that change rarely (clock, key registry, whether scenarios are queued).

    Every process subscribes to one channel. A change is written together with a message on that
    channel (one MULTI), and the writer waits until every subscribed process has dropped its copies
    and acknowledged (at most ACK_TIMEOUT): once a change returns, no process reads the old value.
    Reads are then served from memory, without a round trip. Until its subscription is confirmed
    (and again after a lost connection, until it is back), a process reads from the server.
    """

    def __init__(self, client: redis.Redis, keys: Keys, on_sync: Callable[[], None]) -> None:
        self.client = client
        self.channel = keys("changes")
        self.ack_prefix = keys("ack:")
        self._values: dict[str, Any] = {}
        self._generation = 0
        self._live = False
        self._lock = threading.Lock()
        self._closed = threading.Event()
        # What a process runs when asked to sync (Mirror.sync): the store's write-behind flush.
        self.on_sync = on_sync
        self._pubsub = client.pubsub()
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="fakeapollo-mirror", daemon=True)
        self._thread.start()
        self._subscribed.wait(SOCKET_TIMEOUT)

    def generation(self) -> int | None:
        """How many times copies were dropped (None while not subscribed: nothing may be kept)."""
        with self._lock:
            return self._generation if self._live else None

    def get(self, name: str, load: Callable[[], Any]) -> Any:
        """The value `name`, from memory when a current copy is there, else `load()` (and kept)."""
        with self._lock:
            if self._live and name in self._values:
                return self._values[name]
            generation = self._generation
        value = load()
        with self._lock:
            if self._live and generation == self._generation:
                self._values[name] = value
        return value

    def change(self, write: Callable[[Any], None]) -> list[Any]:
        """Write (`write(pipe)`) and announce in one MULTI; returns once every process dropped its copies."""
        pipe = self.client.pipeline(transaction=True)
        write(pipe)
        nonce = uuid.uuid4().hex
        pipe.publish(self.channel, nonce)
        *results, receivers = pipe.execute()
        self.wait_for_acks(nonce, int(receivers))
        return list(results)

    def sync(self) -> None:
        """Run every process's `on_sync` (this one's first) and wait until all did (at most ACK_TIMEOUT)."""
        self.on_sync()
        nonce = uuid.uuid4().hex
        receivers = self.client.publish(self.channel, SYNC + nonce)
        self.wait_for_acks(nonce, int(receivers))

    def wait_for_acks(self, nonce: str, receivers: int) -> None:
        """Wait until `receivers` processes acknowledged the change `nonce` (at most ACK_TIMEOUT)."""
        key = self.ack_prefix + nonce
        deadline = time.monotonic() + ACK_TIMEOUT
        for _ in range(receivers):
            left = deadline - time.monotonic()
            if left <= 0 or self.client.blpop([key], timeout=left) is None:
                log.warning("a process did not acknowledge a change within %s s", ACK_TIMEOUT)
                break
        self.client.delete(key)

    def _drop(self, live: bool) -> None:
        with self._lock:
            self._values.clear()
            self._generation += 1
            self._live = live

    def _listen(self) -> None:
        """Drop every copy on each change message (and acknowledge it); reconnect after a failure."""
        while not self._closed.is_set():
            try:
                self._pubsub.subscribe(self.channel)
                while not self._closed.is_set():
                    message = self._pubsub.get_message(timeout=0.2)  # and `close` waits at most this
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._drop(live=True)
                        self._subscribed.set()
                    elif message["type"] == "message":
                        nonce = _text(message["data"])
                        if nonce.startswith(SYNC):
                            self.on_sync()
                            nonce = nonce[len(SYNC) :]
                        else:
                            self._drop(live=True)
                        key = self.ack_prefix + nonce
                        pipe = self.client.pipeline(transaction=False)
                        pipe.rpush(key, 1)
                        pipe.expire(key, 60)
                        pipe.execute()
            except (redis.RedisError, OSError, ValueError):
                self._drop(live=False)  # read from the server until subscribed again
                if not self._closed.is_set():
                    log.warning("lost the change channel; reading from Redis until it is back", exc_info=True)
                    self._closed.wait(0.5)

    def close(self) -> None:
        """Stop listening."""
        self._closed.set()
        self._drop(live=False)
        self._thread.join(2.0)
        try:
            self._pubsub.close()
        except (redis.RedisError, OSError):
            pass


class RedisClockState:
    """The clock's offset and frozen instant in one key, shared by every process (mirrored locally)."""

    def __init__(self, client: redis.Redis, keys: Keys, mirror: Mirror) -> None:
        self.client = client
        self.mirror = mirror
        self.key = keys("clock")

    def _read(self, client: Any = None) -> tuple[float, float | None] | None:
        raw = (client or self.client).get(self.key)
        if raw is None:
            return None
        offset, _, frozen_at = _text(raw).partition(" ")
        return float(offset), None if frozen_at == "-" else float(frozen_at)

    @staticmethod
    def _format(offset: float, frozen_at: float | None) -> str:
        return f"{offset!r} {'-' if frozen_at is None else repr(frozen_at)}"

    def has_value(self) -> bool:
        """Whether a clock was stored before (another process's)."""
        return self.mirror.get("clock", self._read) is not None

    def load(self) -> tuple[float, float | None]:
        """The stored (offset, frozen_at)."""
        stored: tuple[float, float | None] | None = self.mirror.get("clock", self._read)
        return (0.0, None) if stored is None else stored

    def save(self, offset: float, frozen_at: float | None) -> None:
        """Store (offset, frozen_at); every process reads the new value once this returns."""
        text = self._format(offset, frozen_at)
        self.mirror.change(lambda pipe: pipe.set(self.key, text))

    def shift(self, seconds: float, check: Shifted) -> None:
        """Add `seconds` to the offset and the frozen instant: one WATCH/MULTI, retried on a conflict.

        Every process reads the new value once this returns.
        """
        nonce = uuid.uuid4().hex

        def attempt(pipe: Any) -> None:
            moved = shifted(self._read(pipe) or (0.0, None), seconds, check)
            pipe.multi()
            pipe.set(self.key, self._format(*moved))
            pipe.publish(self.mirror.channel, nonce)

        results: list[Any] = self.client.transaction(attempt, self.key)  # type: ignore[assignment]
        self.mirror.wait_for_acks(nonce, int(results[-1]))


class RedisScenarioBook:
    """Queued scenarios; taking one is an optimistic transaction (WATCH), retried on a conflict.

    Whether any scenario is queued is mirrored locally: the common case (none) costs no round trip.
    """

    def __init__(self, client: redis.Redis, keys: Keys, mirror: Mirror) -> None:
        self.client = client
        self.mirror = mirror
        self.key = keys("scenarios")
        self.order = keys("scenarios:order")
        self.counters = keys("counters")

    def _any(self) -> bool:
        return bool(self.mirror.get("scenarios", lambda: bool(self.client.exists(self.key))))

    def add(self, document: Any) -> Scenario:
        """Queue a scenario described by the control API's JSON."""
        scenario = scenario_from_document(document, "scn_0")  # a 400 before any number is used
        number = int(self.client.hincrby(self.counters, "scenario_sequence", 1))
        scenario.id = f"scn_{number}"

        def write(pipe: Any) -> None:
            pipe.hset(self.key, scenario.id, scenario_to_json(scenario))
            pipe.zadd(self.order, {scenario.id: number})

        self.mirror.change(write)
        return scenario

    def _read(self, pipe: Any) -> list[Scenario]:
        ids = [_text(i) for i in pipe.zrange(self.order, 0, -1)]
        documents = pipe.hgetall(self.key)
        found = {_text(k): v for k, v in documents.items()}
        return [scenario_from_json(found[i]) for i in ids if i in found]

    def list(self) -> list[Scenario]:
        """Every queued scenario, oldest first."""
        return self._read(self.client) if self._any() else []

    def remove(self, scenario_id: str) -> bool:
        """Delete one scenario; False when there is none with that id."""

        def write(pipe: Any) -> None:
            pipe.hdel(self.key, scenario_id)
            pipe.zrem(self.order, scenario_id)

        return bool(self.mirror.change(write)[0])

    def clear(self) -> None:
        """Delete every scenario."""

        def write(pipe: Any) -> None:
            pipe.delete(self.key, self.order)
            pipe.hdel(self.counters, "scenario_sequence")

        self.mirror.change(write)

    def take(self, path: str, api_key: str | None, params: Mapping[str, Any]) -> Outcome | None:
        """The outcome of the first scenario matching this request, using up one of its times."""
        if not self._any():
            return None  # the common case: nothing queued, no round trip
        chosen: list[Outcome] = []
        nonce = uuid.uuid4().hex

        def attempt(pipe: Any) -> None:
            chosen.clear()
            changed: list[Scenario] = []
            for scenario in self._read(pipe):
                if not scenario.matches(path, api_key, params):
                    continue
                applies = scenario.use()
                changed.append(scenario)
                if applies:
                    chosen.append(scenario.applied())
                    break
            pipe.multi()
            for scenario in changed:
                if scenario.used_up:
                    pipe.hdel(self.key, scenario.id)
                    pipe.zrem(self.order, scenario.id)
                else:
                    pipe.hset(self.key, scenario.id, scenario_to_json(scenario))
            pipe.publish(self.mirror.channel, nonce)

        results: list[Any] = self.client.transaction(attempt, self.key, self.order)  # type: ignore[assignment]
        self.mirror.wait_for_acks(nonce, int(results[-1]))
        return chosen[0] if chosen else None


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
        self.lease_seconds = lease_seconds
        # Writes no answer waits for (journal entries, uncapped credits), sent by one thread in
        # batches; the Mirror's sync flushes them in every process before they are read.
        self.behind = WriteBehind(self.client, [])
        self.mirror = Mirror(self.client, self.keys, self._flush_behind)
        # The per-request scripts (rate limits, credits) of this process's threads share round trips
        # (mock_server/stores/redis_batch.py).
        self.round_trips = RoundTrips()
        self.batch = GroupCommit(self.client, self.round_trips)
        self.journal = RedisJournal(
            self.client, self.keys, self.behind, self.mirror.sync, journal_size, journal_bytes
        )
        self.behind.scripts.append(self.journal.script)
        self.scenarios = RedisScenarioBook(self.client, self.keys, self.mirror)
        self.clock_state = RedisClockState(self.client, self.keys, self.mirror)
        self._counters = self.keys("counters")
        self._windows = self.keys("windows")
        self._documents = self.keys("documents")
        self._delivery_keys = self.keys.deliveries()
        self._take = self.client.register_script(TAKE)
        self._spend = self.client.register_script(SPEND)
        self._add = self.client.register_script(ADD)
        self._claim = self.client.register_script(CLAIM)
        self._requeue = self.client.register_script(REQUEUE_EXPIRED)
        self._renew = self.client.register_script(RENEW)
        self._update = self.client.register_script(UPDATE)
        # This process's claims, whose leases the renewer thread extends while they are in flight.
        self.owner = uuid.uuid4().hex
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        # Reserved blocks of NUMBERED counters: key -> [mirror generation, next, last].
        self._blocks: dict[str, list[int]] = {}
        self._blocks_lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()

    # Threads of one process wait on the server side by side (their scripts share round trips).
    serial = False

    @property
    def blocking(self) -> bool:
        """Whether calls may wait long on the server: only when recent round trips were slow.

        A near server (a millisecond or less) is called from the event loop: on a machine of few cores
        the hand-over to a thread and back cost more than the wait (bench/). A far or busy one is
        called from threads, so requests wait on it side by side.
        """
        return self.round_trips.slow

    def alias_map(self) -> RedisAliases:
        """The alias index on the server, so an id served by one process resolves in another."""
        from mock_server.domain.directory import ALIAS_INDEX_SIZE, LRUMap

        # The local copy holds as many as the in-memory store's index: each person takes about five
        # entries (id, LinkedIn URL, hashes, email), so a smaller one missed on most requests.
        return RedisAliases(self.client, self.keys, LRUMap(ALIAS_INDEX_SIZE), self.round_trips)

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
            counters, by = self._counters, float(amount)

            def add(pipe: Any) -> None:
                pipe.hincrbyfloat(counters, key, by)
                if tally:
                    pipe.hincrbyfloat(counters, tally, by)

            self.behind.submit(add)
            return True
        args = [key, repr(float(amount)), repr(float(limit)), repr(SPEND_TOLERANCE), tally or ""]
        return bool(self.batch.call(self._spend, [self._counters], args))

    def get_document(self, name: str) -> Any:
        """The JSON document stored under `name`, or None (mirrored: no round trip while unchanged)."""
        raw = self.mirror.get(f"document:{name}", lambda: self.client.hget(self._documents, name))
        return None if raw is None else json.loads(raw)

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
            at, _, count = _text(raw).partition(":") if raw is not None else ("", "", "0")
            usages.append(int(count) if at == str(index) else 0)
        return usages

    def add_delivery(self, delivery: Delivery) -> None:
        """Record a webhook delivery (its id unique) that is due later."""
        self._add(
            keys=[*self._delivery_keys, self._counters],
            args=[
                delivery.id,
                json.dumps(delivery.document()),
                delivery.status,
                repr(float(delivery.due_at)),
                MAX_DELIVERIES,
                PRUNE_STEP,
            ],
        )

    def deliveries(self) -> list[Delivery]:
        """Every recorded delivery, oldest first."""
        documents, status, order = self._delivery_keys[:3]
        pipe = self.client.pipeline(transaction=True)
        pipe.zrange(order, 0, -1)
        pipe.hgetall(documents)
        pipe.hgetall(status)
        ids, texts, states = pipe.execute()
        found = []
        for raw_id in ids:
            text = texts.get(raw_id)
            if text is not None:
                found.append(_with_status(text, states.get(raw_id)))
        return found

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        """One delivery by id."""
        documents, status = self._delivery_keys[:2]
        pipe = self.client.pipeline(transaction=True)
        pipe.hget(documents, delivery_id)
        pipe.hget(status, delivery_id)
        text, state = pipe.execute()
        return None if text is None else _with_status(text, state)

    def update_delivery(self, delivery_id: str, changes: DeliveryChanges) -> None:
        """Apply `changes` to a delivery (compare and set on the server, retried on a conflict)."""
        documents = self._delivery_keys[0]
        for _ in range(100):
            text = self.client.hget(documents, delivery_id)
            if text is None:
                return
            delivery = Delivery.from_document(json.loads(text)).changed(changes)
            status = changes.get("status", "")
            done = self._update(
                keys=self._delivery_keys,
                args=[delivery_id, text, json.dumps(delivery.document()), status, repr(delivery.due_at)],
            )
            if int(done) != 0:
                if status and status != "in_flight":
                    with self._held_lock:
                        self._held.discard(delivery_id)
                return
        raise RuntimeError(f"delivery {delivery_id} kept changing under an update")

    def claim_due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        """Atomically take up to `limit` pending deliveries with `due_at <= now`, marking them in flight.

        Each claim is leased to this process; a claim whose process died is requeued once its
        lease runs out, and claimed again (here or by another process).
        """
        found = self._claim(
            keys=self._delivery_keys, args=[repr(float(now)), int(limit), self.lease_seconds, self.owner]
        )
        claimed = []
        for raw_id, text in zip(found[::2], found[1::2], strict=True):
            claimed.append(_with_status(text, "in_flight"))
            with self._held_lock:
                self._held.add(_text(raw_id))
        if claimed:
            self._ensure_renewer()
        return claimed

    def requeue_in_flight(self) -> int:
        """Put deliveries whose claim expired (their process died) back to pending; how many.

        Claims other live processes hold are left alone: they renew their leases.
        """
        return int(self._requeue(keys=self._delivery_keys))

    def _ensure_renewer(self) -> None:
        with self._held_lock:
            if self._renewer is not None:
                return
            self._renewer = threading.Thread(target=self._renew_loop, name="fakeapollo-leases", daemon=True)
            self._renewer.start()

    def _renew_loop(self) -> None:
        """Extend the leases this process holds every third of a lease, until closed."""
        while not self._closed.wait(self.lease_seconds / 3):
            with self._held_lock:
                held = list(self._held)
            if not held:
                continue
            try:
                self._renew(keys=self._delivery_keys, args=[self.lease_seconds, self.owner, *held])
            except redis.RedisError:
                log.warning("could not renew webhook delivery leases", exc_info=True)

    def reset(self) -> None:
        """Forget everything this deployment shares (its prefix only): back to a fresh emulator."""
        names = ["counters", "windows", "documents", "journal", "scenarios", "scenarios:order"]
        doomed = [self.keys(name) for name in names] + self._delivery_keys
        self.mirror.sync()  # the journal entries processes still hold go with the rest
        self.mirror.change(lambda pipe: pipe.delete(*doomed))
        with self._held_lock:
            self._held.clear()

    def close(self) -> None:
        """Stop renewing leases and listening for changes; close the connections."""
        self._closed.set()
        self.behind.close()
        self.mirror.close()
        self.client.close()


def _with_status(text: bytes | str, status: bytes | str | None) -> Delivery:
    """A delivery from its document, with its authoritative status (kept apart, changed by the scripts)."""
    document = json.loads(text)
    if status is not None and isinstance(document, dict):
        document["status"] = _text(status)
    return Delivery.from_document(document)


class RedisAliases(SharedAliasIndex):
    """The alias index in one hash on the server, with a local cache in front (misses included).

    Most lookups are of emails nobody aliased (a person's own email is its identity): remembering
    the miss saves a round trip on every request for a person this process already served.
    """

    remember_misses = True

    def __init__(self, client: redis.Redis, keys: Keys, local: LRUMap, round_trips: RoundTrips) -> None:
        super().__init__(local)
        self.client = client
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
        kind, _, value = _text(raw).partition("\t")
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
