"""The Redis store's request journal: written behind the answers, in batches, and synced before a read.

An answered request's entry goes to the store's write-behind thread (mock_server/stores/redis_batch.py),
which sends whatever has queued in one pipeline, so no request waits on the journal. A read or a
clear first asks every process sharing the store to write what it holds (the Mirror's sync: a message
on its channel, each process acknowledging once its writer is empty), so the entry of a request
answered before the read began is there, whichever process answered it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import redis
from redis.client import Pipeline

from mock_server.domain.journal import (
    DEFAULT_BYTES,
    DEFAULT_SIZE,
    Deferred,
    Entry,
    Fingerprints,
    JournalUsage,
    built,
    entry_from_json,
    entry_to_json,
    filter_entries,
    new_fingerprint_secret,
)
from mock_server.stores.redis_client import Health, Keys, guarded

if TYPE_CHECKING:
    from mock_server.stores.redis_batch import WriteBehind

log = logging.getLogger("fakeapollo.redis")

# Append a batch of entries and trim the ring, atomically with the writes: the oldest go while over
# the entry count or the bytes (each entry's own size, kept in a list beside the entries, and their
# sum in the counters' journal_bytes); the newest always stays. The entries are numbered by their
# place: the list only grows at its tail and loses its head, and journal_sequence counts every entry
# ever appended, so the last entry's number is journal_sequence. KEYS: the entries (a list), their
# sizes (a list), the counters hash. ARGV: ring size, byte budget, the n entries, then their n sizes.
# Returns the last number. A batch costs the server a few commands, however many entries it holds.
RECORD = """
local size, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = (#ARGV - 2) / 2
local added = 0
for i = 3 + n, 2 + 2 * n do added = added + tonumber(ARGV[i]) end
local count = redis.call('RPUSH', KEYS[1], unpack(ARGV, 3, 2 + n))
redis.call('RPUSH', KEYS[2], unpack(ARGV, 3 + n, 2 + 2 * n))
local number = redis.call('HINCRBY', KEYS[3], 'journal_sequence', n)
local held = redis.call('HINCRBY', KEYS[3], 'journal_bytes', added)
local drop, kept = math.max(count - size, 0), held
if drop > 0 then
  for _, s in ipairs(redis.call('LRANGE', KEYS[2], 0, drop - 1)) do kept = kept - tonumber(s) end
end
local from = drop
while kept > budget and from < count - 1 do
  local last = math.min(from + n + 7, count - 2)
  for _, s in ipairs(redis.call('LRANGE', KEYS[2], from, last)) do
    if kept <= budget then break end
    kept = kept - tonumber(s)
    drop = drop + 1
  end
  from = last + 1
end
if drop > 0 then
  redis.call('LTRIM', KEYS[1], drop, -1)
  redis.call('LTRIM', KEYS[2], drop, -1)
  redis.call('HINCRBY', KEYS[3], 'journal_bytes', kept - held)
end
return number
"""
# How an entry whose answer's body is bytes is stored: this byte, the entry without its body as JSON,
# a newline, then the body's bytes as sent (not escaped into the JSON: a third shorter, and no
# encoding of the body's text). An entry given its body as text is stored as JSON (it starts with `{`).
_SPLIT = b"\x01"


def encode_entry(entry: Entry) -> bytes:
    """An entry as the journal list keeps it (`decode_entry` reads it back)."""
    body = entry.response_text
    if isinstance(body, str):
        return entry_to_json(entry).encode()
    bare = object.__new__(Entry)  # a shallow copy without the body (dataclasses.replace: 4x the time)
    bare.__dict__.update(vars(entry), response_text="")
    return b"".join((_SPLIT, entry_to_json(bare).encode(), b"\n", body))


def decode_entry(stored: bytes) -> Entry:
    """The entry `encode_entry` stored, its body as text (as `entry_to_json` keeps it)."""
    if not stored.startswith(_SPLIT):
        return entry_from_json(stored)
    head, _, body = stored.partition(b"\n")
    entry = entry_from_json(head[1:])
    entry.response_text = body.decode("utf-8", "replace")
    return entry


@guarded("usage", "entries", "clear")
class RedisJournal:
    """The request journal as a list on the server, oldest first, trimmed there.

    Entries are numbered by the script that writes them (the numbers follow their place in the list),
    so the numbers are unique across processes and follow the order they were written in. At most
    `size` entries and `max_bytes` (the lengths of the stored entries) are kept. `sync` is the
    Mirror's: it empties every process's writer before a read.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        behind: WriteBehind,
        sync: Callable[[], None],
        health: Health,
        size: int = DEFAULT_SIZE,
        max_bytes: int = DEFAULT_BYTES,
    ) -> None:
        if size < 1:
            raise ValueError("the journal needs room for at least one entry")
        self.client = client
        self.health = health
        self.size = size
        self.max_bytes = max_bytes
        self.key = keys("journal:entries")
        self.sizes = keys("journal:sizes")
        self.counters = keys("counters")
        self.script = client.register_script(RECORD)
        self._behind = behind
        self._sync = sync
        # The first process draws the fingerprint secret (SET NX); every later one reads it. A reset
        # leaves it alone: it never changes for the prefix.
        secret_key = keys("journal:secret")
        client.set(secret_key, new_fingerprint_secret(), nx=True)
        secret = client.get(secret_key) or b""
        self._fingerprint = Fingerprints(secret.decode() if isinstance(secret, bytes) else secret)

    def fingerprint(self, key: str | None) -> str | None:
        """The keyed fingerprint of `key` under the deployment's secret, the same in every process."""
        return self._fingerprint(key)

    def next_sequence(self) -> int:
        """0: the server numbers each entry when it is written."""
        return 0

    def record(self, entry: Entry | Deferred) -> None:
        """Queue an entry for the writer; it is numbered on the server, and the ring trimmed there."""
        self._behind.add(self, entry, entry.size)

    def write(self, pipe: Pipeline, items: list[Any]) -> None:
        """The writer's one script call for a batch of entries (built and encoded here, on its thread)."""
        stored = []
        for item in items:
            try:
                stored.append(encode_entry(built(item)))
            except Exception:  # an entry that cannot be built is lost alone, not with its batch
                log.exception("a journal entry could not be built")
        if not stored:
            return
        sizes = [len(one) for one in stored]
        pipe.evalsha(self.script.sha, 3, self.key, self.sizes, self.counters, self.size, self.max_bytes,
                     *stored, *sizes)  # fmt: skip

    def usage(self) -> JournalUsage:
        """Entries and bytes held now, and the bounds."""
        self._sync()
        pipe = self.client.pipeline(transaction=True)
        pipe.llen(self.key)
        pipe.hget(self.counters, "journal_bytes")
        count, held = pipe.execute()
        return JournalUsage(int(count), int(held or 0), self.size, self.max_bytes)

    def entries(
        self,
        *,
        path: str | None = None,
        status: int | None = None,
        api_key: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries, oldest first, filtered; `limit` keeps the newest ones."""
        self._sync()
        pipe = self.client.pipeline(transaction=True)
        pipe.lrange(self.key, 0, -1)
        pipe.hget(self.counters, "journal_sequence")
        stored, last = pipe.execute()
        first = int(last or 0) - len(stored) + 1
        found = []
        for number, one in enumerate(stored, first):
            entry = decode_entry(one)
            entry.sequence = number
            found.append(entry)
        return filter_entries(
            found, path=path, status=status, fingerprint=self.fingerprint(api_key), since=since, limit=limit
        )

    def clear(self) -> None:
        """Forget every entry (those other processes still held included)."""
        self._sync()
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key, self.sizes)
        pipe.hdel(self.counters, "journal_sequence", "journal_bytes")
        pipe.execute()
