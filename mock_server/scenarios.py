"""Forced outcomes: chosen per request by header or queued by the control API, and matched here."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.errors import BadRequest

# Outcomes that change what the emulator finds.
DATA_OUTCOMES = ("match", "no_match", "partial")
# Outcomes that replace the answer with one of Apollo's errors or a gateway's.
ERROR_OUTCOMES = (
    "unauthorized",
    "forbidden",
    "rate_limited",
    "invalid_request",
    "server_error",
    "bad_gateway",
    "service_unavailable",
)
# Outcomes that misbehave at the transport level.
TRANSPORT_OUTCOMES = ("slow", "timeout", "malformed_json", "connection_reset")
# Outcomes that leave the answer alone and bend its webhook: sent twice, lost, or very late.
WEBHOOK_OUTCOMES = ("webhook_duplicate", "webhook_never", "webhook_late")
OUTCOMES = DATA_OUTCOMES + ERROR_OUTCOMES + TRANSPORT_OUTCOMES + WEBHOOK_OUTCOMES
API_PREFIXES = ("/api/v1/", "/v1/", "api/v1/", "v1/")


@dataclass(frozen=True)
class Outcome:
    """One forced outcome and its parameters (`slow; delay_ms=300`)."""

    name: str
    params: Mapping[str, str] = field(default_factory=dict)

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        """A numeric parameter, clamped to [low, high]; 400 when it is not a number."""
        raw = self.params.get(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError as exc:
            raise BadRequest(f"Scenario parameter '{key}' must be a number, got {raw!r}") from exc
        return min(max(value, low), high)


def check_outcome(name: Any) -> str:
    """The outcome name, or a 400 listing the valid ones."""
    if not isinstance(name, str) or name not in OUTCOMES:
        raise BadRequest(f"Unknown scenario outcome {name!r}", valid_outcomes=list(OUTCOMES))
    return name


def parse_header(value: str) -> Outcome:
    """Parse `X-Mock-Scenario: <outcome>[; key=value ...]`."""
    name, *pairs = (part.strip() for part in value.split(";"))
    params: dict[str, str] = {}
    for pair in pairs:
        if not pair:
            continue
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise BadRequest(f"Scenario parameter {pair!r} must look like key=value")
        params[key.strip()] = raw.strip()
    return Outcome(check_outcome(name), params)


def operation_of(path: str) -> str:
    """A route without its /api/v1 or /v1 prefix: `/v1/people/match` -> `people/match`."""
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :].strip("/")
    return path.strip("/")


def _same(expected: Any, actual: Any) -> bool:
    """Loose equality for matching parameters: case and surrounding spaces do not count."""
    return str(expected).strip().lower() == str(actual).strip().lower()


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
        }


def scenario_from_document(document: Any, scenario_id: str) -> Scenario:
    """A Scenario from the control API's JSON, or a 400 naming what is wrong."""
    if not isinstance(document, dict):
        raise BadRequest("A scenario must be a JSON object")
    match = document.get("match") or {}
    if not isinstance(match, dict):
        raise BadRequest("Scenario 'match' must be an object")
    params = match.get("params") or {}
    if not isinstance(params, dict):
        raise BadRequest("Scenario 'match.params' must be an object")
    for key in ("path", "api_key"):
        if match.get(key) is not None and not isinstance(match[key], str):
            raise BadRequest(f"Scenario 'match.{key}' must be a string")
    times = document.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise BadRequest("Scenario 'times' must be a positive integer, or omitted for 'until deleted'")
    after = document.get("after", 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise BadRequest("Scenario 'after' must be a whole number of matching requests to let through first")
    outcome_params = document.get("params") or {}
    if not isinstance(outcome_params, dict):
        raise BadRequest("Scenario 'params' must be an object")
    return Scenario(
        id=scenario_id,
        outcome=Outcome(
            check_outcome(document.get("outcome")), {k: str(v) for k, v in outcome_params.items()}
        ),
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
        with self._lock:
            for scenario in self._scenarios:
                if scenario.matches(path, api_key, params) and scenario.use():
                    if scenario.used_up:
                        self._scenarios.remove(scenario)
                    return scenario.outcome
        return None
