"""Shared test fixtures: `fakeapollo serve` processes and HTTP sessions, a real Redis and stores on it."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from redis_helpers import NOT_FOUND, RedisServer, redis_server_binary

# mock_server.web.app and .server are imported here, on the main thread, so that pytest has rewritten
# them before a test starts threads: this Python 3.11's ast.parse (which pytest's rewriting calls)
# keeps one recursion count for all threads, and a module rewritten on one thread while another
# thread rewrote one (the contract runner's case drawing, the control app's builder) failed about one
# run in three with "SystemError: AST constructor recursion depth mismatch".
import mock_server.web.app  # noqa: F401
import mock_server.web.server  # noqa: F401
from contract_tests.case_cache import CACHE_VARIABLE
from mock_server.stores.redis_store import RedisStore

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    """One case cache for this run, shared by its workers and the check-client runs they start.

    A fresh folder each run: every run draws each contract case once, whatever the runs before.
    Hypothesis loads no third-party plugins in the processes the tests start: the only one installed,
    trio's (a dependency of selenium), imports pytest, about 0.3 s for every process importing Hypothesis.
    """
    os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
    if not hasattr(config, "workerinput") and not os.environ.get(CACHE_VARIABLE):
        folder = tempfile.mkdtemp(prefix="fakeapollo-cases-")
        os.environ[CACHE_VARIABLE] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


ROOT = Path(__file__).resolve().parents[1]
BANNER = re.compile(r"fakeapollo listening on (http://\S+) \(test keys: (.+)\)")


@dataclass
class ServeProcess:
    """A running `fakeapollo serve` and what it printed when ready."""

    process: subprocess.Popen[str]
    url: str
    banner: str
    before_banner: str = ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        """Send `sig` and wait for the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def start_serve(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> ServeProcess:
    """Start `python -m mock_server serve ARGS` on a free port and wait for its banner line."""
    command = [sys.executable, "-m", "mock_server", "serve", "--port", "0", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        start_new_session=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = BANNER.search(line)
        if match:
            return ServeProcess(process, match.group(1), line.strip(), "".join(seen[:-1]))
    process.kill()
    raise AssertionError("fakeapollo serve never printed its banner:\n" + "".join(seen))


@contextmanager
def serving(*args: str) -> Iterator[ServeProcess]:
    """A `fakeapollo serve ARGS` process for the length of a `with` block."""
    server = start_serve(*args)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def served() -> Iterator[ServeProcess]:
    """One `fakeapollo serve` process (seed 0, default keys) for the whole session."""
    server = start_serve()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_url(served: ServeProcess) -> str:
    """The served emulator's base URL."""
    return served.url


@pytest.fixture
def api(base_url: str) -> Iterator[requests.Session]:
    """An HTTP session that sends the paid test key, as a real client would."""
    with requests.Session() as session:
        session.headers["x-api-key"] = "test-key"
        yield session


@pytest.fixture
def admin(base_url: str) -> Iterator[str]:
    """The served emulator's control API, reset before and after the test."""
    url = f"{base_url}/__admin"
    requests.post(f"{url}/reset", timeout=10).raise_for_status()
    yield url
    requests.post(f"{url}/reset", timeout=10).raise_for_status()


def raw(url: str, method: str, target: str, body: bytes = b"", **headers: str) -> tuple[int, Any]:
    """One request sent exactly as given (headers, Host too, and `target` without dot-segment removal).

    Its status and JSON answer.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host="Host" in headers, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def people_match(url: str, key: str = "test-key") -> requests.Response:
    """A normal people/match with `key` to the server at `url`."""
    return requests.post(
        f"{url}/api/v1/people/match", json={"email": "tim@apollo.io"}, headers={"x-api-key": key}, timeout=30
    )


def key_registry(folder: Path, *entries: Mapping[str, object]) -> Path:
    """Write a key registry file with `entries` and return its path."""
    path = folder / "keys.json"
    path.write_text(json.dumps({"keys": list(entries)}))
    return path


# Set when a test needed a redis-server and none was found: the run's summary then says so loudly.
_REDIS_MISSING: list[str] = []


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port for the session; skipped, loudly, when none exists."""
    binary = redis_server_binary()
    if binary is None:
        _REDIS_MISSING.append(NOT_FOUND)
        pytest.skip(NOT_FOUND)
    server = RedisServer(binary).start()
    try:
        yield server.url
    finally:
        server.close()


StoreFactory = Callable[..., RedisStore]


@pytest.fixture
def stores(redis_url: str) -> Iterator[StoreFactory]:
    """Opens RedisStores on the session's server (one prefix per test unless given); closes them after."""
    opened: list[RedisStore] = []
    prefix = f"test-{uuid.uuid4().hex}"

    def open_store(**options: object) -> RedisStore:
        store = RedisStore(redis_url, **{"prefix": prefix, **options})  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield open_store
    with ThreadPoolExecutor(max(1, len(opened))) as pool:  # each close waits up to 1 s for its listener
        list(pool.map(RedisStore.close, opened))


LIMITED = {"key": "limited-key", "team": "team-limited", "plan": "custom", "credits": None,
           "limits": {"minute": 100, "hour": None, "day": None}, "scopes": None}  # fmt: skip
FUNDED = {"key": "fifty-key", "team": "team-fifty", "plan": "custom", "credits": 50,
          "limits": {"minute": None, "hour": None, "day": None}, "scopes": None}  # fmt: skip
HOOKS = {"key": "hooks-key", "team": "team-hooks", "plan": "custom", "credits": None,
         "limits": {"minute": None, "hour": None, "day": None}, "scopes": None}  # fmt: skip


class Pair:
    """Two serve processes on one Redis deployment (same prefix), and a session for each."""

    def __init__(self, first: ServeProcess, second: ServeProcess) -> None:
        self.servers = [first, second]
        self.urls = [first.url, second.url]

    def post(self, index: int, path: str, key: str, body: dict[str, Any]) -> requests.Response:
        """POST `body` to server `index`'s `path` with `key`."""
        return requests.post(f"{self.urls[index]}{path}", json=body, headers={"x-api-key": key}, timeout=30)

    def admin(self, index: int, method: str, path: str, **kwargs: Any) -> Any:
        """A control call on server `index`; its JSON answer."""
        response = requests.request(method, f"{self.urls[index]}/__admin{path}", timeout=30, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def pair(redis_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pair]:
    """Two processes sharing a fresh prefix on the session's Redis (extra flags from the test's marker)."""
    keys = key_registry(tmp_path, LIMITED, FUNDED, HOOKS, {"key": "test-key", "team": "team-test",
                        "plan": "professional", "credits": None, "scopes": None})  # fmt: skip
    marker = request.node.get_closest_marker("serve_flags")
    extra = list(marker.args) if marker is not None else []
    args = ["--store", redis_url, "--store-prefix", f"pair-{uuid.uuid4().hex[:12]}", "--keys", str(keys)]
    # The pair's tests tell webhooks apart by request_id, which Apollo's phone payload lacks: opt in.
    env = {"FAKEAPOLLO_WEBHOOK_PHONE_REQUEST_ID": "true"}
    first = start_serve(*args, "--threads", "16", *extra, env=env)
    try:
        second = start_serve(*args, "--threads", "16", *extra, env=env)
    except BaseException:
        first.stop(signal.SIGKILL)
        raise
    try:
        yield Pair(first, second)
    finally:
        for server in (first, second):
            server.stop(signal.SIGKILL if server.process.poll() is None else signal.SIGTERM)


def spread(urls: list[str], key: str, emails: list[str], clients: int = 50) -> list[requests.Response]:
    """people/match for each email, from `clients` concurrent clients taking the servers in turn."""
    counter = itertools.count()

    def call(email: str) -> requests.Response:
        url = urls[next(counter) % len(urls)]
        return requests.post(
            f"{url}/api/v1/people/match", json={"email": email}, headers={"x-api-key": key}, timeout=30
        )

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(call, emails))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when the Redis store or the inspector page's browser test went untested."""
    skipped = terminalreporter.stats.get("skipped", [])
    if any("BROWSER TEST SKIPPED" in str(getattr(report, "longrepr", "")) for report in skipped):
        terminalreporter.write_sep(
            "!",
            "BROWSER TEST SKIPPED: chromium and chromium-driver are missing; the inspector page is untested",
            red=True,
            bold=True,
        )
    if _REDIS_MISSING:
        terminalreporter.section("Redis store NOT tested", sep="!", red=True, bold=True)
        terminalreporter.write_line(_REDIS_MISSING[0], red=True, bold=True)
