"""The Redis store's request journal: written behind the answers, in batches, and synced before a read.

An answered request's entry goes to the store's write-behind thread (mock_server/stores/redis_batch.py),
which sends whatever has queued in one pipeline, so no request waits on the journal. A read or a
clear first asks every process sharing the store to write what it holds (the Mirror's sync: a message
on its channel, each process acknowledging once its writer is empty), so the entry of a request
answered before the read began is there, whichever process answered it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import redis

from mock_server.domain.journal import (
    DEFAULT_BYTES,
    DEFAULT_SIZE,
    Entry,
    Fingerprints,
    JournalUsage,
    entry_from_json,
    entry_to_json,
    filter_entries,
    new_fingerprint_secret,
)
from mock_server.stores.redis_client import Health, Keys, guarded

if TYPE_CHECKING:
    from mock_server.stores.redis_batch import WriteBehind

# Append entries numbered here, atomically with the writes, and trim the ring: the oldest go while
# over the entry count or the bytes (the lengths of the stored members, kept in the counters'
# journal_bytes); the newest always stays. KEYS: the journal (a sorted set by number), the counters
# hash. ARGV: ring size, byte budget, then one entry's JSON each. Returns the last number.
RECORD = """
local size, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
local number = 0
for i = 3, #ARGV do
  number = redis.call('HINCRBY', KEYS[2], 'journal_sequence', 1)
  local member = number .. '\\n' .. ARGV[i]
  redis.call('ZADD', KEYS[1], number, member)
  redis.call('HINCRBY', KEYS[2], 'journal_bytes', string.len(member))
end
local held = tonumber(redis.call('HGET', KEYS[2], 'journal_bytes'))
local count = redis.call('ZCARD', KEYS[1])
while count > 1 and (count > size or held > budget) do
  local oldest = redis.call('ZPOPMIN', KEYS[1])
  held = redis.call('HINCRBY', KEYS[2], 'journal_bytes', -string.len(oldest[1]))
  count = count - 1
end
return number
"""


@guarded("usage", "entries", "clear")
class RedisJournal:
    """The request journal as a sorted set by entry number, trimmed on the server.

    Entries are numbered by the script that writes them (a member is the number, a newline, the
    JSON), so the numbers are unique across processes and follow the order they were written in.
    At most `size` entries and `max_bytes` (the lengths of the stored members) are kept. `sync` is
    the Mirror's: it empties every process's writer before a read.
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
        self.key = keys("journal")
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

    def record(self, entry: Entry) -> None:
        """Queue an entry for the writer; it is numbered on the server, and the ring trimmed there."""
        sha, key, counters, size, budget = self.script.sha, self.key, self.counters, self.size, self.max_bytes
        # Encoded on the writer's thread, behind the answer.
        self._behind.submit(
            lambda pipe: pipe.evalsha(sha, 2, key, counters, size, budget, entry_to_json(entry)), entry.size
        )

    def usage(self) -> JournalUsage:
        """Entries and bytes held now, and the bounds."""
        self._sync()
        pipe = self.client.pipeline(transaction=True)
        pipe.zcard(self.key)
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
        members: list[bytes] = self.client.zrange(self.key, 0, -1)  # type: ignore[assignment]
        found = []
        for member in members:
            number, _, text = member.partition(b"\n")
            entry = entry_from_json(text)
            entry.sequence = int(number)
            found.append(entry)
        return filter_entries(
            found, path=path, status=status, fingerprint=self.fingerprint(api_key), since=since, limit=limit
        )

    def clear(self) -> None:
        """Forget every entry (those other processes still held included)."""
        self._sync()
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key)
        pipe.hdel(self.counters, "journal_sequence", "journal_bytes")
        pipe.execute()
