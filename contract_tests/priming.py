"""Priming over the control API: each case's answers queued as scenarios, its exchanges read back.

For each contract case the runner registers a fresh API key and queues, for that key only, its
answers in order (the last repeating): `respond` scenarios with the case's exact answers, and the
transport faults the case is about as their own scenarios, one request each: `slow` (the
emulator's own answer, late), `timeout` (a connection held until the client gives up on it) and
`connection_reset`. A case may also hold answers for a variant request (a bulk request asking an
identical detail once), queued first and matched on its parameters. What the client sent is read
back from the journal
(`GET /__admin/requests?api_key=...`), whose only writer is the server. Nothing here reaches into
the emulator's process, so the same code drives an emulator that is already running elsewhere.

A client that never stops (say, it retries a 401 forever) is cut off: past `budget` requests the
case is marked runaway, and later requests with its key are held open (a `timeout` scenario) so a
stuck client sleeps on its socket instead of spinning.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contract_tests.control_http import ControlConnection, ControlUnreachable
from contract_tests.strategies import CannedResponse
from mock_server.domain.encoding import dumps, loads
from mock_server.domain.params import merge

#: More requests than this in one case is a runaway client: no contract allows it.
DEFAULT_BUDGET = 5
#: How often a running case's journal is read to catch a runaway client early.
WATCH_SECONDS = 0.2
#: The longest hold the control API allows (the `timeout` outcome's `seconds`).
LONGEST_HOLD = 120
#: Seconds to wait for a held request's journal entry after the client's run.
HELD_ENTRY_WAIT = 1.0
#: The fault a journal entry's scenario stands for.
FAULTS = {"timeout": "hang", "connection_reset": "reset", "slow": "slow"}


@dataclass
class Exchange:
    """One request a client sent during a case, and what it was answered (from the journal)."""

    arrived: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    body: Any
    status: int
    #: Wall-clock arrival (epoch seconds), to compare with HTTP dates in `Retry-After`.
    wall: float = 0.0
    #: What the emulator answered, as it sent it (a fault: `hang`, `reset` or `slow`).
    answer: CannedResponse = field(default_factory=CannedResponse)
    #: Seconds from arrival to the answer (or to the client leaving a held connection).
    seconds: float = 0.0

    @property
    def params(self) -> dict[str, Any]:
        """Query string and body merged, the body winning, as the emulator reads them."""
        return merge(self.query, self.body if isinstance(self.body, dict) else {}, body_wins=True)

    def header(self, name: str) -> str | None:
        """A request header, whatever its letter case."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def describe(self) -> str:
        """`POST /api/v1/people/match?...` and its body, for reports."""
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        body = self.raw_body.decode("utf-8", "replace")
        if len(body) > 300:
            body = body[:297] + "..."
        return f"{self.method} {self.path}{'?' + query if query else ''} {body}".rstrip()

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> Exchange:
        """An exchange from one journal entry (`GET /__admin/requests`)."""
        moment = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00")).timestamp()
        query = {str(k): v for k, v in (entry.get("query") or {}).items()}
        params = entry.get("body")
        # The journal keeps the parameters as the emulator read them (query and body merged).
        body = (
            {k: v for k, v in params.items() if k not in query or query[k] != v}
            if isinstance(params, dict)
            else {}
        )
        response = entry.get("response") or {}
        content_type = str(response.get("content_type") or "application/json")
        answered = response.get("body")
        is_json = content_type.startswith("application/json") and not isinstance(answered, str)
        seconds = float(entry.get("duration_ms") or 0) / 1000
        answer = CannedResponse(
            int(response.get("status") or 0),
            document=answered if is_json else None,
            text=None if is_json else str(answered if answered is not None else ""),
            content_type=content_type,
            headers=dict(response.get("headers") or {}),
            fault=FAULTS.get(str(entry.get("scenario"))),
            delay=seconds,
        )
        return cls(
            arrived=moment,
            method=str(entry.get("method", "")),
            path=str(entry.get("path", "")),
            query=query,
            headers=dict(entry.get("headers") or {}),
            raw_body=json.dumps(body, ensure_ascii=False).encode() if body else b"",
            body=body,
            status=answer.status,
            wall=moment,
            answer=answer,
            seconds=seconds,
        )


class ControlClient:
    """The emulator's control API, as the contract runner uses it."""

    def __init__(self, url: str, admin_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self._token_given = bool(admin_token)
        self._http = ControlConnection(self.url + "/__admin", headers)
        self._lock = threading.Lock()
        self._chores: queue.Queue[tuple[str, dict[str, str]]] = queue.Queue()
        self._sweeper: threading.Thread | None = None
        #: False once the emulator refused a key with its scenarios (an older fakeapollo at --base-url):
        #: keys and scenarios then go one call each.
        self._keys_take_scenarios = True

    def call(self, method: str, path: str, document: Any = None, **params: Any) -> Any:
        """One control API call; its JSON answer, or RuntimeError naming what the emulator said."""
        body = None if document is None else dumps(document)
        with self._lock:
            status, answer = self._http.request(method, path, body, {k: str(v) for k, v in params.items()})
        if status >= 400:
            raise RuntimeError(
                f"the emulator's control API answered {status} to {method} /__admin{path}: "
                f"{answer.decode('utf-8', 'replace')[:300]}"
            )
        if not answer:
            return None
        try:
            return loads(answer)
        except ValueError:  # what orjson refuses (integers beyond 64 bits) the standard library reads
            return json.loads(answer)

    def check(self) -> None:
        """Fail early, with a clear message, when there is no fakeapollo control API at `url`."""
        try:
            self.call("GET", "/scenarios")
        except (RuntimeError, ValueError) as exc:
            if " answered 401 " in str(exc):
                hint = (
                    "the --admin-token given was refused"
                    if self._token_given
                    else "it needs the token the emulator was started with: pass --admin-token TOKEN"
                )
                raise RuntimeError(f"the control API at {self.url}/__admin answered 401: {hint}") from exc
            raise RuntimeError(f"no fakeapollo control API at {self.url}/__admin: {exc}") from exc

    def add_key(self, key: str, team: str, scenarios: list[dict[str, Any]] | None = None) -> list[str]:
        """Register an unlimited key for one case, and queue `scenarios` for it; their ids.

        One call where the emulator takes a key with its scenarios; one call each otherwise.
        """
        limits = {"minute": None, "hour": None, "day": None}
        entry: dict[str, Any] = {
            "key": key,
            "team": team,
            "plan": "custom",
            "credits": None,
            "limits": limits,
            "scopes": None,
        }
        if scenarios and self._keys_take_scenarios:
            try:
                added = self.call("POST", "/keys", {**entry, "scenarios": scenarios})
                return [str(scenario_id) for scenario_id in added["scenarios"]]
            except RuntimeError as exc:
                if " answered 400 " not in str(exc):
                    raise
                self._keys_take_scenarios = False  # an older emulator; a bad scenario fails again below
        self.call("POST", "/keys", entry)
        return [self.queue(document) for document in scenarios or []]

    def queue(self, document: dict[str, Any]) -> str:
        """Queue a scenario; its id."""
        return str(self.call("POST", "/scenarios", document)["id"])

    def remove(self, scenario_id: str) -> None:
        """Delete a scenario soon (gone already is fine)."""
        self._soon(f"/scenarios/{scenario_id}")

    def remove_key(self, key: str, scenario_ids: list[str] | None = None) -> None:
        """Delete a case's key soon, and its scenarios `scenario_ids` (gone already is fine).

        The registry is one document saved whole on every change: keys left behind would make each
        later case's `add_key` slower.
        """
        if scenario_ids and self._keys_take_scenarios:
            self._soon(f"/keys/{key}", scenarios="true")
            return
        for scenario_id in scenario_ids or []:
            self.remove(scenario_id)
        self._soon(f"/keys/{key}")

    def _soon(self, path: str, **params: str) -> None:
        """DELETE `path` on a background thread, while the next case's client runs."""
        if self._sweeper is None:
            self._sweeper = threading.Thread(target=self._sweep, name="contract-cleanup", daemon=True)
            self._sweeper.start()
        self._chores.put((path, params))

    def _sweep(self) -> None:
        while True:
            path, params = self._chores.get()
            try:
                with self._lock:
                    self._http.request("DELETE", path, params=params)
            except ControlUnreachable:
                pass  # the emulator went away: nothing left to clean
            finally:
                self._chores.task_done()

    def settle(self) -> None:
        """Wait until every deletion asked for has been sent."""
        self._chores.join()

    def exchanges(self, key: str) -> list[Exchange]:
        """What the client with `key` sent, oldest first."""
        entries = self.call("GET", "/requests", api_key=key)["requests"]
        return sorted((Exchange.from_entry(e) for e in entries), key=lambda e: e.arrived)

    def close(self) -> None:
        """Send the deletions still pending, then close the HTTP client."""
        self.settle()
        self._http.close()


def scenario_answer(response: CannedResponse) -> dict[str, Any]:
    """One `respond` answer: status, headers (Content-Type included) and the body as sent."""
    headers = {"Content-Type": response.content_type, **response.headers}
    body: Any = response.text if response.text is not None else response.document
    if response.text is None and isinstance(response.document, str):
        body = json.dumps(response.document)  # a JSON string document: send it encoded
    return {"status": response.status, "headers": headers, "body": body}


def _served_as(response: CannedResponse) -> dict[str, Any]:
    """The scenario fields that serve `response`: a fault's outcome, or `respond` with it."""
    if response.fault == "slow":
        return {"outcome": "slow", "params": {"delay_ms": round(response.delay * 1000)}}
    if response.fault == "hang":
        return {"outcome": "timeout", "params": {"seconds": round(min(response.delay, LONGEST_HOLD))}}
    if response.fault == "reset":
        return {"outcome": "connection_reset"}
    return {"outcome": "respond", "responses": [scenario_answer(response)]}


def scenarios_for(
    key: str,
    responses: list[CannedResponse],
    budget: int,
    params: dict[str, Any] | None = None,
    path: str | None = None,
) -> list[dict[str, Any]]:
    """The scenarios that serve `responses` in order to the client with `key`, the last repeating.

    Answers without a fault go together in one `respond` scenario; each fault is a scenario for
    one request. With `params`, only requests carrying those parameters are served; with `path`,
    only requests to that route.
    """
    match: dict[str, Any] = {"api_key": key, **({"params": params} if params else {})}
    if path is not None:
        match["path"] = path
    documents: list[dict[str, Any]] = []
    plain: list[CannedResponse] = []

    def flush(last: bool) -> None:
        if plain:
            answers = [scenario_answer(r) for r in plain]
            times = budget if last else len(plain)
            documents.append({"match": match, "outcome": "respond", "responses": answers, "times": times})
            plain.clear()

    for index, response in enumerate(responses):
        last = index == len(responses) - 1
        if response.fault is None:
            plain.append(response)
            continue
        flush(False)
        documents.append({"match": match, **_served_as(response), "times": budget if last else 1})
    flush(True)
    return documents


@dataclass
class Primed:
    """One case as queued: its key, scenario ids and a watcher for runaway clients."""

    control: ControlClient
    key: str
    scenario_ids: list[str]
    budget: int
    runaway: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def watch(self, on_runaway: Any) -> None:
        """Read the journal now and then while the client runs; past the budget, call `on_runaway`."""

        def loop() -> None:
            while not self.done.wait(WATCH_SECONDS):
                try:
                    count = len(self.control.call("GET", "/requests", api_key=self.key)["requests"])
                    if count >= self.budget:
                        self._hold()
                except RuntimeError:
                    return
                if self.runaway.is_set():
                    on_runaway()
                    return

        threading.Thread(target=loop, name="contract-watch", daemon=True).start()

    def _hold(self) -> None:
        """From now on, hold the runaway client's requests open instead of answering them."""
        if not self.runaway.is_set():
            self.runaway.set()
            hold = {"match": {"api_key": self.key}, "outcome": "timeout", "params": {"seconds": LONGEST_HOLD}}
            self.control.queue(hold)

    def finish(self, expect_held: bool = False) -> list[Exchange]:
        """End the case: its exchanges; its scenarios and key go (a runaway's key and hold stay).

        With `expect_held`, a held request the journal does not show yet (its entry is written when
        the client leaves it) is waited for, briefly.
        """
        self.done.set()
        exchanges = self.control.exchanges(self.key)
        deadline = time.monotonic() + HELD_ENTRY_WAIT
        while expect_held and exchanges and time.monotonic() < deadline:
            if any(e.answer.fault == "hang" for e in exchanges):
                break
            time.sleep(0.02)
            exchanges = self.control.exchanges(self.key)
        if len(exchanges) >= self.budget:
            self._hold()
        if self.runaway.is_set():  # a runaway's key stays, so its hold keeps it waiting
            for scenario_id in self.scenario_ids:
                self.control.remove(scenario_id)
        else:
            self.control.remove_key(self.key, self.scenario_ids)
        return exchanges


def prime(
    control: ControlClient,
    key: str,
    team: str,
    responses: list[CannedResponse],
    *,
    budget: int,
    variants: list[tuple[dict[str, Any], list[CannedResponse]]] | None = None,
    routes: list[tuple[dict[str, Any], list[CannedResponse]]] | None = None,
) -> Primed:
    """Register `key` and queue the case's scenarios for it (answers to `variants` and `routes` first).

    A route is a scenario's `match` (`path`, `params`); requests no scenario serves get the
    emulator's own answers.
    """
    if not responses and not routes:
        raise ValueError("prime at least one response")
    documents = [
        doc for params, answers in variants or [] for doc in scenarios_for(key, answers, budget, params)
    ]
    documents += [
        doc
        for where, answers in routes or []
        for doc in scenarios_for(key, answers, budget, where.get("params"), where["path"])
    ]
    documents += scenarios_for(key, responses, budget)
    return Primed(control, key, control.add_key(key, team, documents), budget)


__all__ = [
    "DEFAULT_BUDGET",
    "ControlClient",
    "Exchange",
    "Primed",
    "prime",
    "scenario_answer",
    "scenarios_for",
]
