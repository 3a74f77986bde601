"""A durable store in one SQLite file (WAL): shared by worker processes, surviving a crash."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from mock_server.domain.clock import Shifted, shifted
from mock_server.domain.files import is_regular_file
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
from mock_server.domain.scenarios import (
    Outcome,
    Scenario,
    scenario_from_document,
    scenario_from_json,
    scenario_to_json,
)
from mock_server.domain.store import MAX_DELIVERIES, PRUNE_STEP, SPEND_TOLERANCE, SharedAliasIndex
from mock_server.domain.webhooks.delivery import Delivery, DeliveryChanges, DeliveryStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
    scope TEXT NOT NULL, name TEXT NOT NULL, idx INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (scope, name));
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, due_at REAL NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, due_at);
CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clock (
    id INTEGER PRIMARY KEY CHECK (id = 1), offset REAL NOT NULL, frozen_at REAL);
"""


class Database:
    """One connection per thread to the same file, autocommit, with short write transactions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        if not path.exists():
            # Created readable by its owner only: it holds the key registry (SQLite gives the
            # -wal and -shm files the same mode).
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.connection().executescript(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        """The calling thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection; a thread that calls again later opens a new one."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        self._local = threading.local()
        for conn in opened:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction: atomic across threads and processes."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query outside any write transaction."""
        return self.connection().execute(sql, args).fetchall()


def _incr(db: sqlite3.Connection, key: str, amount: float) -> float:
    db.execute(
        "INSERT INTO counters (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value + ?",
        (key, amount, amount),
    )
    return float(db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()[0])


def _set_status(db: sqlite3.Connection, delivery_id: str, text: str, status: DeliveryStatus) -> Delivery:
    """Move one delivery row (its JSON `text`) to `status`, in its column and its document."""
    delivery = Delivery.from_document(json.loads(text)).changed({"status": status})
    db.execute(
        "UPDATE deliveries SET status = ?, doc = ? WHERE id = ?",
        (status, json.dumps(delivery.document()), delivery_id),
    )
    return delivery


def _columns(db: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table of a database and its column names, in order."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: [col[1] for col in db.execute(f"PRAGMA table_info('{t}')")] for t in tables}


def check_state_file(path: Path) -> str | None:
    """Why `path` cannot be the state file, or None: it must be writable, sound and ours.

    Sound: SQLite's `PRAGMA quick_check` answers ok. Ours: every table it shares with fakeapollo's
    schema has the same columns (a table it lacks is created).
    """
    if not path.exists():
        return None if os.access(path.parent, os.W_OK) else f"state file {path}: its folder is not writable"
    if not is_regular_file(path):
        return f"state file {path} is not a file"
    # The mode bits too: root may write to a read-only file, but a read-only file says "keep out".
    if not os.access(path, os.R_OK | os.W_OK) or not path.stat().st_mode & stat.S_IWUSR:
        return f"state file {path} is read-only; fakeapollo writes to it (chmod u+rw, or choose another file)"
    if not os.access(path.parent, os.W_OK):
        return f"state file {path}: its folder is not writable (SQLite keeps its -wal file beside it)"
    expected_db = sqlite3.connect(":memory:")
    try:
        expected_db.executescript(SCHEMA)
        expected = _columns(expected_db)
    finally:
        expected_db.close()
    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            verdict = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
            if verdict != ["ok"]:
                return f"state file {path} is damaged (SQLite quick_check: {'; '.join(map(str, verdict))})"
            found = _columns(db)
        finally:
            db.close()
    except sqlite3.Error as exc:
        if "malformed" in str(exc):
            return f"state file {path} is damaged (SQLite: {exc})"
        return f"state file {path} is not a usable SQLite database ({exc})"
    for table, columns in expected.items():
        if table in found and found[table] != columns:
            return f"state file {path} is not a fakeapollo state file (table {table!r} has other columns)"
    return None


class SqliteClockState:
    """The clock's offset and frozen instant, shared by every process on the file."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def has_value(self) -> bool:
        """Whether a clock was stored before (a restart on an existing file)."""
        return bool(self.database.read("SELECT 1 FROM clock WHERE id = 1"))

    def load(self) -> tuple[float, float | None]:
        """The stored (offset, frozen_at)."""
        return _clock(self.database.read(CLOCK_QUERY))

    def save(self, offset: float, frozen_at: float | None) -> None:
        """Store (offset, frozen_at)."""
        with self.database.write() as db:
            _save_clock(db, offset, frozen_at)

    def shift(self, seconds: float, check: Shifted) -> None:
        """Add `seconds` to the offset and the frozen instant: one write transaction (refused: rollback)."""
        with self.database.write() as db:
            _save_clock(db, *shifted(_clock(db.execute(CLOCK_QUERY).fetchall()), seconds, check))


CLOCK_QUERY = "SELECT offset, frozen_at FROM clock WHERE id = 1"


def _clock(rows: list[Any]) -> tuple[float, float | None]:
    """The (offset, frozen_at) of CLOCK_QUERY's rows; (0, None) when none is stored."""
    if not rows:
        return 0.0, None
    offset, frozen_at = rows[0]
    return float(offset), None if frozen_at is None else float(frozen_at)


def _save_clock(db: sqlite3.Connection, offset: float, frozen_at: float | None) -> None:
    db.execute(
        "INSERT INTO clock (id, offset, frozen_at) VALUES (1, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET offset = excluded.offset, frozen_at = excluded.frozen_at",
        (offset, frozen_at),
    )


class SqliteJournal:
    """The request journal as a ring of rows: the newest `size` entries within `max_bytes` are kept.

    Here an entry's bytes are those of its stored row (its JSON document).
    """

    def __init__(self, database: Database, size: int = DEFAULT_SIZE, max_bytes: int = DEFAULT_BYTES) -> None:
        if size < 1:
            raise ValueError("the journal needs room for at least one entry")
        self.database = database
        self.size = size
        self.max_bytes = max_bytes
        with database.write() as db:  # a state file from before the running total: count it once
            if db.execute("SELECT 1 FROM counters WHERE key = 'journal_bytes'").fetchone() is None:
                (held,) = db.execute("SELECT COALESCE(SUM(length(doc)), 0) FROM journal").fetchone()
                _incr(db, "journal_bytes", int(held))
            # The first process on the file draws the fingerprint secret; every later one reads it.
            # A reset leaves it (and its table) alone: it never changes for the file.
            db.execute(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES ('journal_fingerprint', ?)",
                (new_fingerprint_secret(),),
            )
            (secret,) = db.execute(
                "SELECT value FROM secrets WHERE name = 'journal_fingerprint'"
            ).fetchone()
        self._fingerprint = Fingerprints(secret)

    def fingerprint(self, key: str | None) -> str | None:
        """The keyed fingerprint of `key` under the file's secret, the same in every process."""
        return self._fingerprint(key)

    def next_sequence(self) -> int:
        """A fresh entry number, unique across processes."""
        with self.database.write() as db:
            return int(_incr(db, "journal_sequence", 1))

    def record(self, entry: Entry | Deferred) -> None:
        """Append an entry (a `Deferred` one built at once), dropping the oldest past the ring's bounds.

        The bytes held are kept as a running total (counter `journal_bytes`), so a write reads only
        the rows it drops; summing every row's length on each write made `--workers 2` ten times slower.
        """
        entry = built(entry)
        with self.database.write() as db:
            if not entry.sequence:
                entry.sequence = int(_incr(db, "journal_sequence", 1))
            text = entry_to_json(entry)
            replaced = db.execute(
                "SELECT length(doc) FROM journal WHERE seq = ?", (entry.sequence,)
            ).fetchone()
            db.execute("INSERT OR REPLACE INTO journal (seq, doc) VALUES (?, ?)", (entry.sequence, text))
            held = _incr(db, "journal_bytes", len(text) - (int(replaced[0]) if replaced else 0))
            cut = db.execute(
                "SELECT seq FROM journal ORDER BY seq DESC LIMIT 1 OFFSET ?", (self.size,)
            ).fetchone()
            if cut is not None:
                held = self._drop(db, "seq <= ?", (cut[0],))
            if held > self.max_bytes:
                # The newest rows whose lengths add up to the budget stay (the newest always does).
                self._drop(
                    db,
                    "seq < (SELECT MAX(seq) FROM journal) AND seq <= ("
                    " SELECT seq FROM (SELECT seq, SUM(length(doc)) OVER (ORDER BY seq DESC) AS held"
                    " FROM journal) WHERE held > ? ORDER BY seq DESC LIMIT 1)",
                    (self.max_bytes,),
                )

    @staticmethod
    def _drop(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> float:
        """Delete the journal rows `where` selects; the bytes still held afterwards."""
        query = f"SELECT COALESCE(SUM(length(doc)), 0) FROM journal WHERE {where}"
        (dropped,) = db.execute(query, args).fetchone()
        db.execute(f"DELETE FROM journal WHERE {where}", args)
        return _incr(db, "journal_bytes", -int(dropped))

    def usage(self) -> JournalUsage:
        """Entries and bytes held now, and the bounds."""
        ((count, held),) = self.database.read("SELECT COUNT(*), COALESCE(SUM(length(doc)), 0) FROM journal")
        return JournalUsage(int(count), int(held), self.size, self.max_bytes)

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
        rows = self.database.read("SELECT doc FROM journal ORDER BY seq")
        found = [entry_from_json(text) for (text,) in rows]
        return filter_entries(
            found, path=path, status=status, fingerprint=self.fingerprint(api_key), since=since, limit=limit
        )

    def clear(self) -> None:
        """Forget every entry."""
        with self.database.write() as db:
            db.execute("DELETE FROM journal")
            db.execute("DELETE FROM counters WHERE key IN ('journal_sequence', 'journal_bytes')")


class SqliteScenarioBook:
    """Queued scenarios in the shared file; taking one is atomic across processes."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, document: Any) -> Scenario:
        """Queue a scenario described by the control API's JSON."""
        with self.database.write() as db:
            number = int(_incr(db, "scenario_sequence", 1))
            scenario = scenario_from_document(document, f"scn_{number}")
            db.execute(
                "INSERT INTO scenarios (id, seq, doc) VALUES (?, ?, ?)",
                (scenario.id, number, scenario_to_json(scenario)),
            )
            return scenario

    def list(self) -> list[Scenario]:
        """Every queued scenario, oldest first."""
        rows = self.database.read("SELECT doc FROM scenarios ORDER BY seq")
        return [scenario_from_json(text) for (text,) in rows]

    def remove(self, scenario_id: str) -> bool:
        """Delete one scenario; False when there is none with that id."""
        with self.database.write() as db:
            return db.execute("DELETE FROM scenarios WHERE id = ?", (scenario_id,)).rowcount > 0

    def clear(self) -> None:
        """Delete every scenario."""
        with self.database.write() as db:
            db.execute("DELETE FROM scenarios")
            db.execute("DELETE FROM counters WHERE key = 'scenario_sequence'")

    def take(self, path: str, api_key: str | None, params: Mapping[str, Any]) -> Outcome | None:
        """The outcome of the first scenario matching this request, using up one of its times."""
        if not self.database.read("SELECT 1 FROM scenarios LIMIT 1"):
            return None  # the common case: nothing queued, no write lock taken
        with self.database.write() as db:
            for (text,) in db.execute("SELECT doc FROM scenarios ORDER BY seq").fetchall():
                scenario = scenario_from_json(text)
                if not scenario.matches(path, api_key, params):
                    continue
                applies = scenario.use()
                if scenario.used_up:
                    db.execute("DELETE FROM scenarios WHERE id = ?", (scenario.id,))
                else:
                    db.execute(
                        "UPDATE scenarios SET doc = ? WHERE id = ?",
                        (scenario_to_json(scenario), scenario.id),
                    )
                if applies:
                    return scenario.applied()
        return None


class SqliteStore:
    """The Store interface on one SQLite file, for `--workers N` and `--state-file PATH`."""

    # A write may wait for another process's lock: the server calls it off its event loop.
    blocking = True
    #: Its calls take turns on one thread per process (mock_server/web/asgi.py): several threads of one
    #: process contending for the write lock made `--workers 2` slower (bench/).
    serial = True

    def __init__(
        self, path: Path, journal_size: int = DEFAULT_SIZE, journal_bytes: int = DEFAULT_BYTES
    ) -> None:
        self.database = Database(path)
        self.journal = SqliteJournal(self.database, journal_size, journal_bytes)
        self.scenarios = SqliteScenarioBook(self.database)
        self.clock_state = SqliteClockState(self.database)

    def alias_map(self) -> SharedAliases:
        """The alias index in the shared file, so an id served by one worker resolves in another."""
        from mock_server.domain.directory import ALIAS_INDEX_SIZE, LRUMap

        # As large as the in-memory store's index (RedisStore.alias_map says why).
        return SharedAliases(self.database, LRUMap(ALIAS_INDEX_SIZE))

    def incr(self, key: str, amount: float = 1) -> float:
        """Atomically add `amount` to counter `key` and return the new value."""
        with self.database.write() as db:
            return _incr(db, key, amount)

    def settle(self) -> None:
        """Nothing to do: every write is applied at once."""

    def get(self, key: str) -> float:
        """The value of counter `key` (0 when never touched)."""
        rows = self.database.read("SELECT value FROM counters WHERE key = ?", (key,))
        return float(rows[0][0]) if rows else 0.0

    def spend(self, key: str, amount: float, limit: float | None, tally: str | None = None) -> bool:
        """Add `amount` to `key` (and `tally`) only if `key` stays within `limit`: one write transaction."""
        with self.database.write() as db:
            if limit is not None:
                row = db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()
                if (float(row[0]) if row else 0.0) + amount > limit + SPEND_TOLERANCE:
                    return False
            _incr(db, key, amount)
            if tally is not None:
                _incr(db, tally, amount)
            return True

    def get_document(self, name: str) -> Any:
        """The JSON document stored under `name`, or None."""
        rows = self.database.read("SELECT doc FROM documents WHERE name = ?", (name,))
        return json.loads(rows[0][0]) if rows else None

    def set_document(self, name: str, document: Any) -> None:
        """Store a JSON document under `name`."""
        with self.database.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO documents (name, doc) VALUES (?, ?)", (name, json.dumps(document))
            )

    def take(self, scope: str, windows: list[tuple[str, int, int | None]]) -> tuple[bool, list[int]]:
        """Atomically count one call in each (name, index, limit) window unless one is full."""
        with self.database.write() as db:
            usages = []
            for name, index, _ in windows:
                row = db.execute(
                    "SELECT idx, count FROM windows WHERE scope = ? AND name = ?", (scope, name)
                ).fetchone()
                usages.append(int(row[1]) if row is not None and row[0] == index else 0)
            allowed = all(
                limit is None or used < limit for used, (_, _, limit) in zip(usages, windows, strict=True)
            )
            if not allowed:
                return False, usages
            for name, index, _ in windows:
                db.execute(
                    "INSERT INTO windows (scope, name, idx, count) VALUES (?, ?, ?, 1)"
                    " ON CONFLICT(scope, name) DO UPDATE SET"
                    " count = CASE WHEN idx = excluded.idx THEN count + 1 ELSE 1 END, idx = excluded.idx",
                    (scope, name, index),
                )
            return True, [used + 1 for used in usages]

    def peek(self, scope: str, windows: list[tuple[str, int]]) -> list[int]:
        """The usage of each (name, index) window, without counting."""
        usages = []
        for name, index in windows:
            rows = self.database.read(
                "SELECT idx, count FROM windows WHERE scope = ? AND name = ?", (scope, name)
            )
            usages.append(int(rows[0][1]) if rows and rows[0][0] == index else 0)
        return usages

    def add_delivery(self, delivery: Delivery) -> None:
        """Record a webhook delivery (its id unique) that is due later."""
        with self.database.write() as db:
            seq = int(_incr(db, "delivery_sequence", 1))
            db.execute(
                "INSERT OR REPLACE INTO deliveries (id, seq, status, due_at, doc) VALUES (?, ?, ?, ?, ?)",
                (delivery.id, seq, delivery.status, delivery.due_at, json.dumps(delivery.document())),
            )
            if seq % PRUNE_STEP == 0:  # now and then: forget the oldest finished beyond the cap
                db.execute(
                    "DELETE FROM deliveries WHERE status IN ('delivered', 'failed') AND seq <= ?",
                    (seq - MAX_DELIVERIES,),
                )

    def deliveries(self) -> list[Delivery]:
        """Every recorded delivery, oldest first."""
        rows = self.database.read("SELECT doc FROM deliveries ORDER BY seq")
        return [Delivery.from_document(json.loads(text)) for (text,) in rows]

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        """One delivery by id."""
        rows = self.database.read("SELECT doc FROM deliveries WHERE id = ?", (delivery_id,))
        return Delivery.from_document(json.loads(rows[0][0])) if rows else None

    def update_delivery(self, delivery_id: str, changes: DeliveryChanges) -> None:
        """Apply `changes` to a delivery (nothing when there is none with that id)."""
        with self.database.write() as db:
            row = db.execute("SELECT doc FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            if row is None:
                return
            delivery = Delivery.from_document(json.loads(row[0])).changed(changes)
            db.execute(
                "UPDATE deliveries SET status = ?, due_at = ?, doc = ? WHERE id = ?",
                (delivery.status, delivery.due_at, json.dumps(delivery.document()), delivery_id),
            )

    def claim_due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        """Atomically take up to `limit` pending deliveries with `due_at <= now`, marking them in flight."""
        if not self.database.read(
            "SELECT 1 FROM deliveries WHERE status = 'pending' AND due_at <= ? LIMIT 1", (now,)
        ):
            return []
        with self.database.write() as db:
            rows = db.execute(
                "SELECT id, doc FROM deliveries WHERE status = 'pending' AND due_at <= ?"
                " ORDER BY due_at, seq LIMIT ?",
                (now, limit),
            ).fetchall()
            return [_set_status(db, delivery_id, text, "in_flight") for delivery_id, text in rows]

    def requeue_in_flight(self) -> int:
        """Put deliveries left in flight (by a crash) back to pending; how many there were."""
        with self.database.write() as db:
            rows = db.execute("SELECT id, doc FROM deliveries WHERE status = 'in_flight'").fetchall()
            for delivery_id, text in rows:
                _set_status(db, delivery_id, text, "pending")
            return len(rows)

    def reset(self) -> None:
        """Forget everything: back to a freshly started emulator."""
        with self.database.write() as db:
            for table in ("counters", "windows", "deliveries", "journal", "scenarios", "documents"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        """Close this process's connections to the file (each thread's)."""
        self.database.close()


class SharedAliases(SharedAliasIndex):
    """The alias index in the shared file (table `aliases`), with a local cache in front."""

    def __init__(self, database: Database, local: Any) -> None:
        super().__init__(local)
        self.database = database
        database.connection().execute(
            "CREATE TABLE IF NOT EXISTS aliases (key TEXT PRIMARY KEY, kind TEXT, value TEXT)"
        )

    def _load(self, key: str) -> tuple[str, str] | None:
        rows = self.database.read("SELECT kind, value FROM aliases WHERE key = ?", (key,))
        return (rows[0][0], rows[0][1]) if rows else None

    def _save(self, key: str, kind: str, value: str, *, overwrite: bool) -> None:
        verb = "INSERT OR REPLACE" if overwrite else "INSERT OR IGNORE"
        with self.database.write() as db:
            db.execute(f"{verb} INTO aliases (key, kind, value) VALUES (?, ?, ?)", (key, kind, value))

    def _save_new(self, rows: list[tuple[str, str, str]]) -> None:
        with self.database.write() as db:
            db.executemany("INSERT OR IGNORE INTO aliases (key, kind, value) VALUES (?, ?, ?)", rows)

    def _forget(self) -> None:
        with self.database.write() as db:
            db.execute("DELETE FROM aliases")
