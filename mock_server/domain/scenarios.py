"""Forced outcomes: chosen per request by header or queued by the control API, and matched here."""

from __future__ import annotations

import functools
import itertools
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mock_server.domain import data
from mock_server.domain.encoding import dumps
from mock_server.domain.errors import InvalidControlRequest


class OutcomeName(StrEnum):
    """Every forced outcome a request can be given, by header or by a queued scenario."""

    # What the emulator finds.
    MATCH = "match"
    NO_MATCH = "no_match"
    PARTIAL = "partial"
    STUB_NO_MATCH = "stub_no_match"
    # One of Apollo's errors or a gateway's instead of the answer.
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    INVALID_REQUEST = "invalid_request"
    SERVER_ERROR = "server_error"
    BAD_GATEWAY = "bad_gateway"
    SERVICE_UNAVAILABLE = "service_unavailable"
    # Misbehaviour at the transport level.
    SLOW = "slow"
    TIMEOUT = "timeout"
    MALFORMED_JSON = "malformed_json"
    CONNECTION_RESET = "connection_reset"
    # The answer left alone, its webhook bent: sent twice, lost, or very late.
    WEBHOOK_DUPLICATE = "webhook_duplicate"
    WEBHOOK_NEVER = "webhook_never"
    WEBHOOK_LATE = "webhook_late"
    # Exactly the answers a queued scenario lists, in order (queued scenarios only).
    RESPOND = "respond"


DATA_OUTCOMES = frozenset(
    {OutcomeName.MATCH, OutcomeName.NO_MATCH, OutcomeName.PARTIAL, OutcomeName.STUB_NO_MATCH}
)
ERROR_OUTCOMES = frozenset(
    {
        OutcomeName.UNAUTHORIZED,
        OutcomeName.FORBIDDEN,
        OutcomeName.RATE_LIMITED,
        OutcomeName.INVALID_REQUEST,
        OutcomeName.SERVER_ERROR,
        OutcomeName.BAD_GATEWAY,
        OutcomeName.SERVICE_UNAVAILABLE,
    }
)
TRANSPORT_OUTCOMES = frozenset(
    {OutcomeName.SLOW, OutcomeName.TIMEOUT, OutcomeName.MALFORMED_JSON, OutcomeName.CONNECTION_RESET}
)
WEBHOOK_OUTCOMES = frozenset(
    {OutcomeName.WEBHOOK_DUPLICATE, OutcomeName.WEBHOOK_NEVER, OutcomeName.WEBHOOK_LATE}
)
OUTCOMES = tuple(name.value for name in OutcomeName)
# Limits on a `respond` scenario's answers, checked when it is queued.
MAX_RESPONSES = 100
MAX_RESPONSE_HEADERS = 50
MAX_HEADER_NAME = 256
MAX_HEADER_VALUE = 8_192
MAX_RESPONSE_BODY = 1 << 20
# Characters of a scenario's `match.path` and `match.api_key` (a key's own bound: schemas/key_registry.json).
MAX_MATCH_TEXT = {"path": 2_048, "api_key": 200}
# Framing headers the server writes itself; a scripted answer may not set them.
SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
API_PREFIXES = ("/api/v1/", "/v1/", "api/v1/", "v1/")


@dataclass(frozen=True)
class NumberParameter:
    """An outcome parameter: a finite number from `low` to `high` (docs/control-api.md, Forcing outcomes)."""

    default: float
    low: float
    high: float
    unit: str

    def read(self, key: str, raw: Any) -> float:
        """The value of `raw` (a JSON number or a numeric string), or a 400 naming key and range."""
        value: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
        elif isinstance(raw, str) and len(raw) <= 64:
            try:
                value = float(raw)
            except ValueError:
                value = None
        if value is None or not math.isfinite(value) or not self.low <= value <= self.high:
            raise InvalidControlRequest(
                f"Scenario parameter '{key}' must be a number from {_whole(self.low)} to {_whole(self.high)} "
                f"({self.unit}), got {str(raw)[:64]!r}",
                field=key,
                minimum=self.low,
                maximum=self.high,
            )
        return value


def _whole(value: float) -> int | float:
    """A range end as written: 315360000, not 3.1536e+08."""
    return int(value) if float(value).is_integer() else value


# The parameters each outcome takes; any other parameter, or a value outside its range, is a 400.
OUTCOME_PARAMETERS: dict[OutcomeName, dict[str, NumberParameter]] = {
    OutcomeName.SLOW: {"delay_ms": NumberParameter(1_000, 0, 30_000, "milliseconds")},
    OutcomeName.TIMEOUT: {"seconds": NumberParameter(30, 0, 120, "seconds")},
    # The default (ten times the longest --webhook-delay, at least 30 s) is the webhook settings'.
    OutcomeName.WEBHOOK_LATE: {"delay_s": NumberParameter(30, 0, 10 * 365 * 86_400, "seconds")},
}
# The fields of a queued scenario and of its `match`.
SCENARIO_FIELDS = ("outcome", "params", "match", "times", "after", "responses")
MATCH_FIELDS = ("path", "api_key", "params")


@dataclass(frozen=True)
class Outcome:
    """One forced outcome and its parameters (`slow; delay_ms=300`), checked when it was made."""

    name: OutcomeName
    params: Mapping[str, float] = field(default_factory=dict)
    # For `respond`: the one scripted answer this request gets.
    response: ScriptedResponse | None = None

    def number(self, key: str, default: float | None = None) -> float:
        """A numeric parameter (checked against OUTCOME_PARAMETERS), else `default` or the table's."""
        parameter = OUTCOME_PARAMETERS[self.name][key]
        raw = self.params.get(key)
        if raw is None:
            return parameter.default if default is None else default
        return parameter.read(key, raw)


def check_outcome_params(name: OutcomeName, params: Mapping[str, Any]) -> dict[str, float]:
    """An outcome's parameters as numbers, or a 400 naming an unknown one or a value out of range."""
    allowed = OUTCOME_PARAMETERS.get(name, {})
    checked: dict[str, float] = {}
    for key, raw in params.items():
        parameter = allowed.get(key)
        if parameter is None:
            valid = ", ".join(allowed) if allowed else "none"
            raise InvalidControlRequest(
                f"The outcome '{name}' takes no parameter {str(key)[:64]!r} (valid: {valid})",
                field=key,
                valid_parameters=list(allowed),
            )
        checked[key] = _whole(parameter.read(key, raw))  # "300" and 300.0 are echoed as 300
    return checked


@functools.cache
def request_parameters() -> tuple[str, ...]:
    """Every parameter a request schema names: what a scenario's `match.params` may test."""
    names: set[str] = set()
    for schema in data.schema_names():
        if schema.endswith(".request"):
            names.update(data.load_schema(schema).get("properties", {}))
    return tuple(sorted(names))


def _known_fields(document: Mapping[str, Any], valid: tuple[str, ...], where: str) -> None:
    """A 400 naming the first key of `document` that is not one of `valid`."""
    unknown = [key for key in document if key not in valid]
    if unknown:
        name = f"{where}.{unknown[0]}" if where else unknown[0]
        raise InvalidControlRequest(
            f"Scenario field '{str(name)[:80]}' is unknown (valid: {', '.join(valid)})",
            field=name,
            valid_fields=list(valid),
        )


def check_outcome(name: Any) -> OutcomeName:
    """The outcome name, or a 400 listing the valid ones."""
    if not isinstance(name, str) or name not in OUTCOMES:
        raise InvalidControlRequest(f"Unknown scenario outcome {name!r}", valid_outcomes=list(OUTCOMES))
    return OutcomeName(name)


BODILESS_STATUSES = frozenset({204, 304})


@dataclass(frozen=True)
class ScriptedResponse:
    """One exact answer of a `respond` scenario: status, headers and the bytes of its body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    # What the control API was given, shown back by `describe` and kept by the SQLite store.
    document: Mapping[str, Any]

    @property
    def content_type(self) -> str:
        """The Content-Type header it was given, else JSON or plain text after its body."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        text = isinstance(self.document.get("body"), str)
        return "text/plain; charset=utf-8" if text else "application/json"

    @property
    def other_headers(self) -> dict[str, str]:
        """Its headers besides Content-Type."""
        return {name: value for name, value in self.headers if name.lower() != "content-type"}


def scripted_response(document: Any, where: str) -> ScriptedResponse:
    """One `responses[i]` entry, or a 400 naming the field at fault (`where` is its path)."""
    if not isinstance(document, dict):
        raise InvalidControlRequest(f"Scenario '{where}' must be an object with status, headers and body")
    unknown = sorted(set(document) - {"status", "headers", "body"})
    if unknown:
        raise InvalidControlRequest(
            f"Scenario '{where}.{unknown[0]}' is not a field; use status, headers, body"
        )
    status = document.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        # A 1xx is never a final answer (RFC 9110 15.2): a client would wait for another.
        raise InvalidControlRequest(f"Scenario '{where}.status' must be an integer from 200 to 599")
    headers = document.get("headers") or {}
    if not isinstance(headers, dict):
        raise InvalidControlRequest(
            f"Scenario '{where}.headers' must be an object of header names to strings"
        )
    if len(headers) > MAX_RESPONSE_HEADERS:
        raise InvalidControlRequest(
            f"Scenario '{where}.headers' may hold at most {MAX_RESPONSE_HEADERS} headers"
        )
    pairs = tuple(_header(name, value, f"{where}.headers") for name, value in headers.items())
    body = document.get("body")
    try:
        raw = body.encode("utf-8") if isinstance(body, str) else dumps(body)
    except (TypeError, ValueError) as exc:
        raise InvalidControlRequest(f"Scenario '{where}.body' cannot be encoded: {exc}") from exc
    if "body" not in document:
        raw = b""
    if raw and status in BODILESS_STATUSES:
        # RFC 9110 15.3.5, 15.4.5: these answers end at their headers; a body would be read as the
        # start of the next answer on the connection.
        raise InvalidControlRequest(
            f"Scenario '{where}.body' must be left out: a {status} answer has no body"
        )
    if len(raw) > MAX_RESPONSE_BODY:
        raise InvalidControlRequest(f"Scenario '{where}.body' is longer than {MAX_RESPONSE_BODY} bytes")
    return ScriptedResponse(status, pairs, raw, dict(document))


def _header(name: Any, value: Any, where: str) -> tuple[str, str]:
    """A header a scripted answer may send: a token name, a value without line breaks, both bounded."""
    if not isinstance(name, str) or not name or len(name) > MAX_HEADER_NAME or not set(name) <= _TOKEN:
        raise InvalidControlRequest(
            f"Scenario '{where}' has an invalid header name {str(name)[:80]!r}: "
            f"letters, digits and !#$%&'*+-.^_`|~ only, at most {MAX_HEADER_NAME} characters"
        )
    if name.lower() in SERVER_HEADERS:
        raise InvalidControlRequest(f"Scenario '{where}.{name}' is set by the server and cannot be scripted")
    if not isinstance(value, str) or len(value) > MAX_HEADER_VALUE:
        raise InvalidControlRequest(
            f"Scenario '{where}.{name}' must be a string of at most {MAX_HEADER_VALUE} characters"
        )
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
        raise InvalidControlRequest(
            f"Scenario '{where}.{name}' must not hold CR, LF or other control characters"
        )
    if not value.isascii():
        raise InvalidControlRequest(f"Scenario '{where}.{name}' must be ASCII")
    return name, value


def scripted_responses(document: Any) -> tuple[ScriptedResponse, ...]:
    """A `respond` scenario's `responses`: a non-empty list, each checked; a 400 otherwise."""
    if not isinstance(document, list) or not document:
        raise InvalidControlRequest("Scenario 'responses' must be a non-empty list for the outcome 'respond'")
    if len(document) > MAX_RESPONSES:
        raise InvalidControlRequest(f"Scenario 'responses' may hold at most {MAX_RESPONSES} answers")
    return tuple(scripted_response(item, f"responses[{i}]") for i, item in enumerate(document))


def parse_header(value: str) -> Outcome:
    """Parse `X-Mock-Scenario: <outcome>[; key=value ...]`."""
    name, *pairs = (part.strip() for part in value.split(";"))
    params: dict[str, str] = {}
    for pair in pairs:
        if not pair:
            continue
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidControlRequest(f"Scenario parameter {pair!r} must look like key=value")
        params[key.strip()] = raw.strip()
    outcome = check_outcome(name)
    if outcome is OutcomeName.RESPOND:
        raise InvalidControlRequest(
            "The outcome 'respond' needs its responses: queue it with POST /__admin/scenarios"
        )
    return Outcome(outcome, check_outcome_params(outcome, params))


def operation_of(path: str) -> str:
    """A route without its /api/v1 or /v1 prefix: `/v1/people/match` -> `people/match`."""
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :].strip("/")
    return path.strip("/")


def _same(expected: Any, actual: Any) -> bool:
    """Loose equality for matching parameters: case and surrounding spaces do not count.

    Objects and lists (bulk `details`) compare as JSON with their keys sorted: a client may send
    an object's keys in any order.
    """
    if isinstance(expected, dict | list) or isinstance(actual, dict | list):
        canonical = _canonical(expected)
        return canonical is not None and canonical == _canonical(actual)
    return str(expected).strip().lower() == str(actual).strip().lower()


def _canonical(value: Any) -> str | None:
    """A value as sorted JSON text; None (equal to nothing) for one nested past what the encoder reaches."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).strip().lower()
    except (RecursionError, ValueError):
        return None


@dataclass
class Scenario:
    """A queued outcome for requests that match, `times` times or until deleted."""

    id: str
    outcome: Outcome
    path: str | None = None
    api_key: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    times: int | None = None
    after: int = 0
    seen: int = 0
    used: int = 0
    # A `respond` scenario's answers, in order; the last repeats.
    responses: tuple[ScriptedResponse, ...] = ()

    def matches(self, path: str, api_key: str | None, params: Mapping[str, Any]) -> bool:
        """Whether a request to `path` by `api_key` with `params` is one this scenario is for."""
        if self.path is not None and operation_of(self.path) != operation_of(path):
            return False
        if self.api_key is not None and self.api_key != api_key:
            return False
        return all(k in params and _same(v, params[k]) for k, v in self.params.items())

    def use(self) -> bool:
        """Count one matching request; True when it gets the outcome (the first `after` do not)."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        self.used += 1
        return True

    def applied(self) -> Outcome:
        """The outcome the request just counted by `use` gets (for `respond`, its answer in turn)."""
        if not self.responses:
            return self.outcome
        answer = self.responses[min(self.used, len(self.responses)) - 1]
        return Outcome(self.outcome.name, self.outcome.params, answer)

    @property
    def used_up(self) -> bool:
        """Whether the scenario has applied its `times` and should go."""
        return self.times is not None and self.used >= self.times

    def describe(self, mask: Any) -> dict[str, Any]:
        """The scenario as the control API shows it, with its API key masked."""
        return {
            "id": self.id,
            "outcome": self.outcome.name,
            "params": dict(self.outcome.params),
            "match": {
                "path": self.path,
                "api_key": None if self.api_key is None else mask(self.api_key),
                "params": dict(self.params),
            },
            "times": self.times,
            "after": self.after,
            "used": self.used,
            **({"responses": [dict(r.document) for r in self.responses]} if self.responses else {}),
        }


def scenario_from_document(document: Any, scenario_id: str) -> Scenario:
    """A Scenario from the control API's JSON, or a 400 naming what is wrong."""
    if not isinstance(document, dict):
        raise InvalidControlRequest("A scenario must be a JSON object")
    _known_fields(document, SCENARIO_FIELDS, "")
    match = document.get("match") or {}
    if not isinstance(match, dict):
        raise InvalidControlRequest("Scenario 'match' must be an object")
    _known_fields(match, MATCH_FIELDS, "match")
    params = match.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidControlRequest("Scenario 'match.params' must be an object")
    _known_fields(params, request_parameters(), "match.params")
    for key, longest in MAX_MATCH_TEXT.items():
        value = match.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > longest):
            raise InvalidControlRequest(
                f"Scenario 'match.{key}' must be a string of at most {longest} characters"
            )
    times = document.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise InvalidControlRequest(
            "Scenario 'times' must be a positive integer, or omitted for 'until deleted'"
        )
    after = document.get("after", 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise InvalidControlRequest(
            "Scenario 'after' must be a whole number of matching requests to let through first"
        )
    outcome_params = document.get("params") or {}
    if not isinstance(outcome_params, dict):
        raise InvalidControlRequest("Scenario 'params' must be an object")
    name = check_outcome(document.get("outcome"))
    if name is OutcomeName.RESPOND:
        responses = scripted_responses(document.get("responses"))
    elif "responses" in document:
        raise InvalidControlRequest("Scenario 'responses' is only for the outcome 'respond'")
    else:
        responses = ()
    return Scenario(
        id=scenario_id,
        outcome=Outcome(name, check_outcome_params(name, outcome_params)),
        responses=responses,
        path=match.get("path"),
        api_key=match.get("api_key"),
        params=params,
        times=times,
        after=after,
    )


class ScenarioBook:
    """The queued scenarios of one emulator; the first that matches a request is used up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scenarios: list[Scenario] = []
        self._ids = itertools.count(1)

    def add(self, document: Any) -> Scenario:
        """Queue a scenario described by the control API's JSON."""
        with self._lock:
            scenario = scenario_from_document(document, f"scn_{next(self._ids)}")
            self._scenarios.append(scenario)
            return scenario

    def list(self) -> list[Scenario]:
        """Every queued scenario, oldest first."""
        with self._lock:
            return list(self._scenarios)

    def remove(self, scenario_id: str) -> bool:
        """Delete one scenario; False when there is none with that id."""
        with self._lock:
            before = len(self._scenarios)
            self._scenarios = [s for s in self._scenarios if s.id != scenario_id]
            return len(self._scenarios) != before

    def clear(self) -> None:
        """Delete every scenario."""
        with self._lock:
            self._scenarios.clear()
            self._ids = itertools.count(1)

    def take(self, path: str, api_key: str | None, params: Mapping[str, Any]) -> Outcome | None:
        """The outcome of the first scenario matching this request, using up one of its times."""
        if not self._scenarios:
            return None  # the common case, without the lock (one read of a list's length)
        with self._lock:
            for scenario in self._scenarios:
                if scenario.matches(path, api_key, params) and scenario.use():
                    if scenario.used_up:
                        self._scenarios.remove(scenario)
                    return scenario.applied()
        return None


def scenario_to_json(scenario: Scenario) -> str:
    """A scenario, its counts included, as the JSON a shared store keeps."""
    return json.dumps(
        {
            "id": scenario.id,
            "outcome": scenario.outcome.name,
            "outcome_params": dict(scenario.outcome.params),
            "path": scenario.path,
            "api_key": scenario.api_key,
            "params": dict(scenario.params),
            "times": scenario.times,
            "after": scenario.after,
            "seen": scenario.seen,
            "used": scenario.used,
            "responses": [dict(r.document) for r in scenario.responses],
        }
    )


def scenario_from_json(text: str | bytes) -> Scenario:
    """The scenario `scenario_to_json` wrote."""
    d = json.loads(text)
    return Scenario(
        id=d["id"],
        outcome=Outcome(OutcomeName(d["outcome"]), d["outcome_params"]),
        path=d["path"],
        api_key=d["api_key"],
        params=d["params"],
        times=d["times"],
        after=d["after"],
        seen=d["seen"],
        used=d["used"],
        responses=scripted_responses(d["responses"]) if d.get("responses") else (),
    )
