"""Runs the app on gunicorn's threaded workers: the production server behind `fakeapollo serve`."""

from __future__ import annotations

import gc
import sys
import tempfile
from pathlib import Path
from typing import Any

from mock_server.config import Config


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
    """Gunicorn's bind string; IPv6 literals get brackets."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def serve(config: Config) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    if config.workers > 1 and config.state_file is None:
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
        if config.state_file is not None:
            from mock_server.sqlite_store import SqliteStore

            SqliteStore(config.state_file)  # create the tables once, before the workers start
        keys = data.load_key_registry(config.keys)
        data.load_fixture_persons(config.fixtures)
    except (data.SchemaViolation, OSError, ValueError, sqlite3.Error) as exc:
        print(f"fakeapollo: cannot start: {exc}", file=sys.stderr)
        return None
    return [entry["key"] for entry in keys["keys"]]


def _serve(config: Config) -> int:
    """Run gunicorn with `config` until it stops."""
    from gunicorn.app.base import BaseApplication

    key_names = _check_start_up(config)
    if key_names is None:
        return 2

    def when_ready(server: Any) -> None:
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(banner(f"http://{shown}:{port}", key_names), flush=True)

    class Server(BaseApplication):  # type: ignore[misc]
        """Gunicorn configured from Config, loading the app through the factory."""

        def load_config(self) -> None:
            settings = {
                "bind": [bind_address(config.host, config.port)],
                "workers": config.workers,
                "worker_class": "gthread",
                "threads": config.threads,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "when_ready": when_ready,
                "graceful_timeout": 3,
                "timeout": 60,
                "proc_name": "fakeapollo",
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from mock_server.app import create_app

            app = create_app(config)
            tune_garbage_collector()
            return app

    try:
        Server().run()
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve(Config.from_env()))
