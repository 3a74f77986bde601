"""`fakeapollo serve`: binds, builds the app and runs mock_server.httpserver, in one process or prefork."""

from __future__ import annotations

import gc
import logging
import os
import select
import signal
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mock_server.config import Config
from mock_server.httpserver import GRACEFUL_TIMEOUT, Server, bind_socket

log = logging.getLogger("fakeapollo")


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

    from mock_server import data

    try:
        if config.store is not None:
            from mock_server.redis_store import check_reachable

            check_reachable(config.store)
        elif config.state_file is not None:
            from mock_server.sqlite_store import SqliteStore, check_state_file

            problem = check_state_file(config.state_file)
            if problem is not None:
                print(f"fakeapollo: cannot start: {problem}", file=sys.stderr)
                return None
            SqliteStore(config.state_file)  # create the tables once, before the workers start
        keys = data.load_key_registry(config.keys)
        data.load_served_persons(config.fixtures, bundled=config.bundled_fixtures)
    except (data.SchemaViolation, OSError, ValueError, sqlite3.Error) as exc:
        print(f"fakeapollo: cannot start: {exc}", file=sys.stderr)
        return None
    return banner_keys(config, [entry["key"] for entry in keys["keys"]])


def banner_keys(config: Config, names: list[str]) -> list[str]:
    """The key names the banner shows: the bundled test keys as they are, a custom registry's masked."""
    from mock_server.journal import mask_secret

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
    """Bind, then serve in this process, or in `config.workers` forked ones; returns the exit status."""
    key_names = _check_start_up(config)
    if key_names is None:
        return 2
    try:
        sock = bind_socket(config.host, config.port)
    except OSError as exc:
        where = bind_address(config.host, config.port)
        print(f"fakeapollo: cannot start: cannot listen on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    warning = exposure_warning(config, str(sock.getsockname()[0]))
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)

    def announce(host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        print(banner(f"http://{shown}:{port}", key_names), flush=True)

    if config.workers > 1:
        return _prefork(config, sock, announce)
    _run_worker(config, sock, announce)  # requests still held in the pool end with the process
    return 0


def _run_worker(config: Config, sock: socket.socket, on_ready: Callable[[str, int], None]) -> None:
    """Build the app and serve `sock` until SIGINT/SIGTERM."""
    from mock_server.app import create_app, listening
    from mock_server.views.fast import handler_for

    app = create_app(config)
    fast = handler_for(app)
    tune_garbage_collector()
    server = Server(
        app,
        sock,
        fast=fast,
        threads=config.threads,
        max_body_bytes=config.max_body_bytes,
        multiprocess=config.workers > 1,
    )
    listening(app, *sock.getsockname()[:2])  # webhooks aimed at this server are refused
    try:
        server.serve_forever(on_ready, handle_signals=True)
    finally:
        app.extensions["fakeapollo"].close()


def _prefork(config: Config, sock: socket.socket, announce: Callable[[str, int], None]) -> int:
    """Fork `config.workers` children serving `sock`; announce once all are ready, restart any that dies.

    The parent waits on two pipes: children write their pid to one when they accept connections,
    and signals arrive on the other (signal.set_wakeup_fd).
    """
    ready_r, ready_w = os.pipe()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in watched}
    old_wakeup = signal.set_wakeup_fd(wake_w)

    def spawn() -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        status = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in watched:
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for fd in (ready_r, wake_r, wake_w):
                os.close(fd)

            def ready(host: str, port: int) -> None:
                os.write(ready_w, struct.pack("=i", os.getpid()))

            _run_worker(config, sock, ready)
            status = 0
        except BaseException:
            log.exception("a worker failed")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    children = {spawn(): False for _ in range(config.workers)}
    announced = stopping = False
    status = 0
    kill_at = float("inf")
    try:
        while children:
            timeout = None if not stopping else max(0.0, kill_at - time.monotonic())
            readable, _, _ = select.select([ready_r, wake_r], [], [], timeout)
            if ready_r in readable:
                data = os.read(ready_r, 4 * 256)
                for (pid,) in struct.iter_unpack("=i", data[: len(data) // 4 * 4]):
                    if pid in children:
                        children[pid] = True
                if not announced and len(children) == config.workers and all(children.values()):
                    announced = True
                    announce(*sock.getsockname()[:2])
            if wake_r in readable:
                signals = os.read(wake_r, 256)
                if not stopping and (signal.SIGINT in signals or signal.SIGTERM in signals):
                    stopping = True
                    kill_at = time.monotonic() + GRACEFUL_TIMEOUT + 2
                    _signal_all(children, signal.SIGTERM)
            if stopping and time.monotonic() >= kill_at:
                _signal_all(children, signal.SIGKILL)
            for pid, was_ready in _reap(children):
                if stopping:
                    continue
                if not was_ready:
                    print("fakeapollo: cannot start: a worker exited during start-up", file=sys.stderr)
                    stopping = True
                    status = 1
                    kill_at = time.monotonic() + GRACEFUL_TIMEOUT + 2
                    _signal_all(children, signal.SIGTERM)
                    continue
                log.warning("worker %d exited unexpectedly; starting another", pid)
                children[spawn()] = False
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for fd in (ready_r, ready_w, wake_r, wake_w):
            os.close(fd)
        sock.close()
    return status


def _signal_all(children: dict[int, bool], sig: int) -> None:
    """Send `sig` to every child still running."""
    for pid in children:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _reap(children: dict[int, bool]) -> list[tuple[int, bool]]:
    """Collect the children that exited: (pid, whether it had been ready), removed from `children`."""
    gone = []
    while children:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in children:
            gone.append((pid, children.pop(pid)))
    return gone


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve(Config.from_env()))
