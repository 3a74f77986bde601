"""`fakeapollo serve`: binds, builds the app and runs it under uvicorn, in one process or several."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

from mock_server.config import Config
from mock_server.domain.encoding import dumps
from mock_server.web.faults import RESET_EXTENSION

# Seconds a stopping server lets requests in flight finish; a keep-alive connection's idle limit.
GRACEFUL_TIMEOUT = 3
IDLE_TIMEOUT = 75
BACKLOG = 1024
# Seconds a started request has to arrive whole; limits on a request's head.
REQUEST_TIMEOUT = 30
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
_HEAD_TOO_LARGE = f"Request header fields too large: the limit is {MAX_HEAD_BYTES} bytes"
# Seconds each worker process may take to start before `serve` gives up.
WORKER_START_TIMEOUT = 60.0


def banner(url: str, key_names: list[str]) -> str:
    """The one line `serve` prints when it is ready."""
    return f"fakeapollo listening on {url} (test keys: {', '.join(key_names)})"


def tune_garbage_collector() -> None:
    """Move start-up objects out of the collector's sight and collect young objects less often.

    Measured with wrk (bench/): the default thresholds put full collections of the person caches
    in the request path, which showed up as a long p99 tail.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1_000)


def bind_address(host: str, port: int) -> str:
    """`host:port` as people write it; IPv6 literals get brackets."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


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
    sock.set_inheritable(True)
    return sock


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with fakeapollo's limits; the only uvicorn internals it touches.

    - A chunked body's trailer fields never join the request's headers (uvicorn appends them to
      the scope's header list, where a trailer `x-api-key` would authenticate).
    - The scope's extensions carry a thread-safe `reset()` that drops the connection with a TCP
      reset, for the `connection_reset` outcome.
    - A head over 64 KiB gets 431 and more than 100 header fields 400, before they are buffered;
      malformed requests get a JSON 400 like every other error.
    - A connection that never sends a request, or a request that does not arrive whole in
      REQUEST_TIMEOUT seconds, is closed (uvicorn only times out idle keep-alive connections).
    They rely on uvicorn's protocol keeping `scope`, `transport`, `loop` and these callbacks: hence
    the pin on uvicorn in pyproject.toml; tests/test_server_protocol.py fails if that changes.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Note the connection as uvicorn does, make its reset hook, and start its idle timer."""
        super().connection_made(transport)
        self.reset_hook = _resetter(transport, self.loop)
        self.head_bytes = 0
        self.header_bytes = 0
        self.header_count = 0
        self.in_head = True
        self.refusal: tuple[int, str] | None = None
        self.request_timer: asyncio.TimerHandle | None = None
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection as uvicorn does, and its request timer."""
        if self.request_timer is not None:
            self.request_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; refuse a head that grows past the limit before it ends."""
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
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
        if self.request_timer is not None:
            self.request_timer.cancel()
        self.request_timer = self.loop.call_later(REQUEST_TIMEOUT, self.request_too_slow)
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
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """Start the request as uvicorn does, with the reset hook in its scope."""
        self.in_head = False
        scope: dict[str, Any] = self.scope  # type: ignore[assignment]
        scope["extensions"] = {RESET_EXTENSION: self.reset_hook}
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is whole: its timer stops."""
        if self.request_timer is not None:
            self.request_timer.cancel()
            self.request_timer = None
        super().on_message_complete()

    def request_too_slow(self) -> None:
        """A request still incomplete after REQUEST_TIMEOUT: close the connection."""
        self.request_timer = None
        if not self.transport.is_closing():
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


class EmulatorFactory:
    """Builds the ASGI application from a Config; picklable, so each worker process builds its own."""

    def __init__(self, config: Config, address: tuple[str, int] | None = None) -> None:
        self.config = config
        self.address = address

    def __call__(self) -> Any:
        """A fresh app (create_app) wrapped in the ASGI application."""
        from mock_server.web.app import create_app, listening
        from mock_server.web.asgi import Emulator

        app = create_app(self.config)
        if self.address is not None:
            listening(app, *self.address)  # webhooks aimed at this server are refused
        emulator = Emulator(app, threads=self.config.threads, access_log=self.config.access_log)
        tune_garbage_collector()
        return emulator


def uvicorn_config(config: Config, app: Any) -> uvicorn.Config:
    """Uvicorn's settings for fakeapollo: our protocol, no logging of its own, a short graceful stop."""
    return uvicorn.Config(
        app,
        factory=isinstance(app, EmulatorFactory),
        http=HttpProtocol,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=IDLE_TIMEOUT,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT,
        backlog=BACKLOG,
        workers=config.workers,
    )


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


def serve(config: Config) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    if config.workers > 1 and config.state_file is None and config.store is None:
        # Several processes must share counters, credits and the journal: give them one file.
        with tempfile.TemporaryDirectory(prefix="fakeapollo-") as folder:
            return _serve(config.with_overrides(state_file=Path(folder) / "state.sqlite3"))
    return _serve(config)


def _check_start_up(config: Config) -> list[str] | None:
    """Load what every worker will load, once, so a bad file stops the start with a clear message.

    Returns the registered key names, or None after printing why the server cannot start.
    """
    import sqlite3

    from mock_server.domain import data

    try:
        if config.store is not None:
            from mock_server.stores.redis_client import check_reachable

            check_reachable(config.store)
        elif config.state_file is not None:
            from mock_server.stores.sqlite_store import SqliteStore, check_state_file

            problem = check_state_file(config.state_file)
            if problem is not None:
                print(f"fakeapollo: cannot start: {problem}", file=sys.stderr)
                return None
            SqliteStore(config.state_file).close()  # create the tables once, before the workers start
            from mock_server.stores.sqlite_repair import set_aside_damaged

            for warning in set_aside_damaged(config.state_file):
                print(f"fakeapollo: warning: {warning}", file=sys.stderr, flush=True)
        keys = data.load_key_registry(config.keys)
        data.load_served_persons(config.fixtures, bundled=config.bundled_fixtures)
    except (data.SchemaViolation, OSError, ValueError, sqlite3.Error) as exc:
        print(f"fakeapollo: cannot start: {exc}", file=sys.stderr)
        return None
    return banner_keys(config, [entry["key"] for entry in keys["keys"]])


def banner_keys(config: Config, names: list[str]) -> list[str]:
    """The key names the banner shows: the bundled test keys as they are, a custom registry's masked."""
    from mock_server.domain.journal import mask_secret

    return names if config.keys is None else [mask_secret(name) for name in names]


def exposure_warning(config: Config, host: str) -> str | None:
    """A warning when the control API is open to more than this machine, or None."""
    import ipaddress

    if not config.admin or config.admin_token is not None:
        return None
    try:
        if ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return None
    except ValueError:
        pass
    return (
        f"fakeapollo: warning: listening on {host}, beyond loopback, with the control API open and no"
        " --admin-token: anyone who can reach this port can reset state, change keys and move the clock"
    )


def _serve(config: Config) -> int:
    """Bind, then serve in this process, or in `config.workers` worker processes; the exit status."""
    key_names = _check_start_up(config)
    if key_names is None:
        return 2
    try:
        sock = bind_socket(config.host, config.port)
    except OSError as exc:
        where = bind_address(config.host, config.port)
        print(f"fakeapollo: cannot start: cannot listen on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host

    warning = exposure_warning(config, str(host))
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)

    def announce() -> None:
        print(banner(f"http://{shown}:{port}", key_names), flush=True)

    factory = EmulatorFactory(config, (host, port))
    try:
        if config.workers > 1:
            supervisor = Supervisor(uvicorn_config(config, factory), [sock], announce)
            supervisor.run()
            return supervisor.status
        ServerWithBanner(uvicorn_config(config, factory), announce).run(sockets=[sock])
        return 0
    finally:
        sock.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve(Config.from_env()))
