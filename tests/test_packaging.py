"""What installing fakeapollo brings: dependencies, extras, licence, and the Makefile's two installs."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _requirement(requirements: list[str], name: str) -> str:
    (found,) = [r for r in requirements if re.match(rf"{name}\b(?![-\w])", r)]
    return found


def test_users_get_any_recent_hypothesis() -> None:
    assert _requirement(PYPROJECT["dependencies"], "hypothesis") == "hypothesis>=6.100"


def _locked(lock: str) -> dict[str, str]:
    """Name -> version of every package a lock file pins."""
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^ \\;]+)", text, flags=re.MULTILINE))


def test_the_lock_pins_every_runtime_dependency_and_the_toolchain_with_hashes() -> None:
    dev, serve = _locked("dev.txt"), _locked("serve.txt")
    for name in ("flask", "uvicorn", "orjson", "httpx", "redis", "hiredis", "pytest", "pytest-xdist", "mypy"):
        assert name in dev, name
    assert "pytest" not in serve and "mypy" not in serve
    # serve.txt is resolved with dev.txt as its constraint: both install the same versions.
    assert all(dev[name] == version for name, version in serve.items())
    for lock in ("dev.txt", "serve.txt"):
        text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
        hashed = re.findall(r"^\S+==[^\n]* \\\n    --hash=sha256:", text, flags=re.MULTILINE)
        assert len(hashed) == len(_locked(lock)), "every pinned package carries its hashes"
        assert "://" not in text, "a lock names no index: the installer's own configuration does"


def test_runtime_dependencies_stay_ranges_and_redis_is_an_extra() -> None:
    assert not any("==" in r for r in PYPROJECT["dependencies"])
    assert not any(r.startswith(("redis", "hiredis")) for r in PYPROJECT["dependencies"])
    assert {_requirement(PYPROJECT["optional-dependencies"]["redis"], n) for n in ("redis", "hiredis")}


def test_the_licence_file_matches_the_declared_licence() -> None:
    assert PYPROJECT["license"] == "MIT"
    assert PYPROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


def test_the_typed_packages_say_so() -> None:
    assert (ROOT / "mock_server" / "py.typed").is_file()
    assert (ROOT / "contract_tests" / "py.typed").is_file()


def _dry_run(target: str) -> str:
    result = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_serve_installs_only_what_serving_needs_from_the_lock() -> None:
    commands = _dry_run("serve")
    assert "--require-hashes -r requirements/serve.txt" in commands
    assert "requirements/dev.txt" not in commands


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_installs_the_locked_toolchain_and_the_browser_and_runs_in_parallel() -> None:
    commands = _dry_run("test")
    assert (
        "pip sync --quiet --compile-bytecode --python .venv/bin/python --require-hashes requirements/dev.txt"
        in commands
    )
    assert "compileall -q -j 0 mock_server contract_tests" in commands  # before the workers race to it
    assert "install-browser.sh" in commands
    assert "pytest -q -n 4 --dist worksteal --durations=15" in commands
    assert "mypy & mypy=$!" in commands and "wait $mypy || exit 1; exit $tests" in commands


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lock_is_the_one_command_that_resolves_again() -> None:
    commands = _dry_run("lock")
    assert commands.count("pip compile") == 2 and commands.count("--upgrade") == 2
