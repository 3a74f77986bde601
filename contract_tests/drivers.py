"""Drivers: how the runner calls a client for one case (a Python adapter in-process, or a command).

Every run has a limit in seconds (the run budget, set per case by the runner); a client still
running at the limit is stopped and its reply says so (`stopped="budget"`), apart from a client
that exits on its own, whose exit status and last lines of stderr are kept. Clients run in the
time zone `CLIENT_TIME_ZONE`, not UTC, so local-time mistakes show.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from contract_tests.adapter import ClientAdapter, Unsupported

#: Seconds of its own (beyond what its case makes it wait) one client run may take: `--timeout`.
DEFAULT_TIMEOUT = 30.0
#: The time zone clients run in: east of UTC with a half hour, so an HTTP date read as local time
#: lands in the past and a naive hour arithmetic is off.
CLIENT_TIME_ZONE = "Asia/Kolkata"


@dataclass(frozen=True)
class Target:
    """Where the client is sent for one case."""

    base_url: str
    api_key: str

    @property
    def api_url(self) -> str:
        """The base URL of Apollo's routes."""
        return self.base_url + "/api/v1"


@dataclass
class Reply:
    """What a driver got from the client: an outcome, or a crash and what the client printed."""

    outcome: dict[str, Any] | None
    crash: str | None = None
    output: str = ""
    seconds: float = 0.0
    #: Why the run was stopped from outside: "budget" (still running at its limit), "runaway"
    #: (it kept sending requests); None when the client ended on its own.
    stopped: str | None = None
    #: The command's exit status, when it exited on its own.
    exit_status: int | None = None
    #: Wall-clock time (epoch seconds) the run ended.
    ended: float = 0.0


class Driver(Protocol):
    """Runs the client for one request (`{"operation": ..., ...}`)."""

    label: str
    timeout: float

    def call(self, request: dict[str, Any], target: Target, wake: threading.Event, limit: float) -> Reply:
        """Run the client for at most `limit` seconds; stop early when `wake` is set by a runaway client."""
        ...


@contextlib.contextmanager
def client_time_zone(zone: str = CLIENT_TIME_ZONE) -> Iterator[None]:
    """Run the block with the process's local time zone set to `zone` (for in-process clients)."""
    tzset = getattr(time, "tzset", None)
    if tzset is None:  # pragma: no cover - Windows: local time stays the machine's
        yield
        return
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        tzset()


class AdapterDriver:
    """Calls a `ClientAdapter` in-process, in a worker thread with a limit."""

    def __init__(self, adapter: ClientAdapter, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.adapter = adapter
        self.timeout = timeout
        self.label = type(adapter).__name__

    def call(self, request: dict[str, Any], target: Target, wake: threading.Event, limit: float) -> Reply:
        """Run the adapter method for `request` and wait for it, the limit, or a runaway."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["outcome"] = self._dispatch(request, target)
            except Unsupported:
                box["outcome"] = {"outcome": "unsupported"}
            except BaseException as exc:  # noqa: BLE001 - any escape is the client crashing
                lines = traceback.format_exception(exc)
                box["crash"] = f"{type(exc).__name__}: {exc}"
                box["output"] = "".join(lines[-6:])
            finally:
                wake.set()

        started = time.monotonic()
        threading.Thread(target=work, name="contract-client", daemon=True).start()
        finished = wake.wait(limit)
        seconds = time.monotonic() - started
        if not finished:
            return Reply(
                None, f"still running after {limit:g} s", seconds=seconds, stopped="budget", ended=time.time()
            )
        if "outcome" in box or "crash" in box:
            outcome = box.get("outcome")
            if outcome is not None and not isinstance(outcome, dict):
                crash = f"the adapter returned {outcome!r}, not an outcome dict"
                return Reply(None, crash, seconds=seconds, ended=time.time())
            return Reply(outcome, box.get("crash"), box.get("output", ""), seconds, ended=time.time())
        return Reply(None, "stopped: the client kept sending requests", seconds=seconds, stopped="runaway")

    def _dispatch(self, request: dict[str, Any], target: Target) -> Any:
        operation = request["operation"]
        if operation == "people_match":
            return self.adapter.people_match(target.base_url, target.api_key, dict(request["params"]))
        if operation == "people_bulk_match":
            details = copy.deepcopy(request["details"])
            return self.adapter.people_bulk_match(target.base_url, target.api_key, details)
        if operation == "people_match_phones":
            params = dict(request["params"])
            return self.adapter.people_match_phones(target.base_url, target.api_key, params)
        if operation == "search_then_enrich":
            params = copy.deepcopy(request["params"])
            return self.adapter.search_then_enrich(target.base_url, target.api_key, params)
        if operation == "receive_webhooks":
            state: Any = None
            for payload in request["payloads"]:
                state = self.adapter.receive_webhook(copy.deepcopy(payload), state)
            return {"outcome": "webhook", "state": state}
        raise ValueError(f"unknown operation {operation!r}")


class CommandDriver:
    """Runs a shell command per case: JSON request on stdin, one JSON outcome on stdout."""

    def __init__(self, command: str, timeout: float = DEFAULT_TIMEOUT, cwd: str | None = None) -> None:
        self.command = command
        self.timeout = timeout
        self.cwd = cwd
        self.label = command

    def call(self, request: dict[str, Any], target: Target, wake: threading.Event, limit: float) -> Reply:
        """Start the command, feed it `request`, read its outcome."""
        env = {
            **os.environ,
            "APOLLO_BASE_URL": target.base_url,
            "APOLLO_API_URL": target.api_url,
            "APOLLO_API_KEY": target.api_key,
            "TZ": CLIENT_TIME_ZONE,
        }
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                self.command if os.name == "nt" else ["/bin/sh", "-c", self.command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=self.cwd,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=os.name != "nt",
            )
        except OSError as exc:
            return Reply(None, f"the command could not start: {exc}", exit_status=None, ended=time.time())
        killed = threading.Event()

        def watch() -> None:
            wake.wait()
            if process.poll() is None:
                killed.set()
                _kill(process)

        threading.Thread(target=watch, daemon=True).start()
        stopped = None
        try:
            stdout, stderr = process.communicate(json.dumps(request), timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(process)
            stdout, stderr = process.communicate()
            stopped = "budget"
        except BrokenPipeError:  # it exited before reading stdin
            stdout, stderr = process.communicate()
        finally:
            wake.set()
        seconds = time.monotonic() - started
        ended = time.time()
        printed = _printed(stdout, stderr)
        if stopped is not None:
            return Reply(None, f"still running after {limit:g} s", printed, seconds, stopped, ended=ended)
        if killed.is_set():
            return Reply(
                None, "stopped: the client kept sending requests", printed, seconds, "runaway", ended=ended
            )
        if process.returncode != 0:
            return Reply(
                None,
                crash_line(process.returncode, stderr),
                printed,
                seconds,
                None,
                process.returncode,
                ended,
            )
        reply = _outcome_of(stdout, printed, seconds)
        reply.exit_status, reply.ended = 0, ended
        return reply


def crash_line(status: int, stderr: str | None) -> str:
    """`exit status 1 (KeyError: 'city')`: how the client ended and the last line it printed on stderr.

    The report shows the last lines of what it printed beside this one.
    """
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    text = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
    return text + (f" ({lines[-1][:200]})" if lines else " (nothing on stderr)")


def _outcome_of(stdout: str, printed: str, seconds: float) -> Reply:
    """The reply for what a command printed: exactly one JSON object on stdout, or a crash."""
    try:
        outcome = json.loads(stdout)
    except ValueError:
        outcome = None
    if isinstance(outcome, dict):
        return Reply(outcome, None, printed, seconds)
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    try:
        last = json.loads(lines[-1]) if len(lines) > 1 else None
    except ValueError:
        last = None
    if isinstance(last, dict):
        crash = (
            f"stdout held {len(lines) - 1} line(s) besides the JSON outcome: stdout must hold exactly "
            "one JSON object (log on stderr)"
        )
        return Reply(None, crash, printed, seconds)
    if not lines:
        return Reply(None, "the client exited 0 and printed nothing on stdout", printed, seconds)
    return Reply(None, "stdout is not one JSON object", printed, seconds)


def _kill(process: subprocess.Popen[str]) -> None:
    try:
        if os.name != "nt":
            os.killpg(process.pid, 9)
        else:
            process.kill()
    except OSError:
        pass


def _printed(stdout: str | None, stderr: str | None) -> str:
    parts = []
    if stdout and stdout.strip():
        parts.append("stdout: " + _tail(stdout))
    if stderr and stderr.strip():
        parts.append("stderr: " + _tail(stderr))
    return "\n".join(parts)


def _tail(text: str, limit: int = 1_200) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


__all__ = [
    "CLIENT_TIME_ZONE",
    "DEFAULT_TIMEOUT",
    "AdapterDriver",
    "CommandDriver",
    "Driver",
    "Reply",
    "Target",
    "client_time_zone",
    "crash_line",
]
