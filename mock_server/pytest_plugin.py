"""pytest fixtures that run fakeapollo for a test suite: a live server and a per-test handle."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

    from mock_server.httpserver import Server
    from mock_server.service import Enrichment

DEFAULT_API_KEY = "test-key"


@dataclass
class LiveServer:
    """An emulator app served on a free loopback port in a background thread."""

    app: Flask
    url: str
    _server: Server
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop serving, close the socket and stop the app's background work (webhook dispatcher)."""
        self._server.stop()
        self._thread.join(timeout=10)
        self._server.sock.close()
        close = getattr(self.app.extensions.get("fakeapollo"), "close", None)
        if callable(close):
            close()


def start_live_server(app: Flask, host: str = "127.0.0.1") -> LiveServer:
    """Serve `app` on a free port of `host` in a daemon thread, on the server `fakeapollo serve` uses."""
    from mock_server.app import listening
    from mock_server.httpserver import Server, bind_socket
    from mock_server.views.fast import handler_for

    server = Server(app, bind_socket(host, 0), fast=handler_for(app))
    ready = threading.Event()

    def on_ready(bound_host: str, port: int) -> None:
        listening(app, bound_host, port)
        ready.set()

    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"on_ready": on_ready, "handle_signals": False},
        name="fakeapollo",
        daemon=True,
    )
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the fakeapollo live server did not start")
    return LiveServer(app=app, url=f"http://{host}:{server.address[1]}", _server=server, _thread=thread)


class FakeApollo:
    """A handle on the running emulator for one test: where it is, which key to use, its state."""

    def __init__(self, server: LiveServer, api_key: str = DEFAULT_API_KEY) -> None:
        self.url = server.url
        self.api_url = server.url + "/api/v1"
        self.api_key = api_key
        self.app = server.app

    @property
    def service(self) -> Enrichment:
        """The in-process Enrichment service, for assertions without HTTP."""
        service: Enrichment = self.app.extensions["fakeapollo"]
        return service

    def reset(self) -> None:
        """Back to a freshly started emulator: journal, counters, deliveries, scenarios, clock."""
        self.service.reset()

    def client(self) -> FlaskClient:
        """A Flask test client on the same emulator: in-process calls without sockets."""
        client = self.app.test_client()
        client.environ_base["HTTP_X_API_KEY"] = self.api_key
        return client

    def requests(
        self,
        *,
        path: str | None = None,
        status: int | None = None,
        api_key: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries, oldest first, as `GET /__admin/requests` shows them."""
        from mock_server.clock import Clock

        entries = self.service.store.journal.entries(
            path=path, status=status, api_key=api_key, since=since, limit=limit
        )
        return [entry.describe(Clock.iso) for entry in entries]

    def clear_requests(self) -> None:
        """Empty the journal."""
        self.service.store.journal.clear()

    def scenario(
        self,
        outcome: str,
        *,
        path: str | None = None,
        api_key: str | None = None,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        after: int = 0,
        **outcome_params: Any,
    ) -> Scenario:
        """Queue a forced outcome; use the result as a context manager to remove it afterwards."""
        document: dict[str, Any] = {
            "outcome": outcome,
            "match": {"path": path, "api_key": api_key, "params": dict(params or {})},
            "params": outcome_params,
            "after": after,
        }
        if times is not None:
            document["times"] = times
        scenario = self.service.store.scenarios.add(document)
        return Scenario(self, scenario.id)

    def now(self) -> datetime:
        """The emulator's clock."""
        return self.service.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward; everything that falls due runs before this returns."""
        self.service.clock.advance(seconds)
        return self.now()

    def freeze(self) -> datetime:
        """Stop the clock where it stands."""
        self.service.clock.freeze()
        return self.now()

    def unfreeze(self) -> datetime:
        """Let the clock run again."""
        self.service.clock.unfreeze()
        return self.now()


class Scenario:
    """A queued scenario; leaving its `with` block deletes it."""

    def __init__(self, owner: FakeApollo, scenario_id: str) -> None:
        self.owner = owner
        self.id = scenario_id

    def remove(self) -> None:
        """Delete the scenario (a no-op when it was used up)."""
        self.owner.service.store.scenarios.remove(self.id)

    def __enter__(self) -> Scenario:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()


@pytest.fixture(scope="session")
def fakeapollo_server() -> Iterator[LiveServer]:
    """A live fakeapollo on a free loopback port, shared by the whole test session."""
    from mock_server.app import create_app

    server = start_live_server(create_app())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fakeapollo(fakeapollo_server: LiveServer) -> Iterator[FakeApollo]:
    """The emulator for one test: `.url`, `.api_url`, `.api_key`; state is reset around the test."""
    handle = FakeApollo(fakeapollo_server)
    handle.reset()
    yield handle
    handle.reset()
