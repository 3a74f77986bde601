"""The one clock every time-dependent part of fakeapollo reads; tests freeze and advance it."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

Listener = Callable[[datetime], None]
log = logging.getLogger("fakeapollo")

# The instants the clock may show. Far from datetime's year-9999 edge, so that due times, retention
# windows and ISO rendering never overflow however far a clock at the edge is advanced.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# The most one advance may move the clock.
MAX_ADVANCE_SECONDS = 10 * 365 * 86_400


class ClockOutOfRange(ValueError):
    """A clock value outside the window the clock may show, or not a finite number."""


def window() -> str:
    """The clock's window as people read it, for error messages."""
    return f"{Clock.iso(EARLIEST)} to {Clock.iso(LATEST)}"


def check_timestamp(stamp: float) -> float:
    """`stamp` when it is a finite instant inside the clock's window; ClockOutOfRange otherwise."""
    if not (math.isfinite(stamp) and EARLIEST.timestamp() <= stamp <= LATEST.timestamp()):
        raise ClockOutOfRange(f"the clock must stay between {window()}")
    return stamp


# Checks a clock value (offset, frozen_at) before it is stored; raises to refuse it.
Shifted = Callable[[float, float | None], None]


class ClockState(Protocol):
    """Where a clock keeps its offset from real time and its frozen instant (None: running)."""

    def has_value(self) -> bool:
        """Whether a clock was stored before (another worker, or the run before a crash)."""
        ...

    def load(self) -> tuple[float, float | None]:
        """The stored (offset, frozen_at)."""
        ...

    def save(self, offset: float, frozen_at: float | None) -> None:
        """Store (offset, frozen_at)."""
        ...

    def shift(self, seconds: float, check: Shifted) -> None:
        """Add `seconds` to the offset and the frozen instant in one atomic step across processes.

        `check(offset, frozen_at)` sees the new value first and may raise to leave the old one.
        """
        ...


class LocalClockState:
    """Clock state in this process's memory: the default for a single process."""

    def __init__(self) -> None:
        self._value: tuple[float, float | None] | None = None
        self._lock = threading.Lock()

    def has_value(self) -> bool:
        """Whether a clock was stored before."""
        return self._value is not None

    def load(self) -> tuple[float, float | None]:
        """The stored (offset, frozen_at)."""
        return self._value if self._value is not None else (0.0, None)

    def save(self, offset: float, frozen_at: float | None) -> None:
        """Store (offset, frozen_at)."""
        with self._lock:
            self._value = (offset, frozen_at)

    def shift(self, seconds: float, check: Shifted) -> None:
        """Add `seconds` to the offset and the frozen instant, under this state's lock."""
        with self._lock:
            self._value = shifted(self.load(), seconds, check)


def shifted(value: tuple[float, float | None], seconds: float, check: Shifted) -> tuple[float, float | None]:
    """(offset, frozen_at) moved on by `seconds`, once `check` let the new value through."""
    offset, frozen_at = value
    moved = (offset + seconds, None if frozen_at is None else frozen_at + seconds)
    check(*moved)
    return moved


class Clock:
    """Wall-clock time shifted by an offset, or frozen at an instant; advancing notifies listeners.

    With a shared ClockState (the SQLite store's), every worker process reads the same time; a
    state that already holds a clock (another worker's, or the one before a crash) is kept.
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        frozen: bool = False,
        state: ClockState | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._initial = (start, frozen)
        self._listeners: list[Listener] = []
        if start is not None:
            check_timestamp(start.timestamp())
        self._state: ClockState = state or LocalClockState()
        if not self._state.has_value():
            self._apply_initial()
        elif not self._valid(*self._state.load()):
            # A clock stored by an older version (or edited by hand) outside the window would break
            # every request; it is not restored.
            log.warning("fakeapollo: the stored clock was out of range (%s); it starts afresh", window())
            self._apply_initial()

    def _apply_initial(self) -> None:
        start, frozen = self._initial
        real = time.time()
        offset = 0.0 if start is None else start.timestamp() - real
        self._state.save(offset, real + offset if frozen else None)

    @staticmethod
    def _valid(offset: float, frozen_at: float | None) -> bool:
        """Whether a stored (offset, frozen_at) gives a finite instant inside the window."""
        try:
            check_timestamp(offset + time.time() if frozen_at is None else frozen_at)
            return math.isfinite(offset)
        except (ClockOutOfRange, TypeError):
            return False

    def timestamp(self) -> float:
        """Seconds since the epoch, by this clock."""
        offset, frozen_at = self._state.load()
        return frozen_at if frozen_at is not None else time.time() + offset

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still."""
        return self._state.load()[1] is not None

    def freeze(self) -> None:
        """Stop the clock at the current instant."""
        with self._lock:
            offset, frozen_at = self._state.load()
            if frozen_at is None:
                self._state.save(offset, time.time() + offset)

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        with self._lock:
            _, frozen_at = self._state.load()
            if frozen_at is not None:
                self._state.save(frozen_at - time.time(), None)

    def set(self, instant: datetime) -> None:
        """Jump to `instant` (forwards or backwards) and run what falls due; ClockOutOfRange outside."""
        with self._lock:
            target = check_timestamp(instant.timestamp())
            _, frozen_at = self._state.load()
            if frozen_at is not None:
                self._state.save(target - time.time(), target)
            else:
                self._state.save(target - time.time(), None)
        self._notify()

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` and run what falls due before returning.

        ClockOutOfRange (a ValueError) when `seconds` is negative, not finite, more than
        MAX_ADVANCE_SECONDS, or would carry the clock past the window; the clock then stays put.
        """
        if not (math.isfinite(seconds) and 0 <= seconds <= MAX_ADVANCE_SECONDS):
            raise ClockOutOfRange(
                f"an advance must be a finite number of seconds from 0 to {MAX_ADVANCE_SECONDS}"
            )
        with self._lock:
            # One atomic step in the store: advances from several processes at once all count.
            self._state.shift(seconds, self._check_value)
        self._notify()

    @staticmethod
    def _check_value(offset: float, frozen_at: float | None) -> None:
        """ClockOutOfRange unless (offset, frozen_at) shows an instant inside the window."""
        check_timestamp(time.time() + offset if frozen_at is None else frozen_at)

    def reset(self) -> None:
        """Back to the state the clock was created in."""
        with self._lock:
            self._apply_initial()

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(now)` after every advance or jump."""
        with self._lock:
            self._listeners.append(listener)

    def _notify(self) -> None:
        now = self.now()
        for listener in list(self._listeners):
            listener(now)

    @staticmethod
    def iso(instant: datetime) -> str:
        """ISO 8601 in UTC with a `Z`, as Apollo writes timestamps."""
        return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def __repr__(self) -> str:
        return f"Clock(now={self.iso(self.now())}, frozen={self.frozen})"


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; a naive one is taken as UTC."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

