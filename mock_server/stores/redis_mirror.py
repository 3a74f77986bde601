"""The Redis store's local copies of rarely changing values, dropped everywhere on each change."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

from mock_server.stores.redis_client import SOCKET_TIMEOUT, Keys, text

log = logging.getLogger("fakeapollo.redis")

# Seconds a change (clock, keys, scenarios, reset) waits for every process to drop its copies, and
# a journal read for every process to write the entries it holds.
ACK_TIMEOUT = 2.0
# Seconds one BLPOP for acknowledgements waits at most (below the client's SOCKET_TIMEOUT).
ACK_SLICE = 0.5
# A message on the change channel that asks for a sync (Mirror.sync), not a change: this, then a nonce.
SYNC = "sync:"
_MISSING = object()


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
        # A copy is read without the lock (one dict read); a change drops it before it acknowledges.
        if self._live:
            value = self._values.get(name, _MISSING)
            if value is not _MISSING:
                return value
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
        acknowledged = 0
        while acknowledged < receivers:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("a process did not acknowledge a change within %s s", ACK_TIMEOUT)
                break
            # In slices well inside the client's reply timeout, which a longer BLPOP would trip.
            if self.client.blpop([key], timeout=min(left, ACK_SLICE)) is not None:
                acknowledged += 1
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
                        nonce = text(message["data"])
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
            except (redis.RedisError, OSError, ValueError) as error:
                was_live = self.generation() is not None
                self._drop(live=False)  # read from the server until subscribed again
                if not self._closed.is_set():
                    if was_live:  # once per loss, not on every try to get it back
                        log.warning("lost the change channel (%s): reading from Redis until back", error)
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
