"""`fakeapollo serve`: binds, builds the app and runs it under uvicorn, in one process or several.

uvicorn is configured here through its public `Config`; what fakeapollo changes inside it (the HTTP
protocol, the server's start and signals, the process manager) is in web/uvicorn_internals.py.
"""

from __future__ import annotations

import gc
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from mock_server.config import Config
from mock_server.web.uvicorn_internals import HttpProtocol, ServerWithBanner, Supervisor

# Seconds a stopping server lets requests in flight finish; a keep-alive connection's idle limit.
GRACEFUL_TIMEOUT = 3
IDLE_TIMEOUT = 75
BACKLOG = 1024


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


class EmulatorFactory:
    """Builds the ASGI application from a Config; picklable, so each worker process builds its own."""

    def __init__(self, config: Config, address: tuple[str, int] | None = None) -> None:
        self.config = config
        self.address = address

    def __call__(self) -> Any:
        """A fresh service in the ASGI application; the Flask app around it when its store can wait."""
        from mock_server.domain.store import MemoryStore
        from mock_server.web.asgi import Emulator
        from mock_server.web.factory import build_service

        service = build_service(self.config)
        if self.address is not None:
            service.webhooks.listening_on(*self.address)  # webhooks aimed at this server are refused
        app: Any = service
        if not isinstance(service.store, MemoryStore):
            # Flask-served entries of a store that can wait go through create_app's writer thread.
            from mock_server.web.app import create_app

            app = create_app(service=service)
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
        ws="none",
        timeout_keep_alive=IDLE_TIMEOUT,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT,
        backlog=BACKLOG,
        workers=config.workers,
    )


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
    from mock_server.domain.keys import load_registry

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
        keys = load_registry(config.keys)
        data.load_served_persons(config.fixtures, bundled=config.bundled_fixtures)
        data.load_replay_key(config.fixtures, config.scrub_key_file)
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
    except UnicodeError:  # a name IDNA cannot encode: an empty label, or one longer than 63 characters
        where = bind_address(config.host, config.port)
        print(f"fakeapollo: cannot start: cannot listen on {where}: not a valid host name", file=sys.stderr)
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


__all__ = ["HttpProtocol", "ServerWithBanner", "Supervisor", "serve", "uvicorn_config"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve(Config.from_env()))
