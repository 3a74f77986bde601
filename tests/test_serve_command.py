"""`fakeapollo serve` as a command: binding, banner, the access log and `--workers` on uvicorn."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from mock_server.web.server import bind_socket
from tests.conftest import ROOT, start_serve

SOCKET_TIMEOUT = 10
ACCESS_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z POST /api/v1/people/match 200 t…y no_match \d+\.\d\dms$"
)


def test_serve_refuses_a_port_in_use_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mock_server", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"fakeapollo: cannot start: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_shows_an_ipv6_address_in_brackets() -> None:
    try:
        bind_socket("::1", 0).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = start_serve("--host", "::1")
    try:
        assert server.url.startswith("http://[::1]:")
        assert requests.get(server.url + "/openapi.json", timeout=SOCKET_TIMEOUT).status_code == 200
    finally:
        assert server.stop() == 0


def test_the_access_log_prints_one_line_per_request_with_the_key_masked() -> None:
    server = start_serve("--access-log")
    try:
        response = requests.post(
            f"{server.url}/api/v1/people/match",
            json={"email": "ada@example.com"},
            headers={"x-api-key": "test-key", "X-Mock-Scenario": "no_match"},
            timeout=SOCKET_TIMEOUT,
        )
        assert response.status_code == 200
        assert server.process.stdout is not None
        line = server.process.stdout.readline().strip()
    finally:
        server.stop()
    assert ACCESS_LINE.match(line), line


def test_no_access_log_by_default() -> None:
    server = start_serve()
    try:
        requests.get(f"{server.url}/openapi.json", timeout=SOCKET_TIMEOUT)
    finally:
        server.stop()
    assert server.process.stdout is not None
    assert server.process.stdout.read() == ""


def _workers(pid: int) -> set[int]:
    """The worker processes of a `serve --workers` parent (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = set()
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            found.add(int(child))
    return found


@pytest.mark.slow
def test_two_workers_share_state_and_a_dead_worker_is_replaced() -> None:
    server = start_serve("--workers", "2")
    try:
        with requests.Session() as session:
            for _ in range(6):  # new connections, so both workers answer some
                response = requests.post(
                    f"{server.url}/api/v1/people/match",
                    json={"email": "shared@workers.example"},
                    headers={"x-api-key": "test-key"},
                    timeout=SOCKET_TIMEOUT,
                )
                assert response.status_code == 200
            entries = session.get(f"{server.url}/__admin/requests", timeout=SOCKET_TIMEOUT).json()["requests"]
        assert len([e for e in entries if e["path"] == "/api/v1/people/match"]) == 6
        workers = _workers(server.process.pid)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        now = workers
        while time.monotonic() < deadline:
            now = _workers(server.process.pid)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.1)
        assert len(now) == 2 and victim not in now
        for _ in range(4):
            assert requests.get(f"{server.url}/openapi.json", timeout=SOCKET_TIMEOUT).status_code == 200
    finally:
        assert server.stop() == 0
