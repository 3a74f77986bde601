"""The one state interface of the emulator, and its in-memory backend."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mock_server.domain.clock import ClockState, LocalClockState
from mock_server.domain.journal import DEFAULT_BYTES, DEFAULT_SIZE, Deferred, Entry, Journal, JournalUsage
from mock_server.domain.scenarios import Outcome, Scenario, ScenarioBook
from mock_server.domain.webhooks.delivery import FINISHED, Delivery, DeliveryChanges

if TYPE_CHECKING:
    from mock_server.domain.directory import AliasMap

# Deliveries kept at most; beyond it the oldest finished ones are forgotten (memory stays flat
# under load), so polling them answers request_id_unknown. Pending ones are never dropped.
MAX_DELIVERIES = 10_000
# Pruning runs once this many deliveries past the cap, not on every add (it scans the outbox).
PRUNE_STEP = 100
# Credits may be fractional (docs/apollo-facts.md 5): `spend` lets a sum this close to the limit through.
SPEND_TOLERANCE = 1e-9


class JournalStore(Protocol):
    """The request journal: a ring of the newest entries."""

    @property
    def size(self) -> int:
        """How many entries the ring holds at most."""
        ...

    def fingerprint(self, key: str | None) -> str | None:
        """The keyed fingerprint of the whole `key` (journal.key_fingerprint) that entries keep.

        Its secret is the same for every process sharing the store, and stays inside the store.
        """
        ...

    def next_sequence(self) -> int:
        """A fresh entry number."""
        ...

    def record(self, entry: Entry | Deferred) -> None:
        """Append an entry, dropping the oldest while over the entry count or the byte budget.

        An entry whose sequence is 0 is numbered by the store as it is kept. A `Deferred` one (an
        admitted call whose one secret is its registered key, as web/journaling.py left it) is built,
        and so masked, when the store chooses, before it leaves the process at the latest: when
        first read (memory), on the writer's thread (Redis), at once (SQLite).
        """
        ...

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
        ...

    def usage(self) -> JournalUsage:
        """Entries and bytes held now, and the bounds."""
        ...

    def clear(self) -> None:
        """Forget every entry."""
        ...


class ScenarioStore(Protocol):
    """Queued scenarios."""

    def add(self, document: Any) -> Scenario:
        """Queue a scenario described by the control API's JSON."""
        ...

    def list(self) -> list[Scenario]:
        """Every queued scenario, oldest first."""
        ...

    def remove(self, scenario_id: str) -> bool:
        """Delete one scenario; False when there is none with that id."""
        ...

    def clear(self) -> None:
        """Delete every scenario."""
        ...

    def take(self, path: str, api_key: str | None, params: Mapping[str, Any]) -> Outcome | None:
        """The outcome of the first scenario matching this request, using up one of its times."""
        ...


class Store(Protocol):
    """Everything the emulator remembers between requests; services never hold state themselves."""

    @property
    def blocking(self) -> bool:
        """Whether a call may wait (on a lock, a disk, a far server): the server then calls it off its loop.

        May change while running (RedisStore: true only while recent round trips were slow).
        """
        ...

    @property
    def serial(self) -> bool:
        """Whether calls of one process should take turns on one thread (SQLite's write lock)."""
        ...

    @property
    def journal(self) -> JournalStore:
        """The request journal."""
        ...

    @property
    def scenarios(self) -> ScenarioStore:
        """The queued scenarios."""
        ...

    @property
    def clock_state(self) -> ClockState:
        """Where the clock keeps its offset and frozen instant."""
        ...

    def alias_map(self) -> AliasMap | None:
        """A shared alias index for the person directory, or None to let it keep its own."""
        ...

    def incr(self, key: str, amount: float = 1) -> float:
        """Atomically add `amount` to counter `key` and return the new value."""
        ...

    def spend(self, key: str, amount: float, limit: float | None, tally: str | None = None) -> bool:
        """Check and charge in one atomic step: add `amount` to counter `key` only if it stays within `limit`.

        The contract every backend keeps (tests/test_store.py runs it against each one):
        - when `limit` is None, or `get(key) + amount <= limit` (with a tolerance of
          `SPEND_TOLERANCE` for fractional credits), add `amount` to `key` and, when `tally` is
          given, to counter `tally` too, and return True;
        - otherwise change nothing (neither counter) and return False;
        - the read, the comparison and both additions are one indivisible step across every thread
          and process sharing the store: however many callers race, `key` never passes `limit`
          (SQLite: one `BEGIN IMMEDIATE` transaction; Redis: one Lua script or WATCH/MULTI);
        - `amount` is finite and > 0 (callers never spend nothing); a refund is `incr(key, -amount)`;
        - when `limit` is None nothing is checked, so a store may apply the additions later (Redis
          writes them behind the answer): `settle()` applies them before a read that needs them.
        """
        ...

    def get_document(self, name: str) -> Any:
        """The JSON document stored under `name`, or None."""
        ...

    def set_document(self, name: str, document: Any) -> None:
        """Store a JSON document under `name`."""
        ...

    def get(self, key: str) -> float:
        """The value of counter `key` (0 when never touched; an uncapped `spend` may need `settle` first)."""
        ...

    def settle(self) -> None:
        """Apply every write this store defers (uncapped `spend`s, in any process) before a read of them."""
        ...

    def take(self, scope: str, windows: list[tuple[str, int, int | None]]) -> tuple[bool, list[int]]:
        """Atomically count one call in each (name, index, limit) window unless one is full."""
        ...

    def peek(self, scope: str, windows: list[tuple[str, int]]) -> list[int]:
        """The usage of each (name, index) window, without counting."""
        ...

    def add_delivery(self, delivery: Delivery) -> None:
        """Record a webhook delivery (its id unique) that is due later."""
        ...

    def deliveries(self) -> list[Delivery]:
        """Every recorded delivery, oldest first."""
        ...

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        """One delivery by id."""
        ...

    def update_delivery(self, delivery_id: str, changes: DeliveryChanges) -> None:
        """Apply `changes` to a delivery (nothing when there is none with that id)."""
        ...

    def claim_due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        """Atomically take up to `limit` pending deliveries with `due_at <= now`, marking them in flight."""
        ...

    def requeue_in_flight(self) -> int:
        """Put deliveries left in flight (by a crash) back to pending; how many there were."""
        ...

    def reset(self) -> None:
        """Forget everything: back to a freshly started emulator."""
        ...

    def close(self) -> None:
        """Release connections and stop background threads; the state stays where it is kept."""
        ...


class MemoryStore:
    """A process-local store guarded by one lock; the default for a single process."""

    # Every call returns at once: the server may call it on its event loop.
    blocking = False
    serial = False

    def __init__(self, journal_size: int = DEFAULT_SIZE, journal_bytes: int = DEFAULT_BYTES) -> None:
        self._lock = threading.Lock()
        self._counters: defaultdict[str, float] = defaultdict(float)
        # (scope, window name) -> [window index, calls counted in it]: one slot per window, so
        # memory stays flat however long the server runs.
        self._windows: dict[tuple[str, str], list[int]] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._documents: dict[str, Any] = {}
        self.journal = Journal(journal_size, journal_bytes)
        self.scenarios = ScenarioBook()
        self.clock_state = LocalClockState()

    def incr(self, key: str, amount: float = 1) -> float:
        """Atomically add `amount` to counter `key` and return the new value."""
        with self._lock:
            self._counters[key] += amount
            return self._counters[key]

    def get(self, key: str) -> float:
        """The value of counter `key` (0 when never touched)."""
        with self._lock:
            return self._counters.get(key, 0.0)

    def settle(self) -> None:
        """Nothing to do: every write is applied at once."""

    def spend(self, key: str, amount: float, limit: float | None, tally: str | None = None) -> bool:
        """Add `amount` to `key` (and `tally`) only if `key` stays within `limit`, atomically."""
        with self._lock:
            if limit is not None and self._counters.get(key, 0.0) + amount > limit + SPEND_TOLERANCE:
                return False
            self._counters[key] += amount
            if tally is not None:
                self._counters[tally] += amount
            return True

    def get_document(self, name: str) -> Any:
        """The JSON document stored under `name`, or None (one dict read: atomic without the lock)."""
        return self._documents.get(name)

    def set_document(self, name: str, document: Any) -> None:
        """Store a JSON document under `name`."""
        with self._lock:
            self._documents[name] = document

    def take(self, scope: str, windows: list[tuple[str, int, int | None]]) -> tuple[bool, list[int]]:
        """Atomically count one call in each (name, index, limit) window unless one is full."""
        with self._lock:
            slots = []
            for name, index, _ in windows:
                slot = self._windows.get((scope, name))
                if slot is None or slot[0] != index:
                    slot = [index, 0]
                    self._windows[(scope, name)] = slot
                slots.append(slot)
            allowed = all(
                limit is None or slot[1] < limit for slot, (_, _, limit) in zip(slots, windows, strict=True)
            )
            if allowed:
                for slot in slots:
                    slot[1] += 1
            return allowed, [slot[1] for slot in slots]

    def peek(self, scope: str, windows: list[tuple[str, int]]) -> list[int]:
        """The usage of each (name, index) window, without counting."""
        with self._lock:
            usages = []
            for name, index in windows:
                slot = self._windows.get((scope, name))
                usages.append(slot[1] if slot is not None and slot[0] == index else 0)
            return usages

    def add_delivery(self, delivery: Delivery) -> None:
        """Record a webhook delivery (its id unique) that is due later."""
        with self._lock:
            self._deliveries[delivery.id] = delivery.copy()
            if len(self._deliveries) >= MAX_DELIVERIES + PRUNE_STEP:
                finished = [k for k, d in self._deliveries.items() if d.status in FINISHED]
                for key in finished[: len(self._deliveries) - MAX_DELIVERIES]:
                    del self._deliveries[key]

    def deliveries(self) -> list[Delivery]:
        """Every recorded delivery, oldest first."""
        with self._lock:
            return [d.copy() for d in self._deliveries.values()]

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        """One delivery by id."""
        with self._lock:
            found = self._deliveries.get(delivery_id)
            return None if found is None else found.copy()

    def update_delivery(self, delivery_id: str, changes: DeliveryChanges) -> None:
        """Apply `changes` to a delivery (nothing when there is none with that id)."""
        with self._lock:
            found = self._deliveries.get(delivery_id)
            if found is not None:
                self._deliveries[delivery_id] = found.changed(changes)

    def claim_due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        """Atomically take up to `limit` pending deliveries with `due_at <= now`, marking them in flight."""
        with self._lock:
            due = [d for d in self._deliveries.values() if d.status == "pending" and d.due_at <= now]
            due.sort(key=lambda d: d.due_at)
            claimed = []
            for delivery in due[:limit]:
                delivery.status = "in_flight"
                claimed.append(delivery.copy())
            return claimed

    def requeue_in_flight(self) -> int:
        """Put deliveries left in flight (by a crash) back to pending; how many there were."""
        with self._lock:
            stuck = [d for d in self._deliveries.values() if d.status == "in_flight"]
            for delivery in stuck:
                delivery.status = "pending"
            return len(stuck)

    def alias_map(self) -> AliasMap | None:
        """None: one process, so the person directory keeps its own alias index."""
        return None

    def reset(self) -> None:
        """Forget everything: back to a freshly started emulator."""
        with self._lock:
            self._counters.clear()
            self._windows.clear()
            self._documents.clear()
            self._deliveries.clear()
        self.journal.clear()
        self.scenarios.clear()

    def close(self) -> None:
        """Nothing to release: the state lives and dies with the process."""


_ABSENT = object()  # a SharedAliasIndex's local note that the shared copy has no such key


class SharedAliasIndex:
    """The person directory's alias index kept in a shared store, with a local LRU cache in front.

    An id served by one process must find the same person in another (identity chain). Subclasses
    say where the shared copy lives: `_load` (or `_claim`, which looks up and writes in one step),
    `_save`, `_save_new` and `_forget`.
    """

    # Whether a key found in neither copy is remembered as absent here (no second lookup). An alias
    # another process writes later is then missed here until this process writes or clears it.
    remember_misses = False

    def __init__(self, local: AliasMap) -> None:
        self.local = local

    @staticmethod
    def _key(key: Any) -> str:
        return "\t".join(str(part) for part in key) if isinstance(key, tuple) else str(key)

    def _load(self, key: str) -> tuple[str, str] | None:
        raise NotImplementedError

    def _save(self, key: str, kind: str, value: str, *, overwrite: bool) -> None:
        raise NotImplementedError

    def _save_new(self, rows: list[tuple[str, str, str]]) -> None:
        """Write each (key, kind, value) whose key the shared copy does not have yet, in one go."""
        raise NotImplementedError

    def _forget(self) -> None:
        raise NotImplementedError

    def _claim(self, key: str, rows: list[tuple[str, str, str]]) -> tuple[str, str] | None:
        """What the shared copy holds under `key`; when nothing, write each (key, kind, value) of `rows`.

        Here in two steps; a store that can do both in one round trip overrides it.
        """
        stored = self._load(key)
        if stored is None and rows:
            self._save_new(rows)
        return stored

    def get(self, key: Any) -> Any:
        """The identity stored under `key`, or None."""
        return self.resolve(key, list)

    def put(self, key: Any, value: Any, *, overwrite: bool = True) -> None:
        """Store `value` (an Identity) under `key`; written to the shared copy only when new here."""
        known = self.local.get(key)
        if known is not None and known is not _ABSENT and not overwrite:
            return
        self.local.put(key, value, overwrite=overwrite or known is _ABSENT)
        self._save(self._key(key), value.kind, value.value, overwrite=overwrite)

    def resolve(self, key: Any, fresh: Callable[[], list[tuple[Any, Any]]]) -> Any:
        """The identity under `key`, or None; new aliases from `fresh()` go in the same step.

        When the shared copy must be asked and has nothing under `key`, the (key, Identity) pairs
        `fresh()` makes are written to it in that same step.
        """
        from mock_server.domain.matching import Identity

        found = self.local.get(key)
        if found is not None:
            return None if found is _ABSENT else found
        pairs = fresh()
        new = self._unknown(pairs)
        stored = self._claim(self._key(key), [(self._key(k), v.kind, v.value) for k, v in new])
        if stored is not None:
            identity = Identity(*stored)
            self.local.put(key, identity)
            return identity
        for k, v in new:
            self.local.put(k, v)
        if self.remember_misses and all(k != key for k, _ in pairs):
            self.local.put(key, _ABSENT)
        return None

    def put_new(self, pairs: list[tuple[Any, Any]]) -> None:
        """Store each (key, Identity) not known here yet; one write to the shared copy for all of them."""
        new = self._unknown(pairs)
        for key, value in new:
            self.local.put(key, value)
        if new:
            self._save_new([(self._key(key), value.kind, value.value) for key, value in new])

    def _unknown(self, pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
        """The (key, Identity) pairs whose key this process does not know (or knows to be absent)."""
        return [(key, value) for key, value in pairs if self.local.get(key) in (None, _ABSENT)]

    def clear(self) -> None:
        """Forget every alias."""
        self.local.clear()
        self._forget()
