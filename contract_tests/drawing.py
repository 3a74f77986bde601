"""Cases drawn from Hypothesis strategies one seeded example at a time, outside any test.

Hypothesis has no public call for "one example of this strategy from this seed, here": `@given` owns
the loop, and `.example()` is random and warns. `draw_one` uses Hypothesis's internals for that
(`ConjectureData` under a `BuildContext`, `StopTest` when a filter rejects), and this module is the
only place in fakeapollo that touches them, or any other private name of Hypothesis's
(`set_hypothesis_home_dir`). `private_api_problems()` says what a Hypothesis release moved or
changed (tests/test_drawing.py fails with its text); `draw_one` then falls back on `@given`, slower
but public.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import queue
import random
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract_tests import case_cache

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from contract_tests.cases import Case, Property

#: Tries of one seed before giving up, when filters keep rejecting draws.
DRAW_ATTEMPTS = 20
#: Seconds `CaseFeed.close()` waits for a case being drawn.
CLOSE_WAIT = 10.0


def private_api_problems() -> list[str]:
    """What of Hypothesis's private API this module relies on is missing or changed (empty when fine)."""
    problems = []
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
        from hypothesis.control import BuildContext
        from hypothesis.errors import StopTest
        from hypothesis.internal.conjecture.data import ConjectureData
    except ImportError as exc:
        return [f"cannot import it: {exc}"]
    expected: list[tuple[Callable[..., Any], set[str]]] = [
        (ConjectureData.__init__, {"random"}),
        (BuildContext.__init__, {"data", "is_final", "wrapped_test"}),
        (set_hypothesis_home_dir, {"directory"}),
    ]
    for function, names in expected:
        missing = names - set(inspect.signature(function).parameters)
        if missing:
            problems.append(f"{function.__qualname__} no longer takes {sorted(missing)}")
    if not hasattr(ConjectureData, "draw"):
        problems.append("ConjectureData has no draw()")
    if not issubclass(StopTest, BaseException):
        problems.append("StopTest is no longer an exception")
    return problems


def use_home_dir(directory: Path) -> None:
    """Keep Hypothesis's files (its example database) in `directory`, not the working directory."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(directory)


def draw_one(strategy: SearchStrategy[Any], seed: str) -> Any:
    """One example of `strategy`, the same one for the same `seed` (no example database)."""
    try:
        from hypothesis.control import BuildContext
        from hypothesis.errors import StopTest
        from hypothesis.internal.conjecture.data import ConjectureData
    except ImportError:  # pragma: no cover - Hypothesis moved its internals: use the public API
        return _draw_public(strategy, seed)
    for attempt in range(DRAW_ATTEMPTS):
        data = ConjectureData(random=random.Random(f"{seed}/{attempt}"))
        try:
            with BuildContext(data, is_final=True, wrapped_test=draw_one):
                return data.draw(strategy)
        except StopTest:  # a filter rejected this try: draw again from the next seed
            continue
    raise RuntimeError(f"could not draw a case for {seed}")


def _draw_public(strategy: SearchStrategy[Any], seed: str) -> Any:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    found: list[Any] = []

    @seeded(int.from_bytes(seed.encode()[:16], "big"))
    @settings(
        max_examples=2,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found[-1]


def draw(strategy: SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """`count` examples of `strategy`; example `i` depends only on (`seed`, `i`)."""
    return [draw_one(strategy, f"{seed}:{index}") for index in range(count)]


def draw_cases(prop: Property, count: int, seed: int) -> Generator[Case, None, None]:
    """The property's cases: its fixed extremes first, then random ones.

    Case `i` depends only on (`seed`, the property, `i`), so a larger `count` only adds cases.
    """
    extremes: list[SearchStrategy[Case]] | None = None
    cases: SearchStrategy[Case] | None = None
    for index in range(count):
        key = (prop, f"{seed}:{prop.name}:{index}")
        with _DRAWN_LOCK:
            drawn = _DRAWN.get(key)
        if drawn is None:
            drawn = case_cache.load(prop, key[1])  # before the strategies: building them costs too
        if drawn is None:
            with case_cache.drawing(prop, key[1]):
                drawn = case_cache.load(prop, key[1])  # kept meanwhile by a process that held the lock
                if drawn is None:
                    if extremes is None:
                        extremes = prop.extremes()[:count]
                    if index >= len(extremes) and cases is None:
                        cases = prop.cases()
                    strategy = extremes[index] if index < len(extremes) else cases
                    assert strategy is not None
                    drawn = draw_one(strategy, key[1])
                    case_cache.store(prop, key[1], drawn)
        with _DRAWN_LOCK:
            _DRAWN[key] = drawn
        yield copy.deepcopy(drawn)


#: Cases already drawn in this process, by property and seed: drawing is the costly part of a
#: case, and runs against several clients (or again after a fix) ask for the same ones.
_DRAWN: dict[tuple[Property, str], Case] = {}
_DRAWN_LOCK = threading.Lock()


class CaseFeed:
    """The cases of a run's properties in order, each drawn in a background thread ahead of its use.

    Drawing is CPU work in this process and a client run is mostly waiting, so the two overlap: the
    first case is drawn at once (while the emulator starts and the pre-flight runs the client), and
    every later one, the next property's first case included, once `client_started()` says the
    client is running the case before it, so drawing never competes with priming the emulator. At
    most one case is drawn ahead. `cases(i)` gives property `i`'s cases; a property left early (a
    failure, a skip) has its remaining cases skipped, not drawn. `close()` stops the drawing.
    """

    def __init__(self, plan: list[tuple[Property, int]], seed: int) -> None:
        self._plan = plan
        self._seed = seed
        self._ready: queue.Queue[tuple[int, Case | None, BaseException | None]] = queue.Queue(maxsize=1)
        self._turn = threading.Condition()
        self._go = True  # the first case is drawn at once
        self._wanted = 0  # the property the runner is on: earlier ones are skipped
        self._at = 0  # the property being drawn
        self._closed = False
        self._thread = threading.Thread(target=self._produce, name="contract-cases", daemon=True)
        self._thread.start()

    def client_started(self) -> None:
        """A client run has started: draw the next case meanwhile."""
        with self._turn:
            self._go = True
            self._turn.notify_all()

    def cases(self, index: int) -> Generator[Case, None, None]:
        """Property `index`'s cases in order; closing the iterator early skips the rest of them."""
        try:
            while True:
                at, case, error = self._ready.get()
                if error is not None:
                    raise error
                if at < index:  # drawn for a property left early
                    continue
                if case is None:
                    return
                yield case
        finally:
            with self._turn:
                if self._wanted <= index:
                    self._wanted = index + 1
                    if self._at <= index:  # the runner will wait for the next property's first case
                        self._go = True
                self._turn.notify_all()

    def close(self) -> None:
        """Stop drawing: a case being drawn is finished and dropped, and the thread waited for.

        Nothing of the run's keeps drawing after it, beside whatever the caller does next: drawing
        may parse Python with `ast`, which CPython 3.11 fails to do in two threads at once.
        """
        with self._turn:
            self._closed = True
            self._turn.notify_all()
        with contextlib.suppress(queue.Empty):
            self._ready.get_nowait()
        if self._thread is not threading.current_thread():
            self._thread.join(CLOSE_WAIT)

    def _my_turn(self, index: int) -> bool:
        """Wait until the next case of property `index` may be drawn; False when it is not wanted."""
        with self._turn:
            while not (self._go or self._closed or self._wanted > index):
                self._turn.wait()
            if self._closed or self._wanted > index:
                return False
            self._go = False
            return True

    def _put(self, item: tuple[int, Case | None, BaseException | None]) -> bool:
        while not self._closed:
            try:
                self._ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for index, (prop, count) in enumerate(self._plan):
                with self._turn:
                    self._at = index
                cases = draw_cases(prop, count, self._seed)
                for _ in range(count):
                    if not self._my_turn(index):
                        break
                    if not self._put((index, next(cases), None)):
                        return
                else:
                    if not self._put((index, None, None)):
                        return
                cases.close()
                if self._closed:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the runner, raised there
            self._put((len(self._plan), None, exc))


__all__ = ["CaseFeed", "draw", "draw_cases", "draw_one", "private_api_problems", "use_home_dir"]
