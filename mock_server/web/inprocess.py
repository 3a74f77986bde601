"""The in-process form: a synchronous httpx client that drives the ASGI application without sockets.

`FakeApollo.client()` and `client(app)` hand each request to the same `Emulator` that `fakeapollo
serve` runs, on an event loop thread of its own, so a test goes through the production path: the
same routing, `answer()`, faults, journal entries and counters as over HTTP. What the network would
do is done here too: a `connection_reset` outcome raises httpx's `ReadError`, and a client's read
timeout raises `ReadTimeout` while the held answer finishes behind it (and is journaled) as on a
server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import unquote

import httpx
from flask import Flask

from mock_server.web.asgi import Emulator, Message
from mock_server.web.faults import RESET_EXTENSION

log = logging.getLogger("fakeapollo")
# The addresses the scope names when there is no socket.
CLIENT_ADDRESS = ("127.0.0.1", 50000)
DEFAULT_BASE_URL = "http://fakeapollo.localhost"  # a .localhost name: the control API takes it as its own
_STOP_SECONDS = 5.0


def _new_loop() -> asyncio.AbstractEventLoop:
    """The event loop `fakeapollo serve` runs on (uvloop) where it is installed; else asyncio's.

    Handing a request to the loop's thread and back cost about 83 µs of CPU on uvloop against
    about 115 µs on asyncio's own loop (bench/README.md).
    """
    try:
        import uvloop
    except ImportError:  # Windows: serve's extra leaves it out
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class AppLoop:
    """An event loop on a daemon thread, where in-process requests run as on the server's loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run `coroutine` on the loop (started on first use); its future."""
        with self._lock:
            if self._loop is None:
                self._loop = _new_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="fakeapollo-inprocess", daemon=True
                )
                self._thread.start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def close(self) -> None:
        """Cancel what still runs (a held answer), stop the loop and its thread."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(_cancel_others(), loop).result(_STOP_SECONDS)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_STOP_SECONDS)
        if not thread.is_alive():
            loop.close()


async def _cancel_others() -> None:
    """Cancel every task of the running loop but this one, and let them finish."""
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


class InProcessTransport(httpx.BaseTransport):
    """httpx's synchronous transport onto an ASGI `Emulator`, run on an `AppLoop`."""

    def __init__(self, app: Emulator, loop: AppLoop | None = None) -> None:
        self.app = app
        self.loop = loop if loop is not None else AppLoop()
        self._owns_loop = loop is None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request through the application and wait for its answer (at most the read timeout)."""
        exchange = _Exchange(request)
        future = self.loop.submit(exchange.run(self.app))
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise httpx.ReadTimeout("timed out waiting for the answer", request=request) from None
        return exchange.response()

    def close(self) -> None:
        """Stop the loop when this transport started it."""
        if self._owns_loop:
            self.loop.close()


class _Exchange:
    """One request's ASGI messages, both ways."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        self.body = request.read()
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.was_reset = False
        self.given = False
        self.done: asyncio.Event | None = None

    def scope(self) -> dict[str, Any]:
        """The ASGI scope uvicorn would build for this request."""
        url = self.request.url
        raw_path = url.raw_path.partition(b"?")[0]
        port = url.port or (443 if url.scheme == "https" else 80)
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": (url.host, port),
            "client": CLIENT_ADDRESS,
            "scheme": url.scheme,
            "method": self.request.method,
            "root_path": "",
            "path": unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "query_string": url.query,
            "headers": [(name.lower(), value) for name, value in self.request.headers.raw],
            "extensions": {RESET_EXTENSION: self.reset},
        }

    def reset(self) -> None:
        """The `connection_reset` outcome: the client sees the connection dropped."""
        self.was_reset = True
        if self.done is not None:
            self.done.set()

    async def run(self, app: Emulator) -> None:
        """Run the application on this exchange."""
        self.done = asyncio.Event()
        try:
            await app(self.scope(), self.receive, self.send)
        except Exception:
            # As uvicorn answers an application that raised before it answered.
            log.exception("the application raised")
            if self.start is None:
                self.start = {"status": 500, "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
                self.chunks = [b"Internal Server Error"]
        finally:
            self.done.set()

    async def receive(self) -> Message:
        """The body at once; then the disconnect, once the answer is out or the connection reset."""
        if not self.given:
            self.given = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        assert self.done is not None
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """Keep the answer's start and body."""
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False) and self.done is not None:
                self.done.set()

    def response(self) -> httpx.Response:
        """The answer as httpx's response, or the error a client over HTTP would get."""
        if self.was_reset:
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=self.request)
        if self.start is None:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=self.request
            )
        return httpx.Response(
            self.start["status"],
            headers=self.start.get("headers", []),
            stream=httpx.ByteStream(b"".join(self.chunks)),
            request=self.request,
        )


def client(
    app: Flask | Emulator,
    *,
    api_key: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    loop: AppLoop | None = None,
) -> httpx.Client:
    """A synchronous httpx client on `app` (a `create_app` app or an `Emulator`), in-process.

    With `api_key`, every request sends it as `x-api-key`. Close the client when done: it stops
    its loop thread (unless `loop` was given).
    """
    if isinstance(app, Flask):
        service = app.extensions["fakeapollo"]
        app = Emulator(app, threads=service.config.threads)
    headers = {"x-api-key": api_key} if api_key is not None else {}
    return httpx.Client(transport=InProcessTransport(app, loop), base_url=base_url, headers=headers)
