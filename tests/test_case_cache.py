"""FAKEAPOLLO_CASE_CACHE: a contract case drawn once is loaded, not drawn, by later processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from contract_tests import case_cache, drawing, property_named
from contract_tests.case_cache import CACHE_VARIABLE
from contract_tests.cases import Property
from contract_tests.drawing import draw_cases

PROPERTY = "unauthorized"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this user's, and no case kept in this process yet."""
    folder = tmp_path / "cases"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(CACHE_VARIABLE, str(folder))
    monkeypatch.setattr(drawing, "_DRAWN", {})
    return folder


def _refuse_to_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on a case that is not kept somewhere fails the test instead of being drawn."""

    def refuse(strategy: Any, seed: str) -> Any:
        raise AssertionError(f"drew {seed} instead of loading it")

    monkeypatch.setattr(drawing, "_DRAWN", {})
    monkeypatch.setattr(drawing, "draw_one", refuse)


def test_a_case_drawn_once_is_loaded_the_next_time(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = list(draw_cases(property_named(PROPERTY), 2, seed=4))
    kept = list(cache.rglob("*.pickle"))
    assert len(kept) == 2
    assert all(path.parent.name == case_cache.build_digest() for path in kept)
    _refuse_to_draw(monkeypatch)
    assert list(draw_cases(property_named(PROPERTY), 2, seed=4)) == drawn


def test_another_process_loads_the_kept_cases(cache: Path) -> None:
    drawn = list(draw_cases(property_named(PROPERTY), 2, seed=5))
    probe = (
        "import sys, pickle\n"
        "from contract_tests import drawing, property_named\n"
        "def refuse(*args): raise SystemExit('drew a kept case')\n"
        "drawing.draw_one = refuse\n"
        "cases = list(drawing.draw_cases(property_named('unauthorized'), 2, 5))\n"
        "sys.stdout.buffer.write(pickle.dumps(cases))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, env=os.environ, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    import pickle

    assert pickle.loads(result.stdout) == drawn  # noqa: S301 - our own child's output


def test_a_case_being_drawn_by_another_process_is_waited_for_and_loaded(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prop = property_named(PROPERTY)
    drawn = next(draw_cases(prop, 1, seed=9))
    _refuse_to_draw(monkeypatch)
    key = f"10:{PROPERTY}:0"
    results: list[Any] = []
    with case_cache.drawing(prop, key):  # as another worker would while it draws the case
        waiting = threading.Thread(target=lambda: results.extend(draw_cases(prop, 1, seed=10)))
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive() and not results  # waits for the lock instead of drawing
        case_cache.store(prop, key, drawn)
    waiting.join(30)
    assert results == [drawn]


def test_without_the_variable_nothing_is_kept(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_VARIABLE)
    list(draw_cases(property_named(PROPERTY), 2, seed=6))
    assert list(cache.rglob("*")) == []


def test_a_folder_others_can_write_to_is_neither_read_nor_written(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    list(draw_cases(property_named(PROPERTY), 1, seed=7))
    cache.chmod(0o777)
    list(draw_cases(property_named(PROPERTY), 1, seed=8))
    assert len(list(cache.rglob("*.pickle"))) == 1
    _refuse_to_draw(monkeypatch)
    with pytest.raises(AssertionError, match="drew 7:unauthorized:0"):
        list(draw_cases(property_named(PROPERTY), 1, seed=7))


def test_a_property_made_outside_the_contract_is_never_kept(cache: Path) -> None:
    real = property_named(PROPERTY)
    lookalike = Property(PROPERTY, "a test's own", cases=lambda: real.cases(), check=real.check)
    list(draw_cases(lookalike, 2, seed=9))
    assert list(cache.rglob("*.pickle")) == []


def test_a_damaged_file_is_drawn_again(cache: Path) -> None:
    first = list(draw_cases(property_named(PROPERTY), 1, seed=10))
    (kept,) = cache.rglob("*.pickle")
    kept.write_bytes(b"not a pickle")
    drawing._DRAWN.clear()
    assert list(draw_cases(property_named(PROPERTY), 1, seed=10)) == first
    assert kept.read_bytes() != b"not a pickle"


def test_another_build_keeps_its_cases_apart(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    list(draw_cases(property_named(PROPERTY), 1, seed=11))
    monkeypatch.setattr(case_cache, "build_digest", lambda: "another-build")
    _refuse_to_draw(monkeypatch)
    with pytest.raises(AssertionError, match="drew 11:unauthorized:0"):
        list(draw_cases(property_named(PROPERTY), 1, seed=11))
