"""Every use of uvicorn's internals, in one place: the HTTP protocol, the server and the process manager.

uvicorn's public settings do not reach what `fakeapollo serve` needs: limits on a request's head and
time, trailers kept out of the headers, JSON 400s for malformed requests, a TCP reset hook in the
scope, a banner once the server (or every worker) listens, and signals that end it with status 0.
So `HttpProtocol`, `ServerWithBanner` and `Supervisor` subclass uvicorn's own classes, and nothing
else in fakeapollo touches uvicorn beyond `uvicorn.Config`. `RELIED_ON` lists every internal they use;
`changes()` names those uvicorn no longer provides as expected, and tests/test_uvicorn_internals.py
fails with those names. The pin on uvicorn in pyproject.toml keeps an upgrade deliberate.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import signal
import socket
import struct
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from mock_server.domain.encoding import dumps
from mock_server.web.faults import RESET_EXTENSION, release_holds

log = logging.getLogger(__name__)
# Seconds a started request has to arrive whole; limits on a request's head.
REQUEST_TIMEOUT = 30
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
# Requests read ahead of the one being answered on a connection, past which it is read no more.
MAX_PIPELINED = 32
_HEAD_TOO_LARGE = f"Request header fields too large: the limit is {MAX_HEAD_BYTES} bytes"
# Seconds each worker process may take to start before `serve` gives up.
WORKER_START_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Internal:
    """One piece of uvicorn fakeapollo relies on: a method (with its parameters) or an attribute."""

    owner: type
    name: str
    parameters: tuple[str, ...] | None = None  # a method taking these (after self), in this order
    coroutine: bool = False  # the method is `async`
    set_in: str | None = None  # an attribute the owner's method of this name assigns
    why: str = ""

    def change(self) -> str | None:
        """What changed in uvicorn, or None when it is as fakeapollo expects."""
        where = f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"
        if self.set_in is not None:
            method = getattr(self.owner, self.set_in, None)
            source = _source(method)
            if source is None or not re.search(rf"self\.{self.name}\b[^=\n]*=(?!=)", source):
                return f"{where}: no longer set in {self.set_in}() (used to {self.why})"
            return None
        member = inspect.getattr_static(self.owner, self.name, None)
        if not callable(member) and not isinstance(member, staticmethod | classmethod):
            return f"{where}: gone (used to {self.why})"
        function = getattr(self.owner, self.name)
        if self.coroutine and not inspect.iscoroutinefunction(function):
            return f"{where}: no longer a coroutine function (used to {self.why})"
        if self.parameters is not None:
            found = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
            names = tuple(p.name for p in found[: len(self.parameters)])
            extra = [p.name for p in found[len(self.parameters) :] if p.default is inspect.Parameter.empty]
            if names != self.parameters or extra:
                shown = ", ".join(p.name for p in found)
                return f"{where}: parameters are now ({shown}), not ({', '.join(self.parameters)})"
        return None


def _source(function: Any) -> str | None:
    """The source of a function, or None when there is none."""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return None


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with fakeapollo's limits.

    - A chunked body's trailer fields never join the request's headers (uvicorn appends them to
      the scope's header list, where a trailer `x-api-key` would authenticate).
    - The scope's extensions carry a thread-safe `reset()` that drops the connection with a TCP
      reset, for the `connection_reset` outcome.
    - A head over 64 KiB gets 431 and more than 100 header fields 400, before they are buffered;
      malformed requests get a JSON 400 like every other error.
    - `Upgrade` is ignored: a request without a body is answered as plain HTTP (uvicorn would
      otherwise hand a WebSocket handshake to the app as a `websocket` scope and answer 500 in text),
      and what follows its head is read as the next request. llhttp skips the body of any request
      asking to upgrade (and of every CONNECT), so those get a JSON 400 and the connection closes:
      their bodies are never read as requests.
    - A connection that never sends a request, or a request that does not arrive whole in
      REQUEST_TIMEOUT seconds, is closed (uvicorn only times out idle keep-alive connections); one
      timer a connection keeps both times, where uvicorn sets and cancels one around every request.
    - What the connection writes is sent at the end of the loop's turn, with every other
      connection's (`TurnTransport`).
    - A connection is read no further while MAX_PIPELINED requests wait behind the one being
      answered (`PipelineFlow`): a client that sends and never reads cannot fill the memory.
    What of uvicorn's protocol they rely on is in RELIED_ON.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Note the connection as uvicorn does, make its reset hook, and start its idle timer."""
        super().connection_made(transport)
        self.reset_hook = _resetter(transport, self.loop)
        # Everything else of uvicorn's (its request cycles included) writes through this one.
        self.transport = TurnTransport(transport, turn_writes(self.loop))
        self.flow = PipelineFlow(transport, self.pipeline)
        self.head_bytes = 0
        self.header_bytes = 0
        self.header_count = 0
        self.in_head = True
        self.refusal: tuple[int, str] | None = None
        # When the request being read began, and when the connection last fell idle (loop time; None
        # when it is not in that state): one timer a connection checks both (`check_time`), instead of
        # uvicorn's keep-alive timer set and cancelled around every request.
        self.request_started: float | None = None
        self.idle_since: float | None = self.loop.time()
        self.timer: asyncio.TimerHandle | None = None
        self._arm_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection as uvicorn does, and its timer."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; refuse a head that grows past the limit before it ends.

        Unlike uvicorn's, bytes that begin no request (the CRLFs llhttp skips) do not make an idle
        connection busy, and the bytes after a request asking to upgrade are parsed, not dropped (only
        one without a body gets that far: `upgrade_refusal`), without a log line for each.
        """
        if self.in_head:
            self.head_bytes += len(data)
        while True:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                data = data[upgrade.args[0] :]
                if data:
                    continue
            except httptools.HttpParserError:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
                return
            break
        if self.in_head and self.head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self.send_error(431, _HEAD_TOO_LARGE)

    def on_url(self, url: bytes) -> None:
        """A piece of the request target, counted with the head."""
        self.header_bytes += len(url)
        super().on_url(url)

    def on_message_begin(self) -> None:
        """A request starts: its head is counted and it must arrive whole in time."""
        self.head_bytes = 0
        self.header_bytes = 0
        self.header_count = 0
        self.in_head = True
        self.request_started = self.loop.time()
        self.idle_since = None
        if self.timer is None:
            self._arm_timer()
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        """A header, unless the head is over (then it is a trailer: dropped); at most MAX_HEADERS."""
        if not self.in_head:
            return
        self.header_count += 1
        self.header_bytes += len(name) + len(value) + 4
        if self.header_count > MAX_HEADERS:
            self.refusal = (400, f"Too many request headers: the limit is {MAX_HEADERS}")
            raise ValueError(self.refusal[1])
        if self.header_bytes > MAX_HEAD_BYTES:
            self.refusal = (431, _HEAD_TOO_LARGE)
            raise ValueError(self.refusal[1])
        if name.lower() == b"upgrade":
            return  # no protocol switch is offered (ws="none"): the request is answered as HTTP
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """Start the request as uvicorn does, with the reset hook in its scope; refuse what cannot be read."""
        self.in_head = False
        if self.parser.should_upgrade():
            self.refusal = upgrade_refusal(self.parser.get_method(), self.headers)
            if self.refusal is not None:
                raise ValueError(self.refusal[1])
        scope: dict[str, Any] = self.scope  # type: ignore[assignment]
        scope["extensions"] = {RESET_EXTENSION: self.reset_hook}
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is whole: the connection's timer no longer counts it."""
        self.request_started = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """An answer is sent: start the next pipelined request, or note that the connection is idle.

        uvicorn's own sets a keep-alive timer after every answer and cancels it when the next request
        arrives; here the connection's one timer (`check_time`) closes it once idle too long.
        """
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self.idle_since = self.loop.time()
            if self.timer is None:
                self._arm_timer()

    def _arm_timer(self, delay: float | None = None) -> None:
        """Check the connection's time in `delay` seconds, at most the shorter of its two limits.

        So the timer is never due later than either limit of a state begun since it was set.
        """
        shortest = min(REQUEST_TIMEOUT, self.timeout_keep_alive)
        delay = shortest if delay is None else min(delay, shortest)
        self.timer = self.loop.call_later(delay, self.check_time)

    def check_time(self) -> None:
        """Close a connection too slow or idle too long; else check again when either could be due.

        Too slow: its request has been arriving for REQUEST_TIMEOUT; idle: no request for the keep-alive
        timeout. While a request is being answered neither counts, and the timer lapses (the next state
        sets it again).
        """
        self.timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        if self.request_started is not None:
            left = self.request_started + REQUEST_TIMEOUT - now
        elif self.idle_since is not None:
            left = self.idle_since + self.timeout_keep_alive - now
        else:
            return
        if left > 0:
            self._arm_timer(left)
        else:
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """Uvicorn's answer to a request it cannot parse, as a JSON error in Apollo's style."""
        status, message = self.refusal or (400, f"Malformed HTTP request: {msg}")
        self.send_error(status, message)

    def send_error(self, status: int, message: str) -> None:
        """Answer `{"error": message}` with `status`, then close the connection."""
        body = dumps({"error": message})
        reason = HTTPStatus(status).phrase.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, reason, len(body), body)
        )
        self.transport.close()


def upgrade_refusal(method: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, str] | None:
    """Why a request llhttp reads as a protocol switch is refused, or None when it can be answered.

    llhttp stops at the end of such a request's head: a body would then be parsed as requests.
    """
    if method == b"CONNECT":
        return 400, "Method CONNECT is not supported: fakeapollo serves HTTP requests, not tunnels"
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip(b"0")):
            return 400, "A request with a body cannot ask to upgrade: send it without Connection: upgrade"
    return None


class PipelineFlow(FlowControl):
    """uvicorn's flow control for a connection, that keeps it unread while its pipeline is full.

    uvicorn pauses reading when a request arrives behind one being answered, but resumes it whenever
    the application reads a body and after every answer: a client that sends requests and never
    reads the answers had them all parsed and queued, without bound.
    """

    def __init__(self, transport: asyncio.Transport, pipeline: deque[Any]) -> None:
        super().__init__(transport)
        self.pipeline = pipeline

    def resume_reading(self) -> None:
        """Read the connection again, unless MAX_PIPELINED requests are waiting."""
        if self.read_paused and len(self.pipeline) < MAX_PIPELINED:
            self.read_paused = False
            self._transport.resume_reading()


class TurnWrites:
    """The connections of one loop that wrote during its current turn: sent together once it ends.

    Answering a request wakes the client's thread, which reads it and sleeps again until its next
    answer. Sent one by one between requests, nearly every answer paid that wake-up (about one
    rescheduling interrupt an answer on the 2-core VM of bench/, against 0.26 sent together), and
    the served mix ran 15-20% slower (bench/README.md, "Answers sent at the end of the loop's turn").
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[TurnTransport] = []

    def add(self, transport: TurnTransport) -> None:
        """`transport` has bytes to send: send them when this turn of the loop ends."""
        if not self.waiting:
            self.loop.call_soon(self.send)
        self.waiting.append(transport)

    def send(self) -> None:
        """Send every waiting connection's bytes, one write each; a connection that fails is dropped."""
        waiting, self.waiting = self.waiting, []
        for transport in waiting:
            try:
                transport.send()
            except Exception:
                log.exception("cannot send an answer: the connection is dropped")
                transport.abort()


_TURN_WRITES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnWrites] = weakref.WeakKeyDictionary()


def turn_writes(loop: asyncio.AbstractEventLoop) -> TurnWrites:
    """The one `TurnWrites` of `loop`."""
    writes = _TURN_WRITES.get(loop)
    if writes is None:
        writes = _TURN_WRITES[loop] = TurnWrites(loop)
    return writes


class TurnTransport(asyncio.Transport):
    """A connection's transport whose writes wait for the end of the loop's turn (`TurnWrites`).

    Closing sends what waits first; bytes written to a connection that closes meanwhile are dropped.
    """

    def __init__(self, transport: asyncio.Transport, writes: TurnWrites) -> None:
        super().__init__()
        self.transport = transport
        self.writes = writes
        self.pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Keep `data` until the loop's turn ends."""
        if not self.pending:
            self.writes.add(self)
        self.pending.append(bytes(data))

    def send(self) -> None:
        """Write what waits, in one write, unless the connection is closing."""
        pending, self.pending = self.pending, []
        if pending and not self.transport.is_closing():
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        """Send what waits, then close."""
        self.send()
        self.transport.close()

    def abort(self) -> None:
        """Drop what waits and the connection."""
        self.pending = []
        self.transport.abort()

    def is_closing(self) -> bool:
        """Whether the connection is closing or closed."""
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The connection's own (socket, addresses)."""
        return self.transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        """Stop reading the connection."""
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        """Read the connection again."""
        self.transport.resume_reading()

    def is_reading(self) -> bool:
        """Whether the connection is being read."""
        return self.transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """Hand the connection to another protocol."""
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        """The connection's protocol."""
        return self.transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        """Bytes written and not yet sent, waiting ones included."""
        return self.transport.get_write_buffer_size() + sum(map(len, self.pending))


def _resetter(transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """A callable, safe from any thread, that resets `transport`'s connection (SO_LINGER 0, abort)."""

    def reset_now() -> None:
        if transport.is_closing():
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except (OSError, AttributeError):
                pass
        transport.abort()

    def reset() -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            reset_now()
        else:
            loop.call_soon_threadsafe(reset_now)

    return reset


class ServerWithBanner(uvicorn.Server):
    """uvicorn's server that calls `on_ready` once it listens, and exits 0 on SIGINT/SIGTERM."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then announce."""
        await super().startup(sockets)
        if self.started and self.on_ready is not None:
            self.on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop as uvicorn does, answering held and delayed requests at once (no cancelled tasks)."""
        release_holds()
        await super().shutdown(sockets)

    def stop(self) -> None:
        """Ask the server to stop (from another thread): it finishes what is in flight, then returns."""
        self.should_exit = True

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop gracefully on SIGINT/SIGTERM (on the main thread), without re-raising them after."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class Supervisor(Multiprocess):
    """uvicorn's process manager for `--workers N`, announcing once every worker listens."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], on_ready: Callable[[], None]):
        super().__init__(config, sockets)
        self.on_ready = on_ready
        self.status = 0

    def init_processes(self) -> None:
        """Start the workers and wait until each is ready (or one fails)."""
        super().init_processes()
        for process in self.processes:
            if not process.wait_until_ready(WORKER_START_TIMEOUT, self.should_exit):
                if not self.should_exit.is_set():
                    print("fakeapollo: cannot start: a worker did not start", file=sys.stderr)
                    self.status = 1
                    self.should_exit.set()
                return
        self.on_ready()


def changes(internals: tuple[Internal, ...] | None = None) -> list[str]:
    """Every internal in `internals` (default: RELIED_ON) that uvicorn no longer has as expected."""
    return [change for internal in internals or RELIED_ON if (change := internal.change()) is not None]


_RESET = "make the TCP reset hook"
_LIMITS = "limit a request's head and its time"
RELIED_ON: tuple[Internal, ...] = (
    Internal(HttpToolsProtocol, "connection_made", ("transport",), why=_RESET),
    Internal(HttpToolsProtocol, "connection_lost", ("exc",), why="stop the connection's timer"),
    Internal(HttpToolsProtocol, "data_received", ("data",), why="feed the parser, counting a head's bytes"),
    Internal(HttpToolsProtocol, "on_url", ("url",), why=_LIMITS),
    Internal(HttpToolsProtocol, "on_message_begin", (), why="time the request being read"),
    Internal(HttpToolsProtocol, "on_header", ("name", "value"), why="drop trailers and count headers"),
    Internal(HttpToolsProtocol, "on_headers_complete", (), why="put the reset hook in the scope"),
    Internal(HttpToolsProtocol, "on_message_complete", (), why="stop timing a request read whole"),
    Internal(HttpToolsProtocol, "send_400_response", ("msg",), why="answer malformed requests in JSON"),
    Internal(HttpToolsProtocol, "on_response_complete", (), why="one timer a connection, not one an answer"),
    Internal(HttpToolsProtocol, "_start_asgi_task", ("cycle", "app"), why="start a pipelined request"),
    Internal(HttpToolsProtocol, "pipeline", set_in="__init__", why="start a pipelined request"),
    Internal(HttpToolsProtocol, "parser", set_in="__init__", why="feed requests and refuse upgrades"),
    Internal(HttpToolsProtocol, "logger", set_in="__init__", why="log malformed requests as uvicorn does"),
    Internal(HttpToolsProtocol, "headers", set_in="on_message_begin", why="find an upgrading request's body"),
    Internal(HttpToolsProtocol, "flow", set_in="connection_made", why="bound and resume reading"),
    Internal(HttpToolsProtocol, "server_state", set_in="__init__", why="count answers as uvicorn does"),
    Internal(HttpToolsProtocol, "loop", set_in="__init__", why="schedule timers and resets"),
    Internal(HttpToolsProtocol, "timeout_keep_alive", set_in="__init__", why="time out idle connections"),
    Internal(HttpToolsProtocol, "transport", set_in="connection_made", why="write errors and reset"),
    Internal(RequestResponseCycle, "transport", set_in="__init__", why="send answers at the turn's end"),
    Internal(HttpToolsProtocol, "scope", set_in="on_message_begin", why="add the reset hook to the scope"),
    Internal(FlowControl, "__init__", ("transport",), why="bound a connection's pipeline"),
    Internal(FlowControl, "resume_reading", (), why="bound a connection's pipeline"),
    Internal(FlowControl, "read_paused", set_in="__init__", why="bound a connection's pipeline"),
    Internal(FlowControl, "_transport", set_in="__init__", why="bound a connection's pipeline"),
    Internal(uvicorn.Server, "__init__", ("config",), why="announce once listening"),
    Internal(uvicorn.Server, "run", ("sockets",), why="serve on a socket bound beforehand"),
    Internal(uvicorn.Server, "should_exit", set_in="__init__", why="stop a server run on a thread"),
    Internal(uvicorn.Server, "startup", ("sockets",), coroutine=True, why="announce once listening"),
    Internal(uvicorn.Server, "started", set_in="startup", why="announce once listening"),
    Internal(uvicorn.Server, "shutdown", ("sockets",), coroutine=True, why="end held requests first"),
    Internal(uvicorn.Server, "capture_signals", (), why="end with status 0 on SIGINT/SIGTERM"),
    Internal(uvicorn.Server, "handle_exit", ("sig", "frame"), why="end with status 0 on SIGINT/SIGTERM"),
    Internal(Multiprocess, "__init__", ("config", "sockets"), why="start workers for --workers N"),
    Internal(Multiprocess, "init_processes", (), why="announce once every worker listens"),
    Internal(Multiprocess, "processes", set_in="__init__", why="wait for each worker"),
    Internal(Multiprocess, "should_exit", set_in="__init__", why="stop when a worker fails to start"),
    Internal(Process, "wait_until_ready", ("timeout", "should_exit"), why="wait for each worker"),
)
