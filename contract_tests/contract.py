"""The client contract: a named, documented list of properties every Apollo client should have.

Each property pairs a strategy of cases (what the emulator answers, what the client is asked to do)
with a check of what the client reported and sent. `PROPERTIES` is the list, in report order.

A client reports one of these outcomes (a dict, the same in Python adapters and `check-client`):

- `{"outcome": "match", "person": {"id": ..., "email": ..., ...}}`
- `{"outcome": "no_match"}`
- `{"outcome": "bulk", "matches": [{"id": ...}, null, ...]}`
- `{"outcome": "unauthorized"}`, `{"outcome": "forbidden"}`, `{"outcome": "rate_limited"}`
- `{"outcome": "error", "message": "..."}`
- `{"outcome": "webhook", "state": ...}` (for `receive_webhook`)
- `{"outcome": "unsupported"}`: the client has no such operation; the property is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from contract_tests import strategies as gen
from contract_tests.priming import Exchange
from contract_tests.strategies import CannedResponse, json_response
from mock_server.data import violations

#: A client may retry a failed request at most this many times (so at most 4 requests per call).
MAX_RETRIES = 3
#: Slack on `Retry-After`: timers and schedulers are not exact.
RETRY_AFTER_TOLERANCE = 0.05
OUTCOMES = (
    "match",
    "no_match",
    "bulk",
    "unauthorized",
    "forbidden",
    "rate_limited",
    "error",
    "webhook",
    "unsupported",
)
MATCH_PATHS = ("/api/v1/people/match", "/v1/people/match")
BULK_PATHS = ("/api/v1/people/bulk_match", "/v1/people/bulk_match")


@dataclass
class Case:
    """One generated case: what the client is asked to do and what the emulator answers."""

    operation: str
    request: dict[str, Any]
    responses: list[CannedResponse] = field(default_factory=list)
    deliveries: gen.Deliveries | None = None

    def describe(self) -> list[str]:
        """Readable lines for reports."""
        lines = [f"asked: {json.dumps(self.request, ensure_ascii=False)}"]
        if self.deliveries is not None:
            lines.append(
                f"webhook deliveries: {len(self.deliveries.delivered)} "
                f"({len(self.deliveries.unique)} distinct)"
            )
            for payload in self.deliveries.unique:
                text = json.dumps(payload, ensure_ascii=False)
                lines.append("  payload: " + (text if len(text) < 400 else text[:397] + "..."))
        for index, response in enumerate(self.responses):
            last = " (and every later request)" if index == len(self.responses) - 1 else ""
            lines.append(f"answer {index + 1}{last}: {response.describe()}")
        return lines

    def person_documents(self) -> list[dict[str, Any]]:
        """Every person object in the answers: what shrinking works on."""
        found: list[dict[str, Any]] = []
        for response in self.responses:
            document = response.document
            if not isinstance(document, dict):
                continue
            if isinstance(document.get("person"), dict):
                found.append(document["person"])
            for match in document.get("matches") or []:
                if isinstance(match, dict):
                    found.append(match)
        return found


@dataclass
class Observation:
    """What happened when the client ran one case."""

    outcome: dict[str, Any] | None
    exchanges: list[Exchange]
    crash: str | None = None
    output: str = ""
    runaway: bool = False
    seconds: float = 0.0
    api_key: str = ""


Check = Callable[[Case, Observation], list[str]]


@dataclass(frozen=True)
class Property:
    """One named property of the contract."""

    name: str
    description: str
    cases: Callable[[], st.SearchStrategy[Case]]
    check: Check
    #: "bulk" or "webhook" when the property needs that optional client operation.
    needs: str | None = None
    #: At most this many cases, whatever --examples says (some cases wait real seconds).
    max_examples: int | None = None


# --------------------------------------------------------------------------- helpers


def _kind(obs: Observation) -> str | None:
    return None if obs.outcome is None else str(obs.outcome.get("outcome"))


def _base_problems(obs: Observation) -> list[str]:
    """Crashes, runaways and unknown outcomes: wrong whatever the property."""
    if obs.runaway:
        return [
            f"the client kept sending requests: more than {len(obs.exchanges) - 1} for one call (runaway)"
        ]
    if obs.crash is not None:
        return [f"the client crashed: {obs.crash}"]
    if obs.outcome is None or _kind(obs) not in OUTCOMES:
        return [f"the client reported an unknown outcome: {obs.outcome!r}"]
    return []


def _expect(obs: Observation, *allowed: str) -> list[str]:
    problems = _base_problems(obs)
    if problems:
        return problems
    if _kind(obs) not in allowed:
        return [f"expected outcome {' or '.join(allowed)}, the client reported {json.dumps(obs.outcome)}"]
    return []


def _reported_person(obs: Observation) -> dict[str, Any]:
    person = (obs.outcome or {}).get("person")
    return person if isinstance(person, dict) else {}


def _same_person(expected: dict[str, Any], obs: Observation) -> list[str]:
    reported = _reported_person(obs)
    if reported.get("id") != expected.get("id"):
        return [
            f"expected a match for person id {expected.get('id')!r}, the client reported id "
            f"{reported.get('id')!r}"
        ]
    return []


def _missing_stays_missing(expected: dict[str, Any], obs: Observation) -> list[str]:
    """A value Apollo left out (missing or null) must not come out as something else.

    Only keys Apollo documents on a person are compared; a client may add its own (derived) keys.
    """
    problems = []
    documented = set(gen.definition("person")["properties"])
    for key, value in _reported_person(obs).items():
        if key == "id" or key not in documented or value is None:
            continue
        if expected.get(key) is None:
            problems.append(f"person.{key} is missing from Apollo's answer but the client reported {value!r}")
    return problems


def _requests_at_most(obs: Observation, limit: int) -> list[str]:
    if len(obs.exchanges) > limit:
        return [
            f"the client sent {len(obs.exchanges)} requests; at most {limit} are allowed "
            f"(1 + {limit - 1} retries)"
        ]
    return []


def _match_case(params: dict[str, Any], answers: list[CannedResponse]) -> Case:
    return Case("people_match", {"operation": "people_match", "params": params}, answers)


def _match_answer(document: dict[str, Any]) -> CannedResponse:
    return json_response(document, "people_match.response")


# --------------------------------------------------------------------------- the properties


def _check_match(case: Case, obs: Observation) -> list[str]:
    expected = case.responses[-1].document["person"]
    return _expect(obs, "match") or _same_person(expected, obs)


def _check_no_match(case: Case, obs: Observation) -> list[str]:
    return _expect(obs, "no_match")


def _check_partial(case: Case, obs: Observation) -> list[str]:
    expected = case.responses[-1].document["person"]
    return _expect(obs, "match") or (_same_person(expected, obs) + _missing_stays_missing(expected, obs))


def _check_not_retried(outcome: str) -> Check:
    def check(case: Case, obs: Observation) -> list[str]:
        problems = _expect(obs, outcome)
        if obs.runaway or len(obs.exchanges) > 1:
            problems.append(
                f"the client retried: {len(obs.exchanges)} requests for one {outcome} answer "
                "(retrying cannot fix the key)"
            )
        return problems

    return check


def _check_rate_limited(case: Case, obs: Observation) -> list[str]:
    problems = _expect(obs, "match", "rate_limited") or _requests_at_most(obs, MAX_RETRIES + 1)
    for index, (first, second) in enumerate(zip(obs.exchanges, obs.exchanges[1:], strict=False)):
        answer = case.responses[min(index, len(case.responses) - 1)]
        wait = float(answer.headers.get("Retry-After", 0)) if answer.status == 429 else 0.0
        gap = second.arrived - first.arrived
        if gap + RETRY_AFTER_TOLERANCE < wait:
            problems.append(f"request {index + 2} came {gap:.3f} s after a 429 with Retry-After: {wait:g}")
    served = [case.responses[min(i, len(case.responses) - 1)] for i in range(len(obs.exchanges))]
    if _kind(obs) == "match":
        if not any(r.status == 200 for r in served):
            problems.append("the client reported a match but only ever received 429s")
        else:
            problems += _same_person(case.responses[-1].document["person"], obs)
    return problems


def _check_server_error(case: Case, obs: Observation) -> list[str]:
    problems = _expect(obs, "error", "match") or _requests_at_most(obs, MAX_RETRIES + 1)
    served = [case.responses[min(i, len(case.responses) - 1)] for i in range(len(obs.exchanges))]
    if _kind(obs) == "match":
        good = [r for r in served if r.status == 200 and r.text is None]
        if not good:
            problems.append("the client reported a match but never received a well-formed answer")
        else:
            problems += _same_person(good[-1].document["person"], obs)
    return problems


def request_problems(exchange: Exchange, api_key: str) -> list[str]:
    """What is wrong with one request a client sent (path, schema, where the key is)."""
    problems = []
    where = f"{exchange.method} {exchange.path}"
    if exchange.path in MATCH_PATHS:
        schema = "people_match.request"
    elif exchange.path in BULK_PATHS:
        schema = "people_bulk_match.request"
    else:
        return [f"{where}: not a people/match or people/bulk_match route"]
    if exchange.path in BULK_PATHS and exchange.method != "POST":
        problems.append(f"{where}: bulk_match takes POST")
    if exchange.method not in ("GET", "POST"):
        problems.append(f"{where}: people/match takes GET or POST")
    if not isinstance(exchange.body, dict):
        problems.append(f"{where}: the body is not a JSON object or form: {exchange.raw_body[:80]!r}")
    if exchange.header("x-api-key") != api_key:
        problems.append(f"{where}: the API key is not in the x-api-key header")
    if isinstance(exchange.body, dict) and "api_key" in exchange.body:
        problems.append(f"{where}: api_key is in the body (Apollo answers 422; it leaks the key into logs)")
    if "api_key" in exchange.query:
        problems.append(f"{where}: api_key is in the query string (Apollo answers 422; it leaks the key)")
    params = {k: v for k, v in exchange.params.items() if k != "api_key"}
    problems += [f"{where}: {path}: {message}" for path, message in violations(schema, params)]
    return problems


def _loosely_equal(expected: Any, actual: Any) -> bool:
    return str(expected).strip().lower() == str(actual).strip().lower()


def _check_valid_requests(case: Case, obs: Observation) -> list[str]:
    # Only what was sent counts here: crashes on the answer are other properties' business.
    problems = []
    if obs.runaway:
        problems.append("the client kept sending requests (runaway)")
    if not obs.exchanges:
        problems.append(f"the client sent no request ({obs.crash or 'no crash'})")
    for exchange in obs.exchanges:
        problems += request_problems(exchange, obs.api_key)
        if exchange.path in MATCH_PATHS:
            for key, value in case.request.get("params", {}).items():
                sent = exchange.params.get(key)
                if sent is None or not _loosely_equal(value, sent):
                    problems.append(
                        f"{exchange.method} {exchange.path}: asked for {key}={value!r}, sent {sent!r}"
                    )
        elif exchange.path in BULK_PATHS:
            details = exchange.params.get("details")
            if details != case.request.get("details"):
                problems.append(
                    f"{exchange.method} {exchange.path}: details differ from what was asked: "
                    f"{json.dumps(details)[:200]}"
                )
    return problems


def _check_bulk(case: Case, obs: Observation) -> list[str]:
    problems = _expect(obs, "bulk")
    if problems:
        return problems
    for exchange in obs.exchanges:
        problems += request_problems(exchange, obs.api_key)
    expected = case.responses[-1].document["matches"]
    reported = (obs.outcome or {}).get("matches")
    if not isinstance(reported, list):
        return [f"expected a list of matches, the client reported {json.dumps(obs.outcome)[:200]}"]
    if len(reported) != len(expected):
        return [
            f"Apollo answered {len(expected)} positional matches, the client reported {len(reported)}: "
            f"ids {[m.get('id') if isinstance(m, dict) else None for m in reported]}"
        ]
    for index, (want, got) in enumerate(zip(expected, reported, strict=True)):
        want_id = want.get("id") if isinstance(want, dict) else None
        got_id = got.get("id") if isinstance(got, dict) else None
        if want_id != got_id:
            problems.append(
                f"matches[{index}]: Apollo answered {want_id or 'null'}, the client reported "
                f"{got_id or 'null'}"
            )
    return problems


def _check_webhooks(case: Case, obs: Observation) -> list[str]:
    problems = _expect(obs, "webhook")
    if problems:
        return problems
    assert obs.outcome is not None
    once, twice = obs.outcome.get("state_once"), obs.outcome.get("state")
    if once != twice:
        problems.append(
            "duplicate deliveries changed the state: after each payload once: "
            f"{json.dumps(once)[:300]}; as delivered with retries: {json.dumps(twice)[:300]}"
        )
    return problems


# --------------------------------------------------------------------------- case strategies


def _match_cases() -> st.SearchStrategy[Case]:
    return st.builds(
        lambda p, d: _match_case(p, [_match_answer(d)]), gen.match_params(), gen.match_responses()
    )


def _no_match_cases() -> st.SearchStrategy[Case]:
    return st.builds(
        lambda p, d: _match_case(p, [_match_answer(d)]), gen.match_params(), gen.no_match_responses()
    )


def _partial_cases() -> st.SearchStrategy[Case]:
    return st.builds(
        lambda p, d: _match_case(p, [_match_answer(d)]), gen.match_params(), gen.partial_responses()
    )


def _error_cases(errors: st.SearchStrategy[CannedResponse]) -> Callable[[], st.SearchStrategy[Case]]:
    return lambda: st.builds(lambda p, e: _match_case(p, [e]), gen.match_params(), errors)


def _rate_limited_cases() -> st.SearchStrategy[Case]:
    # Either one 429 and then a match, or 429s forever (the client must give up and say so).
    return st.builds(
        lambda p, limited, then, d: _match_case(p, [limited, _match_answer(d)] if then else [limited]),
        gen.match_params(),
        gen.rate_limited_responses(),
        st.sampled_from([True, False]),
        gen.match_responses(),
    )


def _server_error_cases() -> st.SearchStrategy[Case]:
    failures = st.one_of(gen.server_error_responses(), gen.truncated_responses())
    return st.builds(
        lambda p, f, then, d: _match_case(p, [f, _match_answer(d)] if then else [f]),
        gen.match_params(),
        failures,
        st.booleans(),
        gen.match_responses(),
    )


def _bulk_cases() -> st.SearchStrategy[Case]:
    return st.integers(1, 10).flatmap(
        lambda n: st.builds(
            lambda details, body: Case(
                "people_bulk_match",
                {"operation": "people_bulk_match", "details": details},
                [json_response(body, "people_bulk_match.response")],
            ),
            gen.bulk_details(n),
            gen.bulk_responses(n),
        )
    )


def _valid_request_cases() -> st.SearchStrategy[Case]:
    return st.one_of(_match_cases(), _no_match_cases())


def _webhook_cases() -> st.SearchStrategy[Case]:
    return gen.duplicated_deliveries().map(
        lambda d: Case("receive_webhooks", {"operation": "receive_webhooks"}, [], deliveries=d)
    )


PROPERTIES: list[Property] = [
    Property(
        "match",
        "Any valid match answer: the client reports a match for the same person id.",
        _match_cases,
        _check_match,
    ),
    Property(
        "no_match",
        '{"person": null}: the client reports no match, without an exception.',
        _no_match_cases,
        _check_no_match,
    ),
    Property(
        "partial",
        "A partial person (nulls, missing keys, empty arrays, odd strings): no crash, a match "
        "for the same id, and values Apollo left out come out as missing.",
        _partial_cases,
        _check_partial,
    ),
    Property(
        "unauthorized",
        "401: reported as an auth failure and not retried (one request).",
        _error_cases(gen.unauthorized_responses()),
        _check_not_retried("unauthorized"),
    ),
    Property(
        "forbidden",
        "403 API_INACCESSIBLE: reported as forbidden and not retried (one request).",
        _error_cases(gen.forbidden_responses()),
        _check_not_retried("forbidden"),
    ),
    Property(
        "rate_limited",
        f"429 with Retry-After: the client waits at least Retry-After before retrying "
        f"(by real arrival times) or reports the rate limit; at most {MAX_RETRIES} retries.",
        _rate_limited_cases,
        _check_rate_limited,
        max_examples=2,
    ),
    Property(
        "server_error",
        f"5xx or a malformed body: reported as an error, no crash, at most {MAX_RETRIES} retries.",
        _server_error_cases,
        _check_server_error,
    ),
    Property(
        "valid_requests",
        "Every request validates against the request schema, carries the key in "
        "x-api-key and never puts api_key in the body or query.",
        _valid_request_cases,
        _check_valid_requests,
    ),
    Property(
        "bulk",
        "bulk_match: valid requests, and the reported matches line up with the details, nulls included.",
        _bulk_cases,
        _check_bulk,
        needs="bulk",
    ),
    Property(
        "idempotent_webhooks",
        "The same webhook payload delivered twice has the effect of one.",
        _webhook_cases,
        _check_webhooks,
        needs="webhook",
    ),
]


def property_named(name: str) -> Property:
    """The property called `name`; ValueError listing the names otherwise."""
    for prop in PROPERTIES:
        if prop.name == name:
            return prop
    raise ValueError(f"unknown property {name!r}; known: {', '.join(p.name for p in PROPERTIES)}")


__all__ = [
    "MAX_RETRIES",
    "PROPERTIES",
    "Case",
    "Observation",
    "Property",
    "property_named",
    "request_problems",
]
