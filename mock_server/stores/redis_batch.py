"""Batched writes for the Redis store: group commit for what an answer waits on, write-behind for the rest.

Group commit: while one batch of calls is on the wire, the calls other threads make wait; when it
is back, they all go out together in one pipeline (one round trip, one read and one write on the
server) instead of one after another. Each call is still its own script run, so each stays atomic
on the server, and the calls of a batch run in the order they were made. A lone call goes out at
once.

Write-behind: what no answer depends on goes to one writer thread per process and out in batches;
readers of it first ask every process to flush (the Mirror's sync, mock_server/stores/redis_mirror.py).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from mock_server.stores.redis_client import OUTAGES, Health

log = logging.getLogger("fakeapollo.redis")


# Round trips slower than this (seconds), when a request waits on them this long on average too, make
# the store's calls "blocking": the server then answers on worker threads, so that requests wait for
# Redis side by side instead of one after another. Below it, requests stay on the event loop: handing
# one to a thread and back cost more than such waits (bench/README.md, the Redis store).
SLOW_ROUND_TRIP = 0.001
# The weights of a round trip in the average of their times: a faster one than the average counts far
# more (it shows the server's distance; a slower one may be this machine's other work, holding this
# process or the server from a core). And the weight of a request in the round trips a request makes.
_RISE, _FALL = 0.02, 0.5
_REQUEST = 0.05


class RoundTrips:
    """How long the round trips a request waits on take, and how many a request makes (`blocking`).

    The round trips' average follows the fast ones more closely than the slow ones: on a busy machine
    of few cores some take milliseconds because this process waited for a core, which a thread would
    not shorten. The round trips a request makes decay with each request (`per_request`, which the
    store's `blocking` calls once a request): a store whose requests no longer wait on the server
    (write-behind, local copies) stays on the loop even if its last round trips were slow.
    """

    def __init__(self) -> None:
        self.average = 0.0
        self.per_call = 1.0  # round trips a request makes: one until requests say otherwise

    def observe(self, seconds: float) -> None:
        """Count one round trip that took `seconds` (races between threads only blur the averages)."""
        change = seconds - self.average
        self.average += change * (_RISE if change > 0 else _FALL)
        self.per_call += _REQUEST

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Observe the round trip made inside the block, a failed one included (a dead server is slow)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - started)

    def per_request(self) -> bool:
        """Count one request; whether requests lately waited on slow round trips (`slow`)."""
        self.per_call -= self.per_call * _REQUEST
        return self.slow

    @property
    def slow(self) -> bool:
        """Whether round trips are slow (a remote or busy server) and requests often wait on them."""
        return self.average > SLOW_ROUND_TRIP and self.average * self.per_call > SLOW_ROUND_TRIP


class _Call:
    """One script call waiting for its batch: what to send, and what came back."""

    __slots__ = ("script", "keys", "args", "result", "error", "done", "latch")

    def __init__(self, script: Script, keys: list[str], args: list[Any]) -> None:
        self.script = script
        self.keys = keys
        self.args = args
        self.result: Any = None
        self.error: Exception | None = None
        self.done = False
        # Held until the call is answered, or until it is this call's turn to send the next batch.
        self.latch = threading.Lock()
        self.latch.acquire()

    def outcome(self) -> Any:
        """The script's reply, or its error raised here, in the caller's thread."""
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Script calls of one process, batched while the server is busy with the batch before."""

    def __init__(self, client: redis.Redis, round_trips: RoundTrips) -> None:
        self.client = client
        self.round_trips = round_trips
        self._lock = threading.Lock()
        self._queue: list[_Call] = []
        self._busy = False

    def call(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run `script` with `keys` and `args` on the server (in a batch when others wait too)."""
        mine = _Call(script, keys, args)
        with self._lock:
            self._queue.append(mine)
            lead = not self._busy
            self._busy = True
        if not lead:
            mine.latch.acquire()  # answered by another thread's batch, or called to send the next one
            if mine.done:
                return mine.outcome()
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            with self.round_trips.timed():
                self._send(batch)
        finally:
            for waiting in batch:
                waiting.done = True
                if waiting is not mine:
                    waiting.latch.release()
            with self._lock:
                if self._queue:
                    self._queue[0].latch.release()  # the first call that waited sends the next batch
                else:
                    self._busy = False
        return mine.outcome()

    def _send(self, batch: list[_Call]) -> None:
        """One round trip for the whole batch; a script the server lost is loaded and run again."""
        if len(batch) == 1:
            _run_alone(batch[0])
            return
        pipe = self.client.pipeline(transaction=False)
        for waiting in batch:
            pipe.evalsha(waiting.script.sha, len(waiting.keys), *waiting.keys, *waiting.args)
        try:
            replies: list[Any] = pipe.execute(raise_on_error=False)
        except Exception as error:  # the connection failed: every call of the batch fails with it
            for waiting in batch:
                waiting.error = error
            return
        for waiting, reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoScriptError):  # SCRIPT FLUSH or a restarted server: load it again
                _run_alone(waiting)
            elif isinstance(reply, Exception):
                waiting.error = reply
            else:
                waiting.result = reply


def _run_alone(waiting: _Call) -> None:
    """One call by itself, through redis-py's Script (which loads the script when the server lacks it)."""
    try:
        waiting.result = waiting.script(keys=waiting.keys, args=waiting.args)
    except Exception as error:
        waiting.error = error


# Operations, and bytes of them, one pipeline of the writer takes at most: a long batch does not hold
# the server (single-threaded) for long.
BEHIND_OPS = 256
BEHIND_BYTES = 4 << 20
# Bytes of operations a process may hold unwritten: past it, callers wait for the writer
# (back-pressure, instead of memory that grows while Redis is slow).
BEHIND_HELD = 16 << 20
# Seconds the writer lets operations gather before it sends them, unless someone waits (`flush`):
# fewer, fuller pipelines. A process killed outright loses at most this much of the journal.
BEHIND_LINGER = 0.005

Op = Callable[[Pipeline], object]


class Batch(Protocol):
    """Writes of one kind that go out together: one call for all of them in a writer's pipeline."""

    def write(self, pipe: Pipeline, items: list[Any]) -> None:
        """Queue on `pipe` the commands that write `items` (oldest first)."""


class Increments:
    """Additions to the fields of one hash, written behind the answers: one HINCRBYFLOAT a field a batch.

    Whole amounts of a field are summed first (exactly, as the server would add them one by one);
    a field given a fractional amount in the batch has each of its amounts sent in turn.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def write(self, pipe: Pipeline, items: list[tuple[tuple[str, ...], float]]) -> None:
        """One HINCRBYFLOAT a field for `items` ((fields, amount): the amount added to each field)."""
        by_field: dict[str, list[float]] = {}
        for names, amount in items:
            for name in names:
                by_field.setdefault(name, []).append(amount)
        for name, amounts in by_field.items():
            if all(amount.is_integer() for amount in amounts):
                pipe.hincrbyfloat(self.key, name, sum(amounts))
            else:
                for amount in amounts:
                    pipe.hincrbyfloat(self.key, name, amount)


class _Grouped:
    """A batch's items of one `Batch`, written by one call where the first of them was queued."""

    __slots__ = ("batch", "items")

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.items: list[Any] = []

    def __call__(self, pipe: Pipeline) -> None:
        self.batch.write(pipe, self.items)


# What the writer holds: an operation, or an item of a Batch (written with the others of its kind).
_Queued = tuple[Op | None, Batch | None, Any, int]


class WriteBehind:
    """Writes no answer waits for (journal entries, uncapped credit tallies), sent by one thread.

    Whatever queued while the last pipeline was on the wire goes out in the next one, in order; the
    items of one `Batch` (journal entries, additions to the counters) go out in one call each batch,
    where the first of them was queued. `flush` waits until everything queued before it is on the
    server: the Mirror's sync runs it in every process before a read of what is written here
    (mock_server/stores/redis_journal.py).
    """

    def __init__(self, client: redis.Redis, scripts: list[Script], health: Health) -> None:
        self.client = client
        self.health = health  # while the server is away, what is queued is dropped, not waited on
        self.scripts = scripts  # loaded again when the server has lost them (SCRIPT FLUSH, a restart)
        self._queue: list[_Queued] = []
        self._held = 0
        self._queued = 0  # operations ever queued
        self._written = 0  # operations ever written (or given up on after an error)
        self._wanted = 0  # operations a `flush` waits for: no lingering until they are written
        self._lingering = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, op: Op, size: int = 64) -> None:
        """Queue `op(pipe)` (about `size` bytes) for the writer; waits while too much is held.

        After `close` (a request answered while the store shuts down) the operation is sent at once.
        """
        self._queue_one((op, None, None, size))

    def add(self, batch: Batch, item: Any, size: int = 64) -> None:
        """Queue `item` (about `size` bytes) for `batch.write`, with the others of its kind (as `submit`)."""
        self._queue_one((None, batch, item, size))

    def _queue_one(self, queued: _Queued) -> None:
        if self._closed:
            self._write([queued])
            return
        with self._cond:
            while self._held > BEHIND_HELD and not self._closed:
                self._cond.wait(1.0)
            self._queue.append(queued)
            self._held += queued[3]
            self._queued += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fakeapollo-writes", daemon=True)
                self._thread.start()
            if not self._lingering:  # a lingering writer wakes by itself: no need to wake it up twice
                self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every operation queued so far is written (at most `timeout` s); False if not."""
        with self._cond:
            target = self._queued
            self._wanted = max(self._wanted, target)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._written >= target, timeout)

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self.flush(5.0)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5.0)

    def _take(self) -> list[_Queued]:
        """The next batch, oldest first, within BEHIND_OPS and BEHIND_BYTES (at least one operation)."""
        size, count = 0, 0
        for queued in self._queue:
            weight = queued[3]
            if count and (count >= BEHIND_OPS or size + weight > BEHIND_BYTES):
                break
            size += weight
            count += 1
        batch = self._queue[:count]
        del self._queue[:count]
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or self._closed)
                if not self._queue:
                    return
                self._lingering = True
                self._cond.wait_for(lambda: self._closed or self._wanted > self._written, BEHIND_LINGER)
                self._lingering = False
                batch = self._take()
            try:
                if self.health.down:
                    log.debug("Redis is away: %d deferred writes dropped", len(batch))
                else:
                    self._write(batch)
            except OUTAGES as error:  # lost with the server, like what an answer was refused for
                self.health.lost(error)
            except Exception:  # a failed write loses these operations, never the writer
                log.exception("%d deferred writes could not be sent to Redis", len(batch))
            with self._cond:
                self._written += len(batch)
                self._held -= sum(queued[3] for queued in batch)
                self._cond.notify_all()

    def _write(self, batch: list[_Queued]) -> None:
        """One pipeline for the batch (a Batch's items in one call); calls whose script was lost go again."""
        ops: list[Op] = []
        grouped: dict[int, _Grouped] = {}
        for op, kind, item, _ in batch:
            if op is not None:
                ops.append(op)
                continue
            group = grouped.get(id(kind))
            if group is None:
                group = grouped[id(kind)] = _Grouped(kind)  # type: ignore[arg-type]
                ops.append(group)
            group.items.append(item)
        self._send(ops)

    def _send(self, ops: list[Op]) -> None:
        """One pipeline for the batch; operations whose script the server lost are sent again."""
        pipe = self.client.pipeline(transaction=False)
        ends = []  # where each operation's commands end in the pipeline (one may send several)
        for op in ops:
            op(pipe)
            ends.append(len(pipe))
        replies = pipe.execute(raise_on_error=False)
        lost = [
            op
            for op, start, end in zip(ops, [0, *ends], ends, strict=False)
            if any(isinstance(reply, NoScriptError) for reply in replies[start:end])
        ]
        failed = [r for r in replies if isinstance(r, Exception) and not isinstance(r, NoScriptError)]
        if failed:
            log.warning("%d deferred writes failed: %s", len(failed), failed[0])
        if lost:
            for script in self.scripts:
                self.client.script_load(script.script)
            pipe = self.client.pipeline(transaction=False)
            for op in lost:
                op(pipe)
            pipe.execute()
