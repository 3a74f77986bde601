"""pytest fixtures that run fakeapollo for a test suite: a live server and a per-test handle."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask

    from mock_server.service import Enrichment

DEFAULT_API_KEY = "test-key"


@dataclass
class LiveServer:
    """An emulator app served on a free loopback port in a background thread."""

    app: Flask
    url: str
    _server: Any

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


def start_live_server(app: Flask, host: str = "127.0.0.1") -> LiveServer:
    """Serve `app` on a free port of `host` in a daemon thread."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        """Request handler that keeps test output free of access-log lines."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    server = make_server(host, 0, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, name="fakeapollo", daemon=True).start()
    return LiveServer(app=app, url=f"http://{host}:{server.server_port}", _server=server)


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
        """Back to a freshly started emulator."""
        self.service.reset()


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
