"""The published OpenAPI document says what the server does: Schemathesis, every check, finds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServeProcess, serving

# Fuzzed cases per operation (the coverage phase's boundary values come on top) and the seed: fixed so a
# run is reproducible and fits the suite's time. FAKEAPOLLO_SCHEMATHESIS_EXAMPLES raises the count.
EXAMPLES = int(os.environ.get("FAKEAPOLLO_SCHEMATHESIS_EXAMPLES", "5"))
SEED = 1
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServeProcess]:
    """A fresh `fakeapollo serve` at its default settings, for Schemathesis alone."""
    with serving() as server:
        yield server


def _schemathesis(base_url: str, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `schemathesis run --checks all` against the emulator's own /openapi.json."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        # The unlimited test key: a rate-limit 429 or an out-of-credits 422 would hide the rest.
        "--header",
        "x-api-key: load-test-key",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--generation-database",
        "none",
        "--no-color",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=540, check=False)


def test_schemathesis_finds_no_failure_with_every_check(emulator: ServeProcess, tmp_path: Path) -> None:
    result = _schemathesis(emulator.url, tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    # The emulator kept answering: no 5xx, and it is still up.
    assert emulator.process.poll() is None
