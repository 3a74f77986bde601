"""Drivers: how the runner calls a client for one case (a Python adapter in-process, or a command)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Protocol

from contract_tests.adapter import ClientAdapter, Unsupported

DEFAULT_TIMEOUT = 10.0


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


class Driver(Protocol):
    """Runs the client for one request (`{"operation": ..., ...}`)."""

    label: str
    timeout: float

    def call(self, request: dict[str, Any], target: Target, wake: threading.Event) -> Reply:
        """Run the client; return early (a crash) when `wake` is set by a runaway client."""
        ...


class AdapterDriver:
    """Calls a `ClientAdapter` in-process, in a worker thread with a timeout."""

    def __init__(self, adapter: ClientAdapter, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.adapter = adapter
        self.timeout = timeout
        self.label = type(adapter).__name__

    def call(self, request: dict[str, Any], target: Target, wake: threading.Event) -> Reply:
        """Run the adapter method for `request` and wait for it, the timeout, or a runaway."""
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
        if not wake.wait(self.timeout):
            return Reply(None, f"timed out after {self.timeout:g} s", seconds=time.monotonic() - started)
        seconds = time.monotonic() - started
        if "outcome" in box or "crash" in box:
            outcome = box.get("outcome")
            if outcome is not None and not isinstance(outcome, dict):
                return Reply(None, f"the adapter returned {outcome!r}, not an outcome dict", seconds=seconds)
            return Reply(outcome, box.get("crash"), box.get("output", ""), seconds)
        return Reply(None, "stopped: the client kept sending requests", seconds=seconds)

    def _dispatch(self, request: dict[str, Any], target: Target) -> Any:
        operation = request["operation"]
        if operation == "people_match":
            return self.adapter.people_match(target.base_url, target.api_key, dict(request["params"]))
        if operation == "people_bulk_match":
            details = copy.deepcopy(request["details"])
            return self.adapter.people_bulk_match(target.base_url, target.api_key, details)
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

    def call(self, request: dict[str, Any], target: Target, wake: threading.Event) -> Reply:
        """Start the command, feed it `request`, read its outcome."""
        env = {
            **os.environ,
            "APOLLO_BASE_URL": target.base_url,
            "APOLLO_API_URL": target.api_url,
            "APOLLO_API_KEY": target.api_key,
        }
        started = time.monotonic()
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
        killed = threading.Event()

        def watch() -> None:
            wake.wait()
            if process.poll() is None:
                killed.set()
                _kill(process)

        threading.Thread(target=watch, daemon=True).start()
        try:
            stdout, stderr = process.communicate(json.dumps(request), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            stdout, stderr = process.communicate()
            wake.set()
            return Reply(
                None,
                f"timed out after {self.timeout:g} s",
                _printed(stdout, stderr),
                time.monotonic() - started,
            )
        finally:
            wake.set()
        seconds = time.monotonic() - started
        printed = _printed(stdout, stderr)
        if killed.is_set():
            return Reply(None, "stopped: the client kept sending requests", printed, seconds)
        if process.returncode != 0:
            last = (stderr or "").strip().splitlines()[-1:] or [""]
            crash = f"exit status {process.returncode}" + (f" ({last[0][:200]})" if last[0] else "")
            return Reply(None, crash, printed, seconds)
        return _outcome_of(stdout, printed, seconds)


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


__all__ = ["DEFAULT_TIMEOUT", "AdapterDriver", "CommandDriver", "Driver", "Reply", "Target"]
