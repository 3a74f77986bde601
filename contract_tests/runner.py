"""Run the contract against a client: generate cases, prime the emulator, call the client, shrink.

One live emulator serves every case, one this process starts or one already running (`--base-url`):
before each case a fresh API key is registered and the case's answers are queued for it as
scenarios over the control API, and afterwards what the client sent is read from the journal
(`contract_tests.priming`), so a case costs a few loopback calls on top of the client's run.
Cases come from the Hypothesis strategies of `contract_tests.contract`: each property's fixed
extremes first, then random cases, case `i` drawn from its own seed (`seed`, property, `i`) with no
example database, so the same seed gives the same cases whatever the count (a larger count only adds
cases). A failing case is shrunk greedily: bulk entries and request parameters dropped, broken
bodies shortened, person keys dropped, values nulled, arrays emptied and strings shortened, while
the answer still validates against its schema and the client still fails.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import queue
import random
import re
import secrets
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from contract_tests.adapter import ClientAdapter, Unsupported
from contract_tests.contract import PROPERTIES, Case, Observation, Property, property_named
from contract_tests.priming import DEFAULT_BUDGET, LONGEST_HOLD, ControlClient, prime
from contract_tests.strategies import definition
from mock_server.domain.data import violations

if TYPE_CHECKING:
    from flask import Flask
    from hypothesis.strategies import SearchStrategy

    from mock_server.pytest_plugin import LiveServer

DEFAULT_EXAMPLES = 10
DEFAULT_TIMEOUT = 10.0
#: Shrinking stops after this many client runs or seconds, whichever comes first.
SHRINK_RUNS = 40
SHRINK_SECONDS = 10.0


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


# --------------------------------------------------------------------------- the emulator


class ContractServer:
    """The emulator the contract drives through its control API: one started here, or one at `url`."""

    def __init__(self, url: str, admin_token: str | None = None, live: LiveServer | None = None) -> None:
        self.url = url.rstrip("/")
        self.control = ControlClient(self.url, admin_token)
        self._live = live

    @classmethod
    def start(cls, app: Flask | None = None) -> ContractServer:
        """Serve a fresh emulator (or `app`) on a free loopback port."""
        from mock_server.pytest_plugin import start_live_server
        from mock_server.web.app import create_app

        live = start_live_server(app if app is not None else create_app())
        return cls(live.url, live=live)

    def stop(self) -> None:
        """Stop serving (only a server this object started)."""
        self.control.close()
        if self._live is not None:
            self._live.stop()

    def __enter__(self) -> ContractServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- results


@dataclass
class Failure:
    """The minimal failing case of a property and what the client did with it."""

    case: Case
    observation: Observation
    problems: list[str]
    shrink_runs: int = 0


@dataclass
class PropertyResult:
    """How one property fared."""

    prop: Property
    status: str  # passed, failed or skipped
    cases: int = 0
    failure: Failure | None = None
    seconds: float = 0.0
    client_seconds: float = 0.0
    generation_seconds: float = 0.0
    shrink_seconds: float = 0.0
    note: str = ""


@dataclass
class Report:
    """The whole run."""

    client: str
    seed: int
    examples: int
    results: list[PropertyResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no property failed and not every property was skipped."""
        return all(r.status != "failed" for r in self.results) and not self.all_skipped

    @property
    def all_skipped(self) -> bool:
        """True when every property run was skipped: nothing about the client was checked."""
        return bool(self.results) and all(r.status == "skipped" for r in self.results)

    @property
    def failed(self) -> list[str]:
        """Names of the failed properties."""
        return [r.prop.name for r in self.results if r.status == "failed"]

    def _cases(self) -> int:
        return sum(r.cases + (r.failure.shrink_runs if r.failure else 0) for r in self.results)

    def overhead_ms(self) -> float:
        """Mean time per case spent outside the client and case generation (priming, HTTP, checks)."""
        cases = self._cases()
        client = sum(r.client_seconds + r.generation_seconds for r in self.results)
        return 0.0 if cases == 0 else max(0.0, self.seconds - client) / cases * 1000

    def generation_ms(self) -> float:
        """Mean time per case spent generating cases with Hypothesis."""
        cases = sum(r.cases for r in self.results)
        generation = sum(r.generation_seconds for r in self.results)
        return 0.0 if cases == 0 else generation / cases * 1000

    def render(self) -> str:
        """The table of properties, then every failure with its minimal case."""
        lines = [
            f"fakeapollo contract: {self.client} (seed {self.seed}, up to {self.examples} examples each)",
            "",
        ]
        width = max(len(r.prop.name) for r in self.results) if self.results else 8
        lines.append(f"  {'property'.ljust(width)}  result   cases  seconds")
        for result in self.results:
            mark = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[result.status]
            lines.append(
                f"  {result.prop.name.ljust(width)}  {mark.ljust(7)}  {str(result.cases).rjust(5)}"
                f"  {result.seconds:7.2f}" + (f"  {result.note}" if result.note else "")
            )
        for result in self.results:
            if result.failure is None:
                continue
            failure = result.failure
            lines += ["", f"FAILED {result.prop.name}: {result.prop.description}"]
            shrunk = f" (shrunk in {failure.shrink_runs} runs)" if failure.shrink_runs else ""
            lines.append(f"  minimal failing case{shrunk}:")
            lines += [f"    {line}" for line in failure.case.describe()]
            lines += [f"  the field: {line}" for line in _fields_in_question(failure)]
            obs = failure.observation
            if obs.exchanges:
                lines.append(f"  the client sent {len(obs.exchanges)} request(s):")
                start = obs.exchanges[0].arrived
                for exchange in obs.exchanges[:6]:
                    lines.append(
                        f"    +{exchange.arrived - start:.3f}s {exchange.describe()} -> {exchange.status}"
                    )
            reported = json.dumps(obs.outcome, ensure_ascii=False) if obs.outcome is not None else "nothing"
            lines.append(f"  the client reported: {reported[:500]}")
            if obs.output:
                lines += [f"    {line}" for line in obs.output.splitlines()[-12:]]
            lines.append("  problems:")
            lines += [f"    - {problem}" for problem in failure.problems]
        if self.all_skipped:
            lines += ["", ALL_SKIPPED]
        passed = sum(1 for r in self.results if r.status == "passed")
        failed = len(self.failed)
        skipped = sum(1 for r in self.results if r.status == "skipped")
        lines += [
            "",
            f"{passed} passed, {failed} failed, {skipped} skipped in {self.seconds:.1f} s "
            f"({self._cases()} client runs; per case: runner overhead {self.overhead_ms():.1f} ms, "
            f"generation {self.generation_ms():.1f} ms)",
        ]
        return "\n".join(lines)


# --------------------------------------------------------------------------- generation

ALL_SKIPPED = (
    "every property was skipped (the client answered unsupported): nothing was checked. A client must "
    "support people_match for every identifier it is given (email; first_name, last_name and domain; "
    "name and organization_name; linkedin_url; id), and people_bulk_match and receive_webhooks for "
    "the bulk and webhook properties."
)


def draw_one(strategy: SearchStrategy[Any], seed: str) -> Any:
    """One example of `strategy`, the same one for the same `seed` (no example database)."""
    try:
        from hypothesis.control import BuildContext
        from hypothesis.errors import StopTest
        from hypothesis.internal.conjecture.data import ConjectureData
    except ImportError:  # pragma: no cover - Hypothesis moved its internals: use the public API
        return _draw_public(strategy, seed)
    for attempt in range(20):
        data = ConjectureData(random=random.Random(f"{seed}/{attempt}"))
        try:
            with BuildContext(data, is_final=True, wrapped_test=draw_one):
                return data.draw(strategy)
        except StopTest:  # a filter rejected this try: draw again from the next seed
            continue
    raise RuntimeError(f"could not draw a case for {seed}")


def _draw_public(strategy: SearchStrategy[Any], seed: str) -> Any:  # pragma: no cover
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    found: list[Any] = []

    @seeded(int.from_bytes(seed.encode()[:16], "big"))
    @settings(
        max_examples=2,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found[-1]


def draw(strategy: SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """`count` examples of `strategy`; example `i` depends only on (`seed`, `i`)."""
    return [draw_one(strategy, f"{seed}:{index}") for index in range(count)]


def draw_cases(prop: Property, count: int, seed: int) -> Iterator[Case]:
    """The property's cases: its fixed extremes first, then random ones.

    Case `i` depends only on (`seed`, the property, `i`), so a larger `count` only adds cases.
    """
    extremes = prop.extremes()[:count]
    cases = prop.cases() if count > len(extremes) else None
    for index in range(count):
        strategy = extremes[index] if index < len(extremes) else cases
        assert strategy is not None
        yield draw_one(strategy, f"{seed}:{prop.name}:{index}")


def prefetched(cases: Iterator[Case]) -> Iterator[Case]:
    """`cases` in order, each drawn in a background thread while the client runs the one before.

    Drawing is CPU work in this process and a client run is mostly waiting, so the two overlap.
    At most one case is drawn ahead; closing the iterator stops the drawing.
    """
    ready: queue.Queue[tuple[Case | None, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for case in cases:
                while not stop.is_set():
                    try:
                        ready.put((case, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((None, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            ready.put((None, exc))

    threading.Thread(target=produce, name="contract-cases", daemon=True).start()
    try:
        while True:
            case, error = ready.get()
            if error is not None:
                raise error
            if case is None:
                return
            yield case
    finally:
        stop.set()


# --------------------------------------------------------------------------- the runner

Progress = Callable[["PropertyResult"], None]


class ContractRunner:
    """Runs properties against one client through one emulator."""

    def __init__(
        self,
        driver: Driver,
        server: ContractServer,
        *,
        examples: int = DEFAULT_EXAMPLES,
        seed: int = 0,
        properties: list[str] | None = None,
        shrink_runs: int = SHRINK_RUNS,
        shrink_seconds: float = SHRINK_SECONDS,
        fail_fast: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.driver = driver
        self.server = server
        self.examples = examples
        self.seed = seed
        self.properties = [property_named(n) for n in properties] if properties else list(PROPERTIES)
        self.shrink_runs = shrink_runs
        self.shrink_seconds = shrink_seconds
        self.fail_fast = fail_fast
        self.progress = progress
        self._nonce = secrets.token_hex(3)
        self._counter = 0

    def run(self) -> Report:
        """Every selected property, in order (stopping at the first failure with `fail_fast`)."""
        started = time.monotonic()
        report = Report(self.driver.label, self.seed, self.examples)
        for prop in self.properties:
            result = self.run_property(prop)
            report.results.append(result)
            if self.progress is not None:
                self.progress(result)
            if self.fail_fast and result.status == "failed":
                break
        report.seconds = time.monotonic() - started
        return report

    def run_property(self, prop: Property) -> PropertyResult:
        """Draw the property's cases, run them until one fails, shrink that one."""
        started = time.monotonic()
        count = max(1, min(self.examples, prop.max_examples or self.examples))
        result = PropertyResult(prop, "passed")
        cases = prefetched(draw_cases(prop, count, self.seed))
        while True:
            drawn = time.monotonic()
            case = next(cases, None)
            result.generation_seconds += time.monotonic() - drawn
            if case is None:
                break
            obs = self.run_case(case)
            result.cases += 1
            result.client_seconds += obs.seconds
            if obs.outcome is not None and obs.outcome.get("outcome") == "unsupported":
                result.status, result.note = "skipped", f"the client has no {case.operation}"
                break
            problems = prop.check(case, obs)
            if problems:
                result.status = "failed"
                result.failure = self._shrink(prop, case, Failure(case, obs, problems), result)
                break
        result.seconds = time.monotonic() - started
        return result

    def run_case(self, case: Case) -> Observation:
        """Prime the emulator with the case's answers, run the client once, collect what it sent."""
        self._counter += 1
        target = Target(self.server.url, _case_key(self._nonce, self._counter))
        wake = threading.Event()
        if case.deliveries is not None:
            once = self.driver.call(
                {"operation": "receive_webhooks", "payloads": case.deliveries.unique}, target, wake
            )
            wake = threading.Event()
            twice = self.driver.call(
                {"operation": "receive_webhooks", "payloads": case.deliveries.delivered}, target, wake
            )
            return _webhook_observation(once, twice, target.api_key)
        served = [response.at(time.time()) for response in case.responses]
        hold = min(LONGEST_HOLD, self.driver.timeout + 5)
        team = f"contract-{self._nonce}"
        primed = prime(self.server.control, target.api_key, team, served, budget=DEFAULT_BUDGET, hold=hold)
        primed.watch(wake.set)
        try:
            reply = self.driver.call(case.request, target, wake)
        finally:
            exchanges = primed.finish()
        runaway = primed.runaway.is_set()
        return Observation(
            reply.outcome,
            exchanges,
            None if runaway else reply.crash,
            reply.output,
            runaway,
            reply.seconds,
            target.api_key,
            [exchange.answer for exchange in exchanges],
            self.driver.timeout,
        )

    def _shrink(self, prop: Property, case: Case, failure: Failure, result: PropertyResult) -> Failure:
        """Greedily simplify the failing case (bulk entries, parameters, bodies, persons) while it fails."""
        deadline = time.monotonic() + self.shrink_seconds
        runs = 0
        best = failure
        tried: set[str] = set()
        improved = True
        while improved and runs < self.shrink_runs and time.monotonic() < deadline:
            improved = False
            for candidate in _simpler(best.case):
                if runs >= self.shrink_runs or time.monotonic() >= deadline:
                    break
                fingerprint = json.dumps(
                    [candidate.request, [[r.document, r.text] for r in candidate.responses]],
                    sort_keys=True,
                    default=str,
                )
                if fingerprint in tried:
                    continue
                tried.add(fingerprint)
                runs += 1
                obs = self.run_case(candidate)
                result.client_seconds += obs.seconds
                problems = prop.check(candidate, obs)
                if problems:
                    best = Failure(candidate, obs, problems)
                    improved = True
                    break
        best.shrink_runs = runs
        return best


def _case_key(nonce: str, counter: int) -> str:
    """A fresh API key for one case, random at both ends.

    The journal masks keys down to their first and last four characters, and its filter compares
    those masks: keys that differed only in the middle would share a journal.
    """
    ends = secrets.token_hex(4)
    return f"{ends[:4]}-contract-{nonce}-{counter}-{ends[4:]}"


def _webhook_observation(once: Reply, twice: Reply, api_key: str) -> Observation:
    seconds = once.seconds + twice.seconds
    for reply in (once, twice):
        if reply.crash is not None or reply.outcome is None:
            return Observation(reply.outcome, [], reply.crash, reply.output, False, seconds, api_key)
        if reply.outcome.get("outcome") != "webhook":
            return Observation(reply.outcome, [], None, reply.output, False, seconds, api_key)
    assert once.outcome is not None and twice.outcome is not None
    outcome = {
        "outcome": "webhook",
        "state_once": once.outcome.get("state"),
        "state": twice.outcome.get("state"),
    }
    return Observation(outcome, [], None, twice.output, False, seconds, api_key)


# --------------------------------------------------------------------------- shrinking


def _valid(case: Case) -> bool:
    return all(
        r.schema is None or r.text is not None or not violations(r.schema, r.document) for r in case.responses
    )


def _simpler(case: Case) -> Iterator[Case]:
    """Valid, simpler variants of `case`, coarse moves first.

    Fewer bulk entries, fewer parameters, shorter broken bodies, a person with only required keys;
    then one person value at a time.
    """
    yield from _fewer_bulk_entries(case)
    yield from _fewer_parameters(case)
    yield from _shorter_bodies(case)
    persons = case.person_documents()
    required = set(definition("person").get("required", []))
    for index, person in enumerate(persons):
        if set(person) - required:
            yield from _valid_variant(case, index, lambda p: {k: v for k, v in p.items() if k in required})
    for index, person in enumerate(persons):
        for path in list(_paths(person)):
            for change in _changes(_get(person, path)):
                yield from _valid_variant(
                    case, index, lambda p, path=path, change=change: _apply(p, path, change)
                )


def _fewer_bulk_entries(case: Case) -> Iterator[Case]:
    """Drop one person from a bulk request and the answer's match in the same position."""
    details = case.request.get("details")
    if not isinstance(details, list) or len(details) < 2:
        return
    for index in reversed(range(len(details))):
        variant = _copy_case(case)
        del variant.request["details"][index]
        for response in variant.responses:
            document = response.document
            if isinstance(document, dict) and isinstance(document.get("matches"), list):
                if len(document["matches"]) != len(details):
                    break
                del document["matches"][index]
                _recount(document)
        else:
            if _valid(variant):
                yield variant


def _recount(body: dict[str, Any]) -> None:
    """Keep a bulk answer's counters true to its matches."""
    matches = body["matches"]
    hits = sum(1 for m in matches if m is not None)
    if "total_requested_enrichments" in body:
        body["total_requested_enrichments"] = len(matches)
    if "unique_enriched_records" in body:
        body["unique_enriched_records"] = min(body["unique_enriched_records"], hits)
    if "missing_records" in body:
        body["missing_records"] = len(matches) - hits


def _fewer_parameters(case: Case) -> Iterator[Case]:
    """Drop one asked-for parameter (one always stays)."""
    params = case.request.get("params")
    if not isinstance(params, dict) or len(params) < 2:
        return
    for key in list(params):
        variant = _copy_case(case)
        del variant.request["params"][key]
        yield variant


def _shorter_bodies(case: Case) -> Iterator[Case]:
    """Cut a broken (text) body to half its length."""
    for index, response in enumerate(case.responses):
        if response.text is not None and len(response.text) > 1 and response.schema is None:
            variant = _copy_case(case)
            text = response.text[: len(response.text) // 2]
            variant.responses[index] = dataclasses.replace(variant.responses[index], text=text)
            yield variant


def _fields_in_question(failure: Failure) -> list[str]:
    """The person fields a failure names (a crash on a key, a problem with a field), with their values.

    The report shows them even when the answer's excerpt is cut.
    """
    obs = failure.observation
    text = " ".join([obs.crash or "", *failure.problems])
    names = set(re.findall(r"['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]", text))
    names |= set(re.findall(r"(?:person|\])\.([A-Za-z_][A-Za-z0-9_]*)", text))
    lines = []
    documented = definition("person")["properties"]
    for number, person in enumerate(failure.case.person_documents()[:3]):
        where = "person" if len(failure.case.person_documents()) == 1 else f"person {number + 1}"
        for name in sorted(n for n in names if n in documented and n != "id"):
            value = json.dumps(person[name], ensure_ascii=False) if name in person else "absent"
            lines.append(f"{where}.{name} = {value if len(value) <= 200 else value[:197] + '...'}")
    return lines


def _valid_variant(case: Case, index: int, edit: Any) -> Iterator[Case]:
    variant = _copy_case(case)
    target = variant.person_documents()[index]
    replacement = edit(copy.deepcopy(target))
    if replacement == target:
        return
    target.clear()
    target.update(replacement)
    if _valid(variant):
        yield variant


def _copy_case(case: Case) -> Case:
    responses = [dataclasses.replace(r, document=copy.deepcopy(r.document)) for r in case.responses]
    return Case(case.operation, copy.deepcopy(case.request), responses, case.deliveries)


_DELETE = object()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every value inside `node`, parents before children, `id` last."""
    if isinstance(node, dict):
        for key in sorted(node, key=lambda k: k == "id"):
            yield (*prefix, key)
            yield from _paths(node[key], (*prefix, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths(item, (*prefix, index))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


def _changes(value: Any) -> list[Any]:
    """Simpler replacements for one value, simplest first."""
    options: list[Any] = [_DELETE]
    if value is not None:
        options.append(None)
    if isinstance(value, list) and value:
        options.append([])
    if isinstance(value, dict) and value:
        options.append({})
    if isinstance(value, str) and value:
        options += ["", value[:20]] if len(value) > 20 else [""]
    return options


def _apply(person: dict[str, Any], path: tuple[Any, ...], change: Any) -> dict[str, Any]:
    parent = _get(person, path[:-1])
    last = path[-1]
    if change is _DELETE:
        if isinstance(parent, dict):
            del parent[last]
        else:
            del parent[last]
    else:
        parent[last] = change
    return person


def run_contract(
    driver: Driver,
    *,
    server: ContractServer | None = None,
    **options: Any,
) -> Report:
    """Run the contract against `driver`, on `server` or on a fresh emulator of its own.

    `options` are `ContractRunner`'s: examples, seed, properties, fail_fast, progress.
    """
    if server is not None:
        return ContractRunner(driver, server, **options).run()
    with ContractServer.start() as own:
        return ContractRunner(driver, own, **options).run()


def check_adapter(adapter: ClientAdapter, **options: Any) -> Report:
    """Run the contract against a Python adapter in-process."""
    timeout = float(options.pop("timeout", DEFAULT_TIMEOUT))
    return run_contract(AdapterDriver(adapter, timeout), **options)


def check_command(command: str, **options: Any) -> Report:
    """Run the contract against a command speaking the check-client protocol."""
    timeout = float(options.pop("timeout", DEFAULT_TIMEOUT))
    return run_contract(CommandDriver(command, timeout), **options)


__all__ = [
    "AdapterDriver",
    "CommandDriver",
    "ContractRunner",
    "ContractServer",
    "Failure",
    "PropertyResult",
    "Report",
    "Target",
    "check_adapter",
    "check_command",
    "draw",
    "run_contract",
]
