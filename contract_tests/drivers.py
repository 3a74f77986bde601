"""Drivers: how the runner calls a client for one case (a Python adapter in-process, or a command).

A command runs once per case (`CommandDriver`), or once and then serves case after case, one JSON
line each way (`LinesDriver`, `check-client --persistent`). Every run has a limit in seconds (the
run budget, set per case by the runner); a client still running at the limit is stopped and its
reply says so (`stopped="budget"`), apart from a client that exits on its own, whose exit status
and last lines of stderr are kept. Clients run in the time zone `CLIENT_TIME_ZONE`, not UTC, so
local-time mistakes show.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import json
import os
import queue
import select
import subprocess
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from contract_tests.adapter import ClientAdapter, Unsupported
from contract_tests.defaults import DEFAULT_TIMEOUT

#: The time zone clients run in: east of UTC with a half hour, so an HTTP date read as local time
#: lands in the past and a naive hour arithmetic is off.
CLIENT_TIME_ZONE = "Asia/Kolkata"
#: Where a client finds its case's emulator and key: in its environment, or on each line (persistent).
TARGET_VARIABLES = ("APOLLO_BASE_URL", "APOLLO_API_URL", "APOLLO_API_KEY")
#: The crash of a command that exits 0 without an outcome.
EXITED_SILENT = "the client exited 0 and printed nothing on stdout"
#: What a persistent client that exits 0 without answering is told besides.
LINES_HINT = " (a --persistent client answers every line and exits when its stdin closes)"
#: What a persistent client prints on stderr is kept up to this many characters per case.
STDERR_KEPT = 16_000
#: Seconds a persistent client has to exit once its stdin is closed, before it is killed.
CLOSE_WAIT = 2.0


@dataclass(frozen=True)
class Target:
    """Where the client is sent for one case."""

    base_url: str
    api_key: str

    @property
    def api_url(self) -> str:
        """The base URL of Apollo's routes."""
        return self.base_url + "/api/v1"

    def environment(self) -> dict[str, str]:
        """`APOLLO_BASE_URL`, `APOLLO_API_URL` and `APOLLO_API_KEY` for this case."""
        return dict(zip(TARGET_VARIABLES, (self.base_url, self.api_url, self.api_key), strict=True))


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
        env = {**os.environ, **target.environment(), "TZ": CLIENT_TIME_ZONE}
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                _argv(self.command),
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
            return _not_started(exc)
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


class LinesDriver:
    """Starts the command once per concurrent case and sends it one JSON line per case (`--persistent`).

    Each case writes `{"request": <the request>, "env": {"APOLLO_BASE_URL": ..., "APOLLO_API_URL":
    ..., "APOLLO_API_KEY": ...}}` on one line and reads one JSON outcome line back; the process then
    waits for the next line. A process that crashes, runs past its limit, keeps sending requests or
    prints anything but one JSON line is killed (with its process group) and reported as
    `CommandDriver` would; the next case starts a fresh one. `close()` ends the idle processes.
    """

    def __init__(self, command: str, timeout: float = DEFAULT_TIMEOUT, cwd: str | None = None) -> None:
        self.command = command
        self.timeout = timeout
        self.cwd = cwd
        self.label = command
        #: How many processes were started: one per case running at the same time, one after each kill.
        self.started = 0
        self._idle: list[_LineClient] = []
        self._lock = threading.Lock()

    def call(self, request: dict[str, Any], target: Target, wake: threading.Event, limit: float) -> Reply:
        """Send `request` to an idle process (started when none is), read its outcome line."""
        with self._lock:
            client = self._idle.pop() if self._idle else None
        if client is None:
            try:
                client = _LineClient(self.command, self.cwd)
            except OSError as exc:
                return _not_started(exc)
            with self._lock:
                self.started += 1
        line = json.dumps({"request": request, "env": target.environment()})
        try:
            reply = client.answer(line, wake, limit)
        finally:
            wake.set()
        if reply.crash is None and reply.stopped is None:
            with self._lock:
                self._idle.append(client)
        return reply

    def close(self) -> None:
        """End the idle processes: stdin closed (their cue to exit), killed CLOSE_WAIT s later."""
        with self._lock:
            idle, self._idle = self._idle, []
        for client in idle:
            client.end_input()
        for client in idle:
            client.wait_or_kill(CLOSE_WAIT)

    def __enter__(self) -> LinesDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LineClient:
    """One running persistent client: stdout read line by line and stderr drained, each on a thread."""

    def __init__(self, command: str, cwd: str | None) -> None:
        env = {name: value for name, value in os.environ.items() if name not in TARGET_VARIABLES}
        self.process = subprocess.Popen(
            _argv(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**env, "TZ": CLIENT_TIME_ZONE},
            cwd=cwd,
            start_new_session=os.name != "nt",
        )
        self.lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        #: Set when a line (or the end of stdout) arrives, or when the runner's wake is set.
        self.signal = threading.Event()
        self._stderr: deque[str] = deque()
        self._stderr_size = 0
        self._stderr_lock = threading.Lock()
        # Held from a stderr read to the keeping of what it read: _settle_stderr takes it to see both.
        self._reading = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="contract-client-stdout", daemon=True)
        self._drainer = threading.Thread(target=self._drain, name="contract-client-stderr", daemon=True)
        self._reader.start()
        self._drainer.start()

    def answer(self, line: str, wake: threading.Event, limit: float) -> Reply:
        """Write `line`, wait for the outcome line, the end of the process, `wake` or the limit."""
        started = time.monotonic()
        deadline = started + limit
        self.signal.clear()
        stdout: list[str] = []
        stray = self._pending(stdout)
        if stray is None:
            return self._exited(stdout, started, deadline, limit)
        if stray:
            crash = (
                f"stdout held {stray} line(s) after the previous case's outcome: each outcome must be "
                "exactly one JSON line (log on stderr)"
            )
            return self._killed(crash, stdout, started)

        def watch() -> None:
            wake.wait()
            self.signal.set()

        threading.Thread(target=watch, name="contract-client-wake", daemon=True).start()
        threading.Thread(target=self._write, args=(line,), name="contract-client-stdin", daemon=True).start()
        while True:
            if not self.signal.wait(max(0.0, deadline - time.monotonic())):
                return self._killed(f"still running after {limit:g} s", stdout, started, "budget")
            self.signal.clear()
            while True:
                try:
                    text = self.lines.get_nowait()
                except queue.Empty:
                    break
                if text is None:
                    return self._exited(stdout, started, deadline, limit)
                if not text.strip():
                    continue
                stdout.append(text)
                try:
                    outcome = json.loads(text)
                except ValueError:
                    outcome = None
                if not isinstance(outcome, dict):
                    crash = (
                        "stdout held a line that is not a JSON object: each case's outcome must be "
                        "exactly one JSON line (log on stderr)"
                    )
                    return self._killed(crash, stdout, started)
                self._settle_stderr()
                printed = _printed("".join(stdout), self._take_stderr())
                return Reply(outcome, None, printed, time.monotonic() - started, ended=time.time())
            if wake.is_set():
                crash = "stopped: the client kept sending requests"
                return self._killed(crash, stdout, started, "runaway")

    def _pending(self, stdout: list[str]) -> int | None:
        """Lines printed since the last outcome, into `stdout`: their count, or None when stdout ended."""
        count = 0
        while True:
            try:
                text = self.lines.get_nowait()
            except queue.Empty:
                return count
            if text is None:
                return None
            if text.strip():
                stdout.append(text)
                count += 1

    def _exited(self, stdout: list[str], started: float, deadline: float, limit: float) -> Reply:
        """Stdout ended: the crash for its exit status (or the limit, if it keeps running)."""
        try:
            status = self.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return self._killed(f"still running after {limit:g} s", stdout, started, "budget")
        self._drainer.join(CLOSE_WAIT)
        stderr = self._take_stderr()
        crash = crash_line(status, stderr) if status != 0 else EXITED_SILENT + LINES_HINT
        printed = _printed("".join(stdout), stderr)
        return Reply(None, crash, printed, time.monotonic() - started, None, status, time.time())

    def _killed(self, crash: str, stdout: list[str], started: float, stopped: str | None = None) -> Reply:
        """Kill the process (and its group), then the reply with what it printed."""
        _kill(self.process)
        self.process.wait()
        self.end_input()
        self._drainer.join(CLOSE_WAIT)
        printed = _printed("".join(stdout), self._take_stderr())
        return Reply(None, crash, printed, time.monotonic() - started, stopped, ended=time.time())

    def _write(self, line: str) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(line.encode() + b"\n")
            stdin.flush()
        except (OSError, ValueError):  # it has exited (its stdout ends) or was killed meanwhile
            pass

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        for raw in stdout:
            self.lines.put(raw.decode("utf-8", "replace"))
            self.signal.set()
        self.lines.put(None)
        self.signal.set()

    def _drain(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        descriptor = stderr.fileno()
        while True:
            if os.name != "nt":  # wait outside the lock: the read below then returns at once
                select.select([descriptor], [], [])
            with self._reading:
                chunk = os.read(descriptor, 65_536)
                if not chunk:
                    return
                text = decoder.decode(chunk)
                with self._stderr_lock:
                    self._stderr.append(text)
                    self._stderr_size += len(text)
                    while self._stderr_size > STDERR_KEPT and len(self._stderr) > 1:
                        self._stderr_size -= len(self._stderr.popleft())

    def _settle_stderr(self, seconds: float = 0.5) -> None:
        """Let the drain thread keep what the client wrote on stderr before its outcome (at most `seconds`).

        Waits while the pipe still holds bytes or a chunk read is not yet kept: on a busy machine a
        megabyte written just before the outcome line takes the drain thread well over 50 ms.
        """
        stderr = self.process.stderr
        if os.name == "nt" or stderr is None:  # pragma: no cover - select takes no pipes there
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._reading:  # never between a read and the keeping of what it read
                if not select.select([stderr.fileno()], [], [], 0)[0]:
                    return
            if self.process.poll() is not None:
                return
            time.sleep(0.001)

    def _take_stderr(self) -> str:
        with self._stderr_lock:
            text = "".join(self._stderr)
            self._stderr.clear()
            self._stderr_size = 0
        return text

    def end_input(self) -> None:
        """Close the process's stdin: a persistent client exits when its input ends."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()

    def wait_or_kill(self, seconds: float) -> None:
        """Wait up to `seconds` for the process to exit, then kill its process group."""
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            _kill(self.process)
            self.process.wait()
        self.end_input()


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


def _argv(command: str) -> str | list[str]:
    """How a command line is started: through /bin/sh (the shell of Windows there)."""
    return command if os.name == "nt" else ["/bin/sh", "-c", command]


def _not_started(exc: OSError) -> Reply:
    return Reply(None, f"the command could not start: {exc}", exit_status=None, ended=time.time())


def _kill(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
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
    "LinesDriver",
    "Reply",
    "Target",
    "client_time_zone",
    "crash_line",
]
