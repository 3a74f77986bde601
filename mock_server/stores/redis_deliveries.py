"""The Redis store's webhook deliveries: moved between pending, in flight and finished only by scripts.

A claim is leased to the process that took it, in the server's own time (TIME): a delivery whose
claimer died goes back to pending once its lease runs out, and a live claimer renews its leases
from a thread.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid

import redis

from mock_server.domain.store import MAX_DELIVERIES, PRUNE_STEP
from mock_server.domain.webhooks.delivery import Delivery, DeliveryChanges
from mock_server.stores.redis_client import Keys, text

log = logging.getLogger("fakeapollo.redis")

# Seconds a claimed webhook delivery stays with its claimer; renewed every third of it while alive.
DEFAULT_LEASE = 30.0

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


class RedisDeliveries:
    """The deliveries of one deployment, and this process's claims on them."""

    def __init__(self, client: redis.Redis, keys: Keys, lease_seconds: float = DEFAULT_LEASE) -> None:
        self.client = client
        self.lease_seconds = lease_seconds
        self.keys = keys.deliveries()
        self.counters = keys("counters")
        self._add = client.register_script(ADD)
        self._claim = client.register_script(CLAIM)
        self._requeue = client.register_script(REQUEUE_EXPIRED)
        self._renew = client.register_script(RENEW)
        self._update = client.register_script(UPDATE)
        # This process's claims, whose leases the renewer thread extends while they are in flight.
        self.owner = uuid.uuid4().hex
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()

    def add(self, delivery: Delivery) -> None:
        """Record a webhook delivery (its id unique) that is due later."""
        self._add(
            keys=[*self.keys, self.counters],
            args=[
                delivery.id,
                json.dumps(delivery.document()),
                delivery.status,
                repr(float(delivery.due_at)),
                MAX_DELIVERIES,
                PRUNE_STEP,
            ],
        )

    def all(self) -> list[Delivery]:
        """Every recorded delivery, oldest first."""
        documents, status, order = self.keys[:3]
        pipe = self.client.pipeline(transaction=True)
        pipe.zrange(order, 0, -1)
        pipe.hgetall(documents)
        pipe.hgetall(status)
        ids, texts, states = pipe.execute()
        found = []
        for raw_id in ids:
            stored = texts.get(raw_id)
            if stored is not None:
                found.append(_with_status(stored, states.get(raw_id)))
        return found

    def get(self, delivery_id: str) -> Delivery | None:
        """One delivery by id."""
        documents, status = self.keys[:2]
        pipe = self.client.pipeline(transaction=True)
        pipe.hget(documents, delivery_id)
        pipe.hget(status, delivery_id)
        stored, state = pipe.execute()
        return None if stored is None else _with_status(stored, state)

    def update(self, delivery_id: str, changes: DeliveryChanges) -> None:
        """Apply `changes` to a delivery (compare and set on the server, retried on a conflict)."""
        documents = self.keys[0]
        for _ in range(100):
            stored = self.client.hget(documents, delivery_id)
            if stored is None:
                return
            delivery = Delivery.from_document(json.loads(stored)).changed(changes)
            status = changes.get("status", "")
            done = self._update(
                keys=self.keys,
                args=[delivery_id, stored, json.dumps(delivery.document()), status, repr(delivery.due_at)],
            )
            if int(done) != 0:
                if status and status != "in_flight":
                    with self._held_lock:
                        self._held.discard(delivery_id)
                return
        raise RuntimeError(f"delivery {delivery_id} kept changing under an update")

    def claim_due(self, now: float, limit: int) -> list[Delivery]:
        """Atomically take up to `limit` pending deliveries with `due_at <= now`, marking them in flight.

        Each claim is leased to this process; a claim whose process died is requeued once its
        lease runs out, and claimed again (here or by another process).
        """
        args: list[str | int | float] = [repr(float(now)), int(limit), self.lease_seconds, self.owner]
        found = self._claim(keys=self.keys, args=args)
        claimed = []
        for raw_id, stored in zip(found[::2], found[1::2], strict=True):
            claimed.append(_with_status(stored, "in_flight"))
            with self._held_lock:
                self._held.add(text(raw_id))
        if claimed:
            self._ensure_renewer()
        return claimed

    def requeue_expired(self) -> int:
        """Put deliveries whose claim expired (their process died) back to pending; how many.

        Claims other live processes hold are left alone: they renew their leases.
        """
        return int(self._requeue(keys=self.keys))

    def forget_claims(self) -> None:
        """Drop this process's claims (after a reset deleted the deliveries)."""
        with self._held_lock:
            self._held.clear()

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
                self._renew(keys=self.keys, args=[self.lease_seconds, self.owner, *held])
            except redis.RedisError:
                log.warning("could not renew webhook delivery leases", exc_info=True)

    def close(self) -> None:
        """Stop renewing leases."""
        self._closed.set()


def _with_status(stored: bytes | str, status: bytes | str | None) -> Delivery:
    """A delivery from its document, with its authoritative status (kept apart, changed by the scripts)."""
    document = json.loads(stored)
    if status is not None and isinstance(document, dict):
        document["status"] = text(status)
    return Delivery.from_document(document)
