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

import copy
import inspect
import queue
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract_tests import case_cache

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from contract_tests.cases import Case, Property

#: Tries of one seed before giving up, when filters keep rejecting draws.
DRAW_ATTEMPTS = 20


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


def draw_cases(prop: Property, count: int, seed: int) -> Iterator[Case]:
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


def prefetched(cases: Iterator[Case], client_running: threading.Event | None = None) -> Iterator[Case]:
    """`cases` in order, each drawn in a background thread while the client runs the one before.

    Drawing is CPU work in this process and a client run is mostly waiting, so the two overlap.
    With `client_running`, every case after the first is drawn only once that event is set (the
    runner sets it as it starts the client), so drawing never competes with priming the emulator.
    At most one case is drawn ahead; closing the iterator stops the drawing.
    """
    ready: queue.Queue[tuple[Case | None, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def wait_for_the_client() -> bool:
        if client_running is None:
            return True
        while not client_running.wait(0.1):
            if stop.is_set():
                return False
        client_running.clear()
        return True

    def produce() -> None:
        try:
            iterator = iter(cases)
            first = True
            while True:
                if not first and not wait_for_the_client():
                    return
                first = False
                case = next(iterator, None)
                while not stop.is_set():
                    try:
                        ready.put((case, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set() or case is None:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            ready.put((None, exc))

    threading.Thread(target=produce, name="contract-cases", daemon=True).start()
    try:
        while True:
            case, error = ready.get()
            if error is not None:
                raise error
            if case is None:
                return
            yield case
    finally:
        stop.set()


__all__ = ["draw", "draw_cases", "draw_one", "prefetched", "private_api_problems", "use_home_dir"]
