"""Connecting to a Redis (or Valkey) server: URLs, the client, and the names of one deployment's keys."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PREFIX = "fakeapollo"
# Seconds to wait for the server on connect and on each reply; a dead server is a clear error.
SOCKET_TIMEOUT = 10.0

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


def text(value: bytes | str) -> str:
    """A reply as text."""
    return value.decode() if isinstance(value, bytes) else value
