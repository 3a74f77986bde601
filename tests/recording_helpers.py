"""Test support for `fakeapollo record`: the recorder served by uvicorn in a thread, before an upstream."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from mock_server.recording.proxy import RecordingProxy, RecordSettings, build_server
from mock_server.web.server import bind_socket

# The real key the recorder forwards with: only the upstream's registry and APOLLO_API_KEY know it.
SECRET = "rec-secret-7Qx9vLm2pT4wZ8"
UPSTREAM_KEYS = {
    "key": SECRET,
    "team": "team-recording",
    "plan": "professional",
    "credits": None,
    "scopes": None,
}


@dataclass
class Recorder:
    """A running recording proxy."""

    url: str
    proxy: RecordingProxy
    out: Path

    def exchanges(self) -> list[dict[str, Any]]:
        """Every line of DIR/exchanges.jsonl."""
        path = self.out / "exchanges.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@contextmanager
def recorder(upstream: str, out: Path, **settings: Any) -> Iterator[Recorder]:
    """The recorder on a free loopback port, forwarding to `upstream` with SECRET; stopped after."""
    sock = bind_socket("127.0.0.1", 0)
    server, proxy = build_server(RecordSettings(upstream=upstream, out=out, api_key=SECRET, **settings), sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # readiness, bounded: uvicorn says when it serves
        assert time.monotonic() < deadline, "the recorder did not start"
        assert thread.is_alive(), "the recorder stopped while starting"
        time.sleep(0.01)
    try:
        yield Recorder(f"http://127.0.0.1:{sock.getsockname()[1]}", proxy, out)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def upstream_journal(upstream: str) -> list[dict[str, Any]]:
    """The upstream fakeapollo's journal, as `GET /__admin/requests` shows it."""
    response = requests.get(f"{upstream}/__admin/requests", timeout=10)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


def files_containing(folder: Path, text: str) -> list[Path]:
    """Every file under `folder` whose bytes contain `text`."""
    needle = text.encode()
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and needle in p.read_bytes()]
