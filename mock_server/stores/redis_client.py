"""Connecting to a Redis (or Valkey) server: URLs, the client, key names, and outages (`Health`).

While the server is away every call fails at once with a 503, until it answers again.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mock_server.domain.errors import StoreUnavailable

log = logging.getLogger("fakeapollo.redis")

SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PREFIX = "fakeapollo"
# Seconds to wait for a connection. A dead server on a reachable host refuses at once.
CONNECT_TIMEOUT = 2.0
# Seconds to wait for each reply. Every reply the store waits for takes a millisecond or so (its
# scripts are short, long reads arrive in parts); a server that says nothing for this long is
# stalled. A call on the event loop holds the loop at most this long, once: the calls after it
# fail at once until the server answers again (`Health`).
SOCKET_TIMEOUT = 2.0
# Seconds between the PINGs that look for a server that went away coming back.
PROBE_INTERVAL = 0.25

# Deliveries live in: documents (id -> JSON), status (id -> status), order (zset, id by sequence),
# pending (zset, id by due_at), leases (zset, id by lease expiry in server seconds), owners
# (id -> claimer), leased_due (id -> due_at, to requeue an expired claim at its place).
DELIVERY_KEYS = ("documents", "status", "order", "pending", "leases", "owners", "leased_due")


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
            socket_connect_timeout=CONNECT_TIMEOUT,
            health_check_interval=30,
            # One fresh connection after a lost one, at once; never a call again after a reply
            # that did not come (a stalled server would hold the caller once per try). redis-py's
            # default, ten tries with back-off, held every request for seconds while the server
            # was away.
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
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


def text(value: bytes | str) -> str:
    """A reply as text."""
    return value.decode() if isinstance(value, bytes) else value


# The errors that say the server is away (down, unreachable, stalled, loading its data after a
# restart), as opposed to a mistake in a call.
OUTAGES = (redis.ConnectionError, redis.TimeoutError)


class Health:
    """Whether the server answers.

    After a call finds it away, every call fails at once with StoreUnavailable (a 503) instead of
    waiting on it, until a PING from a thread is answered again.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = describe(url)
        self.down = False
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def lost(self, error: BaseException) -> StoreUnavailable:
        """Note that a call found the server away; the 503 to raise instead."""
        with self._lock:
            if not self.down and not self._closed.is_set():
                self.down = True
                log.warning("Redis at %s does not answer (%s): 503 until it does", self.where, error)
                threading.Thread(target=self._probe, name="fakeapollo-redis-probe", daemon=True).start()
        return StoreUnavailable()

    def _probe(self) -> None:
        """PING until the server answers, then let calls through again."""
        client = connect(self.url)
        try:
            while not self._closed.wait(PROBE_INTERVAL):
                try:
                    client.ping()
                except redis.RedisError:
                    continue
                with self._lock:
                    self.down = False
                log.warning("Redis at %s answers again", self.where)
                return
        finally:
            client.close()

    def close(self) -> None:
        """Stop probing."""
        self._closed.set()


Kind = TypeVar("Kind", bound=type)


def guarded(*names: str) -> Callable[[Kind], Kind]:
    """A class decorator: the methods `names` of the class turn an outage into StoreUnavailable.

    While the server is known to be away they fail at once. Instances keep their `Health` in
    `self.health`. Only methods that talk to the server are named: one that queues a write behind
    the answers (the journal's `record`) must never fail for an outage.
    """

    def decorate(cls: Kind) -> Kind:
        for name in names:
            setattr(cls, name, _guard(getattr(cls, name)))
        return cls

    return decorate


def _guard(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        health: Health = self.health
        if health.down:
            raise StoreUnavailable()
        try:
            return method(self, *args, **kwargs)
        except OUTAGES as error:
            raise health.lost(error) from error

    return call
