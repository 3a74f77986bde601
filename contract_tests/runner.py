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

import contextlib
import json
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from contract_tests import strategies as gen
from contract_tests.adapter import ClientAdapter
from contract_tests.agreement import as_number
from contract_tests.cases import Case, Observation, Property
from contract_tests.checks import LONG_RETRY_AFTER, MAX_RETRIES
from contract_tests.contract import PROPERTIES, property_named
from contract_tests.defaults import DEFAULT_EXAMPLES
from contract_tests.drawing import CaseFeed
from contract_tests.drivers import (
    DEFAULT_TIMEOUT,
    AdapterDriver,
    CommandDriver,
    Driver,
    LinesDriver,
    Reply,
    Target,
    client_time_zone,
)
from contract_tests.priming import DEFAULT_BUDGET, ControlClient, prime
from contract_tests.report import Failure, PropertyResult, Report
from contract_tests.shrinking import simpler

if TYPE_CHECKING:
    from flask import Flask

    from mock_server.web.live import LiveServer

#: The seed cases are drawn from when none is given.
DEFAULT_SEED = 0
#: Back-off a client may take over the retries of one call (seconds), within its run budget.
BACKOFF_ALLOWANCE = 10.0
#: The pre-flight job: Apollo's documented example person, answered by the emulator itself.
PREFLIGHT: dict[str, Any] = {"operation": "people_match", "params": {"email": "tim@apollo.io"}}
#: Shrinking stops after this many client runs or seconds, whichever comes first.
SHRINK_RUNS = 40
SHRINK_SECONDS = 10.0
#: How long a thread may keep Python's interpreter lock while another waits for it, during a run:
#: the next case is drawn (CPU work) while the emulator in this process serves the client, and at
#: Python's default of 5 ms each request the client sends waits about 10 ms more for the lock.
SWITCH_INTERVAL = 0.0002


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
        from mock_server.web.app import create_app
        from mock_server.web.live import start_live_server

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
        seed: int = DEFAULT_SEED,
        properties: list[str] | None = None,
        shrink_runs: int = SHRINK_RUNS,
        shrink_seconds: float = SHRINK_SECONDS,
        fail_fast: bool = False,
        progress: Progress | None = None,
        preflight: bool = False,
        feed: CaseFeed | None = None,
    ) -> None:
        self.driver = driver
        self.server = server
        self.examples = examples
        self.seed = seed
        self.plan = case_plan(properties, examples)
        self.properties = [prop for prop, _ in self.plan]
        self.shrink_runs = shrink_runs
        self.shrink_seconds = shrink_seconds
        self.fail_fast = fail_fast
        self.progress = progress
        self.preflight_first = preflight
        self._nonce = secrets.token_hex(3)
        self._counter = 0
        #: Where the cases come from, drawn ahead while the client runs (set for the run's length);
        #: `feed`, when given, has been drawing this runner's plan (for `seed`) already.
        self._feed: CaseFeed | None = None
        self._given_feed = feed

    def run(self) -> Report:
        """Every selected property, in order (stopping at the first failure with `fail_fast`).

        In-process clients run with the process's time zone set to `CLIENT_TIME_ZONE`. Threads take
        turns at the interpreter lock every `SWITCH_INTERVAL` seconds meanwhile.
        """
        with quick_thread_switches():
            if isinstance(self.driver, AdapterDriver):
                with client_time_zone():
                    return self._run()
            return self._run()

    def _run(self) -> Report:
        # The first case is drawn while the pre-flight runs the client (or was since the emulator started).
        self._feed = self._given_feed or CaseFeed(self.plan, self.seed)
        try:
            if self.preflight_first:
                self.preflight()
            started = time.monotonic()
            report = Report(self.driver.label, self.seed, self.examples)
            for index, prop in enumerate(self.properties):
                result = self.run_property(prop, index)
                report.results.append(result)
                if self.progress is not None:
                    self.progress(result)
                if self.fail_fast and result.status == "failed":
                    break
        finally:
            self._feed.close()
            self._feed = None
        self.server.control.settle()  # the run leaves no scenario or key of its own behind
        report.seconds = time.monotonic() - started
        return report

    def run_property(self, prop: Property, index: int = 0) -> PropertyResult:
        """Draw the property's cases, run them until one fails, shrink that one.

        Within a run, `index` is the property's place in the run's plan, whose feed draws its cases
        ahead; outside one, the property's cases are drawn on their own.
        """
        started = time.monotonic()
        result = PropertyResult(prop, "passed")
        own = self._feed is None
        if own:
            self._feed, index = CaseFeed([(prop, case_count(prop, self.examples))], self.seed), 0
        assert self._feed is not None
        feed, cases = self._feed, self._feed.cases(index)
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
                cases.close()  # the property's other cases are not needed: none is drawn while shrinking
                result.failure = self._shrink(prop, case, Failure(case, obs, problems), result)
                break
        cases.close()
        if own:
            feed.close()
            self._feed = None
        result.seconds = time.monotonic() - started
        return result

    def _client_started(self) -> None:
        """The next case may be drawn now: the client is running the one before."""
        if self._feed is not None:
            self._feed.client_started()

    def preflight(self) -> None:
        """Run the client once on a trivial job; ClientDidNotRun when it cannot start, fails or is silent."""
        self._counter += 1
        target = Target(self.server.url, _case_key(self._nonce, self._counter))
        self.server.control.add_key(target.api_key, f"contract-{self._nonce}")
        reply = self.driver.call(PREFLIGHT, target, threading.Event(), self.driver.timeout)
        self.server.control.remove_key(target.api_key)
        if reply.outcome is None:
            job: dict[str, Any] = PREFLIGHT
            if isinstance(self.driver, LinesDriver):  # its stdin takes lines of request and target
                job = {"request": PREFLIGHT, "env": Target(target.base_url, "...").environment()}
            raise ClientDidNotRun(self.driver.label, reply, job)

    def run_case(self, case: Case) -> Observation:
        """Prime the emulator with the case's answers, run the client once, collect what it sent."""
        self._counter += 1
        target = Target(self.server.url, _case_key(self._nonce, self._counter))
        limit = self.driver.timeout + allowance(case)
        if case.deliveries is not None:
            return self._webhook_case(case, target, limit)
        wake = threading.Event()
        served = [response.at(time.time()) for response in case.responses]
        variants = [(params, [r.at(time.time()) for r in answers]) for params, answers in case.variants]
        team = f"contract-{self._nonce}"
        control = self.server.control
        budget = case.budget or DEFAULT_BUDGET
        primed = prime(
            control, target.api_key, team, served, budget=budget, variants=variants, routes=case.routes
        )
        primed.watch(wake.set)
        self._client_started()
        try:
            reply = self.driver.call(case.request, target, wake, limit)
        finally:
            exchanges = primed.finish(expect_held=any(r.fault == "hang" for r in served))
        runaway = primed.runaway.is_set() or reply.stopped == "runaway"
        return Observation(
            reply.outcome,
            exchanges,
            None if runaway else reply.crash,
            reply.output,
            runaway,
            reply.seconds,
            target.api_key,
            [exchange.answer for exchange in exchanges],
            limit,
            stopped_at_limit=reply.stopped == "budget" and not runaway,
            ended=reply.ended,
        )

    def _webhook_case(self, case: Case, target: Target, limit: float) -> Observation:
        """Feed the payloads once each, as delivered (and without one person, when the case says so)."""
        assert case.deliveries is not None
        runs = [case.deliveries.unique, case.deliveries.delivered]
        if case.deliveries.lesser is not None:
            runs.append(case.deliveries.lesser)
        self._client_started()
        replies = [
            self.driver.call(
                {"operation": "receive_webhooks", "payloads": payloads}, target, threading.Event(), limit
            )
            for payloads in runs
        ]
        return _webhook_observation(replies, target.api_key, limit)

    def _shrink(self, prop: Property, case: Case, failure: Failure, result: PropertyResult) -> Failure:
        """Greedily simplify the failing case (bulk entries, parameters, bodies, persons) while it fails."""
        deadline = time.monotonic() + self.shrink_seconds
        runs = 0
        best = failure
        tried: set[str] = set()
        improved = True
        while improved and runs < self.shrink_runs and time.monotonic() < deadline:
            improved = False
            for candidate in simpler(best.case):
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


@contextlib.contextmanager
def quick_thread_switches(seconds: float = SWITCH_INTERVAL) -> Iterator[None]:
    """Run the block with Python's thread switch interval at most `seconds`, then restore it."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, seconds))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _case_key(nonce: str, counter: int) -> str:
    """A fresh API key for one case, random at both ends.

    The journal masks keys down to their first and last four characters, and its filter compares
    those masks: keys that differed only in the middle would share a journal.
    """
    ends = secrets.token_hex(4)
    return f"{ends[:4]}-contract-{nonce}-{counter}-{ends[4:]}"


def _webhook_observation(replies: list[Reply], api_key: str, limit: float) -> Observation:
    seconds = sum(reply.seconds for reply in replies)
    for reply in replies:
        stopped = reply.stopped == "budget"
        if reply.crash is not None or reply.outcome is None:
            return Observation(
                reply.outcome, [], reply.crash, reply.output, False, seconds, api_key, [], limit, stopped
            )
        if reply.outcome.get("outcome") != "webhook":
            return Observation(reply.outcome, [], None, reply.output, False, seconds, api_key, [], limit)
    states = [reply.outcome.get("state") if reply.outcome else None for reply in replies]
    outcome = {"outcome": "webhook", "state_once": states[0], "state": states[1]}
    if len(states) > 2:
        outcome["state_lesser"] = states[2]
    return Observation(outcome, [], None, replies[1].output, False, seconds, api_key, [], limit)


def allowance(case: Case) -> float:
    """Seconds a client may spend waiting on what `case` serves, on top of `--timeout`.

    A hung connection: its hold (the longest read timeout and a margin); a slow answer: its delay
    for every attempt; a 429: its `Retry-After` (under a minute) for every retry; any answer worth
    retrying (5xx, 429, a broken body, a reset, a hang): `BACKOFF_ALLOWANCE` of back-off.
    """
    seconds = 0.0
    retryable = False
    for response in case.responses:
        if response.fault == "hang":
            seconds += response.delay + 2
        elif response.fault == "slow":
            seconds += response.delay * (MAX_RETRIES + 1)
        if response.status == 429:
            value = response.headers.get("Retry-After")
            wait = (
                gen.RETRY_AFTER_DATE_SECONDS + 1
                if response.retry_after_date is not None
                else as_number(value)
            )
            if wait is not None and wait < LONG_RETRY_AFTER:
                seconds += wait * MAX_RETRIES
        broken = response.status == 200 and response.text is not None
        retryable = retryable or response.status >= 500 or response.status == 429 or broken
        retryable = retryable or response.fault in ("hang", "reset")
    return seconds + (BACKOFF_ALLOWANCE if retryable else 0.0)


class ClientDidNotRun(Exception):
    """The pre-flight run failed: the command cannot start, exits non-zero, or prints nothing."""

    def __init__(self, label: str, reply: Reply, job: dict[str, Any] = PREFLIGHT) -> None:
        self.reply = reply
        lines = [f"the client command did not run: {label!r} {reply.crash or 'gave no outcome'}"]
        stdout = [line for line in reply.output.splitlines() if line.startswith("stdout: ")]
        if stdout:
            lines += ["what it printed on stdout:", *(f"  {line[8:]}" for line in stdout[-6:])]
        lines.append(
            f"(stopped before generating any case; try it by hand: echo '{json.dumps(job)}' | {label})"
        )
        super().__init__("\n".join(lines))


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
    from mock_server.web.app import create_app

    with quick_thread_switches():
        plan = case_plan(options.get("properties"), options.get("examples", DEFAULT_EXAMPLES))
        # The app first: building it parses Python with `ast` (werkzeug's routes), as drawing does
        # (Hypothesis's constants), and CPython 3.11 fails when two threads do that at once.
        app = create_app()
        # The first case is drawn while the server starts.
        feed = CaseFeed(plan, options.get("seed", DEFAULT_SEED))
        try:
            with ContractServer.start(app) as own:
                return ContractRunner(driver, own, feed=feed, **options).run()
        finally:
            feed.close()


def case_plan(properties: list[str] | None, examples: int) -> list[tuple[Property, int]]:
    """The properties to run (all when None), each with how many cases it draws."""
    chosen = [property_named(n) for n in properties] if properties else list(PROPERTIES)
    return [(prop, case_count(prop, examples)) for prop in chosen]


def case_count(prop: Property, examples: int) -> int:
    """How many cases `prop` draws when asked for `examples` (its own cap may be lower)."""
    return max(1, min(examples, prop.max_examples or examples))


def check_adapter(adapter: ClientAdapter, **options: Any) -> Report:
    """Run the contract against a Python adapter in-process."""
    timeout = float(options.pop("timeout", DEFAULT_TIMEOUT))
    return run_contract(AdapterDriver(adapter, timeout), **options)


def check_command(command: str, **options: Any) -> Report:
    """Run the contract against a command speaking the check-client protocol."""
    timeout = float(options.pop("timeout", DEFAULT_TIMEOUT))
    return run_contract(CommandDriver(command, timeout), **options)


__all__ = [
    "DEFAULT_EXAMPLES",
    "DEFAULT_SEED",
    "ClientDidNotRun",
    "allowance",
    "ContractRunner",
    "ContractServer",
    "check_adapter",
    "check_command",
    "run_contract",
]
