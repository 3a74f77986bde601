"""The CI recipe (examples/ci/run-contract.sh) works against this checkout, so it cannot rot."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "ci" / "run-contract.sh"
CLIENT = ROOT / "examples" / "clients" / "python_client.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={
            **os.environ,
            "FAKEAPOLLO": f"{sys.executable} -m mock_server",
            "FAKEAPOLLO_PORT": str(_free_port()),
            "FAKEAPOLLO_LOG": str(tmp_path / "fakeapollo.log"),
            **env,
        },
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the recipe waits for the server with curl")
def test_the_recipe_runs_check_client_and_the_users_tests(tmp_path: Path) -> None:
    request = '{"operation": "people_match", "params": {"email": "tim@apollo.io"}}'
    user_tests = f"echo '{request}' | {sys.executable} {CLIENT} | grep -q '\"outcome\": \"match\"'"
    # The user's tests may drive the control API with the token the script made up.
    token = '-H "Authorization: Bearer $FAKEAPOLLO_ADMIN_TOKEN"'
    user_tests += f' && curl -fsS {token} "$APOLLO_BASE_URL/__admin/clock" >/dev/null'
    result = _run(
        tmp_path,
        CLIENT_CMD=f"{sys.executable} {CLIENT}",
        CHECK_ARGS="--examples 2 --property match --property no_match --property bulk",
        TEST_CMD=user_tests + " && echo USER-TESTS-PASSED",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed, 0 failed" in result.stdout
    assert "USER-TESTS-PASSED" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the recipe waits for the server with curl")
def test_the_recipe_fails_when_the_client_breaks_the_contract(tmp_path: Path) -> None:
    broken = ROOT / "examples" / "clients" / "broken" / "crash_on_null_person.py"
    result = _run(
        tmp_path,
        CLIENT_CMD=f"{sys.executable} {broken}",
        CHECK_ARGS="--examples 2 --property no_match",
        TEST_CMD="echo SHOULD-NOT-RUN",
    )
    assert result.returncode == 1
    assert "FAILED no_match" in result.stdout
    assert "SHOULD-NOT-RUN" not in result.stdout


def test_the_workflow_calls_the_recipe() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["contract"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "run-contract.sh" in runs
    assert "pip install" in runs and "vars.FAKEAPOLLO_REQUIREMENT" in runs
    assert "your-org" not in runs  # no made-up address passed off as a real one
    assert {"CLIENT_CMD", "TEST_CMD"} <= set(workflow["jobs"]["contract"]["env"])


class _AnswersEverything(BaseHTTPRequestHandler):
    """Some other HTTP server: 200 and an empty JSON object for any GET."""

    def do_GET(self) -> None:
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def squatter() -> Iterator[int]:
    """Another server already listening on a loopback port; yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AnswersEverything)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the recipe waits for the server with curl")
def test_the_recipe_fails_when_another_server_holds_its_port(tmp_path: Path, squatter: int) -> None:
    result = _run(
        tmp_path,
        FAKEAPOLLO_PORT=str(squatter),
        CLIENT_CMD=f"{sys.executable} {CLIENT}",
        TEST_CMD="echo SHOULD-NOT-RUN",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "fakeapollo serve exited before it answered (is port" in result.stderr
    assert "SHOULD-NOT-RUN" not in result.stdout
    assert "check-client" not in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the recipe waits for the server with curl")
def test_the_recipe_fails_when_its_server_cannot_start(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        FAKEAPOLLO_JOURNAL_SIZE="0",  # refused at start-up
        CLIENT_CMD=f"{sys.executable} {CLIENT}",
        TEST_CMD="echo SHOULD-NOT-RUN",
    )
    assert result.returncode == 1
    assert "fakeapollo serve exited before it answered" in result.stderr
    assert "journal" in result.stderr.lower()  # fakeapollo's own message, from its log
    assert "SHOULD-NOT-RUN" not in result.stdout
