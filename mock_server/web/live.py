"""An emulator served on a free loopback port in a background thread, on the server `serve` uses.

The pytest plugin's session server and the contract runner's emulator are both one of these; this
module imports no test framework, so `fakeapollo check-client` starts without pytest.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
    from flask import Flask

    from mock_server.web.asgi import Emulator
    from mock_server.web.inprocess import AppLoop
    from mock_server.web.server import ServerWithBanner


@dataclass
class LiveServer:
    """An emulator app served on a free loopback port in a background thread."""

    app: Flask
    url: str
    emulator: Emulator  # the ASGI application the server runs; in-process clients drive it too
    loop: AppLoop  # where in-process requests run
    _server: ServerWithBanner
    _thread: threading.Thread
    _sock: socket.socket

    def client(self, api_key: str | None = None) -> httpx.Client:
        """A synchronous httpx client on this server's application, in-process (no sockets)."""
        from mock_server.web.inprocess import client

        return client(self.emulator, api_key=api_key, base_url=self.url, loop=self.loop)

    def stop(self) -> None:
        """Stop serving, close the socket and stop the app's background work (webhook dispatcher)."""
        self._server.stop()
        self._thread.join(timeout=10)
        self._sock.close()
        self.loop.close()
        close = getattr(self.app.extensions.get("fakeapollo"), "close", None)
        if callable(close):
            close()


def start_live_server(app: Flask, host: str = "127.0.0.1") -> LiveServer:
    """Serve `app` on a free port of `host` in a daemon thread, on the server `fakeapollo serve` uses."""
    from mock_server.web.app import listening
    from mock_server.web.asgi import Emulator
    from mock_server.web.inprocess import AppLoop
    from mock_server.web.server import ServerWithBanner, bind_socket, uvicorn_config

    service = app.extensions["fakeapollo"]
    sock = bind_socket(host, 0)
    emulator = Emulator(app, threads=service.config.threads, access_log=service.config.access_log)
    listening(app, *sock.getsockname()[:2])  # webhooks aimed at this server are refused
    ready = threading.Event()
    server = ServerWithBanner(uvicorn_config(service.config.with_overrides(workers=1), emulator), ready.set)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fakeapollo", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the fakeapollo live server did not start")
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    return LiveServer(app, url, emulator, AppLoop(), _server=server, _thread=thread, _sock=sock)


__all__ = ["LiveServer", "start_live_server"]
