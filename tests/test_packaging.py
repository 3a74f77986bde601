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


def test_the_test_extra_pins_hypothesis_below_the_release_hypothesis_jsonschema_breaks_on() -> None:
    test_extra = PYPROJECT["optional-dependencies"]["test"]
    assert _requirement(test_extra, "hypothesis") == "hypothesis>=6.100,<6.170.10"
    assert _requirement(test_extra, "hypothesis-jsonschema") == "hypothesis-jsonschema==0.23.1"


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
def test_make_serve_installs_only_what_serving_needs_and_shows_progress() -> None:
    commands = _dry_run("serve")
    assert "pip install --progress-bar on -e ." in commands
    assert "[test]" not in commands and "--quiet -e" not in commands


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_installs_the_test_extra_and_the_browser() -> None:
    commands = _dry_run("test")
    assert "pip install --quiet -e '.[test]'" in commands
    assert "install-browser.sh" in commands
