"""The HTTP/1.1 server behind `fakeapollo serve`: asyncio and httptools, a fast handler, WSGI in threads.

Each complete request first goes to the fast handler on the loop thread; when it answers None the
request goes to the WSGI app on a thread pool. Answers leave in request order (pipelining), as one
`transport.write()` each.
"""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import signal
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import unquote_to_bytes
from wsgiref.types import WSGIApplication

import httptools

from mock_server.errors import ApolloError, BadRequest, PayloadTooLarge

log = logging.getLogger("fakeapollo")

# Seconds a keep-alive connection may wait for its next request, and a started request to arrive whole.
IDLE_TIMEOUT = 75.0
REQUEST_TIMEOUT = 30.0
# Seconds a connection refused with an error keeps discarding what the client still sends, so the
# client reads the answer instead of a reset.
LINGER_TIMEOUT = 2.0
# Seconds a stopping server lets requests in the thread pool finish.
GRACEFUL_TIMEOUT = 3.0
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
BACKLOG = 1024
# Complete requests queued on one connection behind an unanswered one before reading pauses.
MAX_PIPELINE = 32

_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode("latin-1") for s in HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Headers of a WSGI answer the server writes itself (or drops: the whole body goes at once).
_SERVER_HEADERS = frozenset({"content-length", "connection", "transfer-encoding", "date", "keep-alive"})
_INFINITY = float("inf")


@dataclass(slots=True)
class HttpRequest:
    """One parsed request as the fast handler sees it."""

    method: str
    path: str  # percent-decoded, like WSGI PATH_INFO (a latin-1 str per PEP 3333)
    query_string: str  # raw, undecoded, without "?"
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    remote_addr: str


@dataclass(slots=True)
class HttpResponse:
    """What a fast handler answers."""

    status: int
    headers: list[tuple[str, str]]  # without Content-Length, Connection or Date: the server adds those
    body: bytes


FastHandler = Callable[[HttpRequest], HttpResponse | None]
# A request waiting for its turn: (request, keep-alive, HTTP version, repeated headers' values).
_Queued = tuple[HttpRequest, bool, str, dict[str, list[str]] | None]


class _HeadersTooLarge(BadRequest):
    """431 for a header section over the limit."""

    status = 431


def render_error(error: ApolloError) -> HttpResponse:
    """An ApolloError rendered as the app renders it: status, exact body, content type, headers."""
    headers = [("Content-Type", error.content_type), *error.headers.items()]
    return HttpResponse(error.status, headers, error.encoded_body())


_JSON = [("Content-Type", "application/json")]
INTERNAL_ERROR = HttpResponse(500, _JSON, b'{"error":"Internal Server Error"}')


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed, else the standard one."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host` (a name, an IPv4 or an IPv6 literal, brackets allowed) and `port`."""
    host = host.strip("[]")
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class WorkerPool:
    """Daemon threads that run the WSGI app.

    A request still held (a forced `timeout`, a primed hang) never keeps the interpreter from
    exiting, as the threads of concurrent.futures, joined at exit, would.
    """

    def __init__(self, size: int, name: str = "fakeapollo") -> None:
        self._size = max(1, size)
        self._name = name
        self._jobs: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Callable[..., object], *args: Any) -> None:
        """Run `job(*args)` on a pool thread; RuntimeError once the pool is shut down."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is shut down")
            self._jobs.put(lambda: job(*args))
            if self._idle == 0 and len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1

    def shutdown(self) -> None:
        """Take no more jobs; idle threads end, busy ones end after their job."""
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # the jobs log their own failures; this is a last resort
                log.exception("a worker job failed")
            with self._lock:
                self._idle += 1


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the error to answer is in `_Connection._error`."""


class Server:
    """Serves one listening socket until stopped: the fast handler on the loop, the WSGI app in threads."""

    def __init__(
        self,
        app: WSGIApplication,
        sock: socket.socket,
        *,
        fast: FastHandler | None = None,
        threads: int = 8,
        max_body_bytes: int = 1 << 20,
        multiprocess: bool = False,
    ) -> None:
        self.app = app
        self.fast = fast
        self.max_body_bytes = max_body_bytes
        self.multiprocess = multiprocess
        self.sock = sock
        self.connections: set[_Connection] = set()
        self.stopping = False
        self.in_flight = 0
        self.executor = WorkerPool(threads)
        name = sock.getsockname()
        self.server_name, self.server_port = str(name[0]), str(name[1])
        self.date_line = ""
        self.date_expires = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the socket listens on."""
        return self.server_name, int(self.server_port)

    def serve_forever(
        self, on_ready: Callable[[str, int], None] | None = None, *, handle_signals: bool | None = None
    ) -> bool:
        """Serve until `stop()` (or SIGINT/SIGTERM); True when no request was left running in the pool.

        Signals are handled when `handle_signals` is true, by default when called on the main thread.
        """
        if handle_signals is None:
            handle_signals = threading.current_thread() is threading.main_thread()
        loop = new_event_loop()
        self._loop = loop
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self._begin_stop)
        try:
            return loop.run_until_complete(self._run(on_ready))
        finally:
            if handle_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            loop.close()
            self.executor.shutdown()

    def stop(self) -> None:
        """Ask a serving server to stop (from any thread); serve_forever() returns after the grace period."""
        self._stop_requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._begin_stop)
            except RuntimeError:
                pass  # the loop closed meanwhile

    def _begin_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def _run(self, on_ready: Callable[[str, int], None] | None) -> bool:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        listener = await loop.create_server(lambda: _Connection(self, loop), sock=self.sock, backlog=BACKLOG)
        interval = min(1.0, IDLE_TIMEOUT, REQUEST_TIMEOUT, LINGER_TIMEOUT) / 2
        self._sweeper = loop.call_later(interval, self._sweep, loop, interval)
        if on_ready is not None:
            on_ready(*self.address)
        await self._stop.wait()
        self.stopping = True
        listener.close()
        for connection in list(self.connections):
            connection.stop()
        deadline = loop.time() + GRACEFUL_TIMEOUT
        while self.connections and loop.time() < deadline:
            await asyncio.sleep(0.02)
        self._sweeper.cancel()
        for connection in list(self.connections):
            connection.abort()
        await asyncio.sleep(0)  # let the aborted transports report their loss
        return self.in_flight == 0

    def _sweep(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        """Close connections past their deadline: idle too long, or a request that never finished."""
        now = loop.time()
        for connection in [c for c in self.connections if c.deadline < now]:
            connection.expire()
        self._sweeper = loop.call_later(interval, self._sweep, loop, interval)

    def refresh_date(self, now: float) -> None:
        """Format the Date header again; called at most once a second."""
        self.date_line = f"Date: {formatdate(usegmt=True)}\r\n"
        self.date_expires = now + 1.0

    def environ(
        self, request: HttpRequest, version: str, repeated: dict[str, list[str]] | None, remote_port: int
    ) -> dict[str, Any]:
        """The PEP 3333 environ of `request` (without the reset callable)."""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query_string,
            "SERVER_NAME": self.server_name,
            "SERVER_PORT": self.server_port,
            "SERVER_PROTOCOL": "HTTP/" + version,
            "REMOTE_ADDR": request.remote_addr,
            "REMOTE_PORT": str(remote_port),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": self.multiprocess,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            if repeated is not None and name in repeated:
                value = ",".join(repeated[name])
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
            elif name == "content-length":
                environ["CONTENT_LENGTH"] = value
            elif "_" not in name:  # x_api_key would pose as x-api-key: dropped, as gunicorn does
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        if "transfer-encoding" in request.headers:
            environ["CONTENT_LENGTH"] = str(len(request.body))
        return environ


def call_wsgi(
    app: WSGIApplication, environ: dict[str, Any]
) -> tuple[int, str, list[tuple[str, str]], bytes, int | None, bool]:
    """Run the app to the end: (status, reason, headers, body, the app's Content-Length, close asked)."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
    ) -> Callable[[bytes], object]:
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            if chunk:
                chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the WSGI app returned without calling start_response")
    status_text, app_headers = started
    headers: list[tuple[str, str]] = []
    length: int | None = None
    close_asked = False
    for name, value in app_headers:
        lower = name.lower()
        if lower not in _SERVER_HEADERS:
            headers.append((name, value))
        elif lower == "content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif lower == "connection":
            close_asked = "close" in value.lower()
    return int(status_text[:3]), status_text[4:], headers, b"".join(chunks), length, close_asked


class _Connection(asyncio.Protocol):
    """One client connection: parses requests, answers them in order, keeps the connection alive."""

    __slots__ = (
        "_server", "_loop", "_transport", "_parser", "_remote_addr", "_remote_port",
        "_url", "_headers", "_repeated", "_header_count", "_head_bytes", "_head_raw", "_head_open",
        "_head_fresh", "_body", "_body_size", "_method", "_version", "_keep_alive", "_upgrade_left",
        "_in_message", "_queue", "_busy", "_closed", "_done_reading", "_linger", "_client_eof",
        "_continue_deferred", "_error", "_paused_reading", "_paused_writing", "deadline",
    )  # fmt: skip

    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop) -> None:
        self._server = server
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._remote_addr = ""
        self._remote_port = 0
        self._url = b""
        self._headers: dict[str, str] = {}
        self._repeated: dict[str, list[str]] | None = None
        self._header_count = 0
        self._head_bytes = 0
        self._head_raw = 0
        self._head_open = False
        self._head_fresh = False
        self._body: list[bytes] = []
        self._body_size = 0
        self._method = ""
        self._version = "1.1"
        self._keep_alive = True
        self._upgrade_left = 0
        self._in_message = False
        # Complete requests waiting behind one in the pool: (request, keep-alive, version, repeated
        # headers), or an error answer that ends the connection.
        self._queue: deque[_Queued | HttpResponse] = deque()
        self._busy = False
        self._closed = False
        self._done_reading = False
        self._linger = False
        self._client_eof = False
        self._continue_deferred = False
        self._error: ApolloError | None = None
        self._paused_reading = False
        self._paused_writing = False
        self.deadline = _INFINITY

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the connection, note the peer, and turn Nagle off."""
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self._remote_addr, self._remote_port = str(peer[0]), int(peer[1])
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, AttributeError):
                pass
        self.deadline = self._loop.time() + IDLE_TIMEOUT
        self._server.connections.add(self)
        if self._server.stopping:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection; an answer still being made in the pool is dropped when it arrives."""
        self._closed = True
        self._done_reading = True
        self._queue.clear()
        self._server.connections.discard(self)

    def eof_received(self) -> bool:
        """The client finished sending: answer what is pending, then close."""
        self._client_eof = True
        self._done_reading = True
        return self._busy or bool(self._queue)

    def pause_writing(self) -> None:
        """The client reads slower than we answer: stop reading requests too."""
        self._paused_writing = True
        self._pause_reading()

    def resume_writing(self) -> None:
        """The client caught up."""
        self._paused_writing = False
        self._resume_reading()

    def data_received(self, data: bytes) -> None:
        """Feed the parser; requests are dispatched from its callbacks."""
        while data and not self._done_reading:
            if self._upgrade_left:
                data = self._read_upgrade_body(data)
                continue
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserUpgrade as exc:
                # httptools stops at an Upgrade request (curl --http2 sends one); we answer in
                # HTTP/1.1 and go on parsing the rest with a fresh parser.
                data = data[int(exc.args[0]) :]
                self._parser = httptools.HttpRequestParser(self)
                continue
            except httptools.HttpParserError as exc:
                if not self._done_reading:
                    self._parse_failed(exc)
                return
            if self._head_open:
                # A header line longer than the limit never reaches on_header: count raw bytes too.
                if self._head_fresh:
                    self._head_fresh = False
                else:
                    self._head_raw += len(data)
                    if self._head_raw > MAX_HEADER_BYTES:
                        self._refuse(_headers_too_large())
            return

    # -- httptools callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        """A new request starts."""
        if self._done_reading:
            raise _Refused  # the connection is closing: nothing after this is answered
        self._url = b""
        self._headers = {}
        self._repeated = None
        self._header_count = 0
        self._head_bytes = 0
        self._head_raw = 0
        self._head_open = True
        self._head_fresh = True
        self._body = []
        self._body_size = 0
        self._in_message = True
        self.deadline = self._loop.time() + REQUEST_TIMEOUT

    def on_url(self, url: bytes) -> None:
        """A piece of the request target."""
        self._url += url
        self._head_bytes += len(url)
        if self._head_bytes > MAX_HEADER_BYTES:
            raise self._fail(_headers_too_large())

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header; repeats are joined."""
        self._head_bytes += len(name) + len(value) + 4
        self._header_count += 1
        if self._head_bytes > MAX_HEADER_BYTES:
            raise self._fail(_headers_too_large())
        if self._header_count > MAX_HEADERS:
            raise self._fail(BadRequest(f"Too many request headers: the limit is {MAX_HEADERS}"))
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers = self._headers
        if key in headers:
            if self._repeated is None:
                self._repeated = {}
            self._repeated.setdefault(key, [headers[key]]).append(text)
            headers[key] = headers[key] + ", " + text
        else:
            headers[key] = text

    def on_headers_complete(self) -> None:
        """Method, version and keep-alive are known: refuse what cannot be served, ask for the body."""
        parser = self._parser
        self._head_open = False
        self._method = parser.get_method().decode("latin-1")
        self._version = parser.get_http_version()
        self._keep_alive = parser.should_keep_alive()
        headers = self._headers
        length = 0
        if "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise self._fail(BadRequest("Malformed HTTP request: invalid Content-Length")) from None
            if length > self._server.max_body_bytes:
                raise self._fail(PayloadTooLarge(self._server.max_body_bytes))
        if parser.should_upgrade():
            if self._method == "CONNECT":
                raise self._fail(BadRequest("Malformed HTTP request: CONNECT is not supported"))
            if "transfer-encoding" in headers:
                raise self._fail(BadRequest("Malformed HTTP request: a chunked body on an Upgrade request"))
            # httptools skips the body of an Upgrade request: data_received reads it.
            self._upgrade_left = length
        expect = headers.get("expect")
        if expect is not None and expect.lower() == "100-continue" and self._version == "1.1":
            if self._busy or self._queue:
                self._continue_deferred = True  # sent once the answers before it are out
            elif self._transport is not None:
                self._transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        """A piece of the body (de-chunked); a body over the limit is refused."""
        self._body_size += len(body)
        if self._body_size > self._server.max_body_bytes:
            raise self._fail(PayloadTooLarge(self._server.max_body_bytes))
        self._body.append(body)

    def on_message_complete(self) -> None:
        """The request is whole: answer it now, or queue it behind the one being answered."""
        if not self._upgrade_left:
            self._finish_message()

    # -- requests -----------------------------------------------------------------------------------

    def _read_upgrade_body(self, data: bytes) -> bytes:
        """Take an Upgrade request's body from `data`; the rest is the next request."""
        left = self._upgrade_left
        part = data[:left]
        self._body_size += len(part)
        self._body.append(part)
        self._upgrade_left = left - len(part)
        if not self._upgrade_left:
            self._finish_message()
        return data[left:]

    def _finish_message(self) -> None:
        self._in_message = False
        self._continue_deferred = False
        if self._done_reading:
            return
        url = self._url
        try:
            if url[:1] == b"/" and b"#" not in url:
                raw_path, _, raw_query = url.partition(b"?")
            else:
                parsed = httptools.parse_url(url)
                raw_path, raw_query = parsed.path or b"/", parsed.query or b""
        except httptools.HttpParserInvalidURLError:
            self._refuse(BadRequest(f"Malformed HTTP request: invalid request target {url[:200]!r}"))
            return
        path = (unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path).decode("latin-1")
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        request = HttpRequest(
            self._method, path, raw_query.decode("latin-1"), self._headers, body, self._remote_addr
        )
        if self._busy or self._queue:
            self._queue.append((request, self._keep_alive, self._version, self._repeated))
            if len(self._queue) >= MAX_PIPELINE:
                self._pause_reading()
        else:
            self._dispatch(request, self._keep_alive, self._version, self._repeated)

    def _dispatch(
        self, request: HttpRequest, keep_alive: bool, version: str, repeated: dict[str, list[str]] | None
    ) -> None:
        """Answer with the fast handler, or hand the request to the WSGI app in the pool."""
        fast = self._server.fast
        if fast is not None:
            try:
                response = fast(request)
            except Exception:
                log.exception("the fast handler failed on %s %s", request.method, request.path)
                response = INTERNAL_ERROR
            if response is not None:
                head = request.method == "HEAD"
                self._send(response.status, response.headers, response.body, keep_alive, head)
                return
        self._busy = True
        self._server.in_flight += 1
        try:
            self._server.executor.submit(self._run_wsgi, request, keep_alive, version, repeated)
        except RuntimeError:  # the pool was shut down: the server is stopping
            self._server.in_flight -= 1
            self._busy = False
            self._send(503, _JSON, b'{"error":"Service Unavailable"}', False, False)

    def _run_wsgi(
        self, request: HttpRequest, keep_alive: bool, version: str, repeated: dict[str, list[str]] | None
    ) -> None:
        """On a pool thread: run the app, then hand its answer to the loop thread."""
        loop = self._loop
        reset = [False]

        def reset_connection() -> None:
            reset[0] = True
            loop.call_soon_threadsafe(self._reset)

        environ = self._server.environ(request, version, repeated, self._remote_port)
        environ["fakeapollo.reset"] = reset_connection
        try:
            status, reason, headers, body, length, close = call_wsgi(self._server.app, environ)
        except Exception:
            log.exception("the app failed on %s %s", request.method, request.path)
            status, reason, headers, body, length, close = 500, "", _JSON, INTERNAL_ERROR.body, None, False
        try:
            loop.call_soon_threadsafe(
                self._wsgi_done, status, reason, headers, body, keep_alive and not close,
                request.method == "HEAD", length, reset[0],
            )  # fmt: skip
        except RuntimeError:
            pass  # the loop is closed: the server stopped without us

    def _wsgi_done(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        keep_alive: bool,
        head: bool,
        length: int | None,
        reset: bool,
    ) -> None:
        """On the loop: write the app's answer, then go on with the queued requests."""
        self._server.in_flight -= 1
        self._busy = False
        if self._closed or reset:
            return
        self._send(status, headers, body, keep_alive, head, length if head else None, reason)
        self._drain()

    def _drain(self) -> None:
        """Answer queued requests in order until one goes to the pool."""
        queue = self._queue
        while queue and not self._busy and not self._closed:
            item = queue.popleft()
            if isinstance(item, HttpResponse):
                self._send(item.status, item.headers, item.body, False, False)
                break
            self._dispatch(*item)
        if self._closed or self._busy:
            return
        if self._client_eof and not queue:
            self._close()
            return
        if self._continue_deferred and self._in_message and self._transport is not None:
            self._continue_deferred = False
            self._transport.write(_CONTINUE)
        self._resume_reading()

    def _send(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        keep_alive: bool,
        head: bool,
        length: int | None = None,
        reason: str = "",
    ) -> None:
        """Write one answer as one write; close afterwards unless the connection stays alive."""
        transport = self._transport
        if self._closed or transport is None:
            return
        server = self._server
        now = self._loop.time()
        if now >= server.date_expires:
            server.refresh_date(now)
        if server.stopping:
            keep_alive = False
        lines = [f"{name}: {value}\r\n" for name, value in headers]
        if status >= 200 and status != 204 and status != 304:
            lines.append(f"Content-Length: {len(body) if length is None else length}\r\n")
        else:
            body = b""
        lines.append(server.date_line)
        if not keep_alive:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        try:
            head_bytes = "".join(lines).encode("latin-1")
        except UnicodeEncodeError:
            log.error("answer to drop: a header is not latin-1: %r", headers)
            self._send(500, _JSON, INTERNAL_ERROR.body, keep_alive, head)
            return
        status_line = _STATUS_LINES.get(status) or f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")
        transport.write(b"".join((status_line, head_bytes, b"" if head else body)))
        if not keep_alive:
            self._queue.clear()
            self._done_reading = True
            if self._linger and transport.can_write_eof():
                # The client may still be sending the body we refused: discard it for a while, so
                # that closing with unread data does not reset the connection before it reads this.
                transport.write_eof()
                self.deadline = now + LINGER_TIMEOUT
                self._resume_reading()
            else:
                self._close()
        else:
            self.deadline = now + (REQUEST_TIMEOUT if self._in_message else IDLE_TIMEOUT)

    def _fail(self, error: ApolloError) -> _Refused:
        """Note the error a parser callback stops on; data_received answers it."""
        self._error = error
        return _Refused()

    def _parse_failed(self, exc: httptools.HttpParserError) -> None:
        error = self._error
        if error is None:
            if isinstance(exc, httptools.HttpParserCallbackError):
                log.error("unexpected error while parsing a request", exc_info=exc.__context__ or exc)
                self._answer_error(INTERNAL_ERROR)
                return
            error = BadRequest(f"Malformed HTTP request: {exc}")
        self._refuse(error)

    def _refuse(self, error: ApolloError) -> None:
        """Answer `error` after the answers before it, then close; nothing more is read."""
        self._error = error
        self._answer_error(render_error(error))

    def _answer_error(self, response: HttpResponse) -> None:
        self._done_reading = True
        self._linger = True
        self._upgrade_left = 0
        if self._busy or self._queue:
            self._queue.append(response)
        else:
            self._send(response.status, response.headers, response.body, False, False)

    # -- connection state ---------------------------------------------------------------------------

    def _pause_reading(self) -> None:
        transport = self._transport
        if not self._paused_reading and transport is not None and not transport.is_closing():
            self._paused_reading = True
            transport.pause_reading()

    def _resume_reading(self) -> None:
        transport = self._transport
        if (
            self._paused_reading
            and not self._paused_writing
            and len(self._queue) < MAX_PIPELINE
            and transport is not None
            and not transport.is_closing()
        ):
            self._paused_reading = False
            transport.resume_reading()

    def _close(self) -> None:
        self._done_reading = True
        if self._transport is not None and not self._closed:
            self._transport.close()

    def _reset(self) -> None:
        """Drop the connection with a TCP reset (SO_LINGER 0, then abort)."""
        transport = self._transport
        if self._closed or transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except (OSError, AttributeError):
                pass
        self._done_reading = True
        transport.abort()

    def expire(self) -> None:
        """The deadline passed: close, unless the pool is still answering (its time is not the client's)."""
        if self._busy or self._queue:
            self.deadline = _INFINITY
            return
        self._close()

    def stop(self) -> None:
        """The server stops: close now when idle, else after the answer being made."""
        self._done_reading = True
        if not self._busy and not self._queue:
            self._close()

    def abort(self) -> None:
        """Close at once, whatever is pending."""
        if self._transport is not None and not self._closed:
            self._transport.abort()


def _headers_too_large() -> ApolloError:
    return _HeadersTooLarge(f"Request header fields too large: the limit is {MAX_HEADER_BYTES} bytes")
