"""The client contract: a named, documented list of properties every Apollo client should have.

Each property pairs a strategy of cases (what the emulator answers, what the client is asked to do)
with a check of what the client reported and sent, and a few fixed, deliberate extremes that every
run tries first. `PROPERTIES` is the list, in report order.

A client reports one of these outcomes (a dict, the same in Python adapters and `check-client`):

- `{"outcome": "match", "person": {"id": ..., "email": ..., ...}}`
- `{"outcome": "no_match"}`
- `{"outcome": "bulk", "matches": [{"id": ...}, null, ...]}`
- `{"outcome": "unauthorized"}`, `{"outcome": "forbidden"}`, `{"outcome": "rate_limited"}`
- `{"outcome": "error", "message": "..."}`
- `{"outcome": "webhook", "state": ...}` (for `receive_webhook`)
- `{"outcome": "unsupported"}`: the client has no such operation; the property is skipped.

Values a client reports for documented person fields are compared with Apollo's, allowing only the
normalisations in `values_agree` (docs/contract-testing.md lists them).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from hypothesis import strategies as st

from contract_tests import strategies as gen
from contract_tests.priming import Exchange
from contract_tests.strategies import CannedResponse, json_response
from mock_server.domain.data import violations

#: A client may retry a failed request at most this many times (so at most 4 requests per call).
MAX_RETRIES = 3
#: Slack on `Retry-After`: timers and schedulers are not exact.
RETRY_AFTER_TOLERANCE = 0.05
#: A `Retry-After` this long is not to be slept through: report rate_limited instead.
LONG_RETRY_AFTER = 60.0
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
RETRY_RULE = f"the rule: retry a 429, a 5xx or a network error at most {MAX_RETRIES} times, then report it"
#: Keys a client may report that stand for a documented value elsewhere on the person.
DERIVED = {"organization_name": ("organization", "name")}


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
            order = [self.deliveries.unique.index(p) + 1 for p in self.deliveries.delivered]
            lines.append(
                f"webhook deliveries: {len(self.deliveries.delivered)} "
                f"({len(self.deliveries.unique)} distinct), in this order: "
                + ", ".join(f"#{n}" for n in order)
            )
            for number, payload in enumerate(self.deliveries.unique, 1):
                text = json.dumps(payload, ensure_ascii=False)
                lines.append(f"  payload #{number}: " + (text if len(text) < 400 else text[:397] + "..."))
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
    #: The answers as served (HTTP dates filled in); the case's own when empty.
    served: list[CannedResponse] = field(default_factory=list)
    #: The run's time limit for one client run (seconds).
    timeout: float = 0.0


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
    #: Strategies of the fixed, deliberate extremes drawn before the random cases, in order.
    extremes: Callable[[], list[st.SearchStrategy[Case]]] = lambda: []


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


def _same_person(expected: dict[str, Any], reported: dict[str, Any], where: str = "") -> list[str]:
    if reported.get("id") != expected.get("id"):
        return [
            f"{where}expected a match for person id {expected.get('id')!r}, the client reported id "
            f"{reported.get('id')!r}"
        ]
    return []


def _blank(value: Any) -> bool:
    return value is None or value == [] or value == {} or (isinstance(value, str) and not value.strip())


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _url_key(value: str) -> str:
    text = _text(value).lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return text.rstrip("/")


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def values_agree(key: str, expected: Any, reported: Any) -> bool:
    """Whether a value a client reports for `key` is Apollo's `expected`, up to allowed normalisation.

    Allowed: null for a blank or missing value; Unicode NFC and surrounding whitespace; letter case of
    emails and domains; http/https, `www.` and a trailing slash in URLs; an equal number written
    differently; the same instant written as another ISO-8601 timestamp. Objects agree when every key
    the client reports agrees; lists agree item by item.
    """
    if reported is None:
        return _blank(expected)
    if expected is None:
        return reported in ([], {})
    if _blank(expected):
        return _blank(reported)
    if isinstance(expected, dict):
        return isinstance(reported, dict) and all(
            values_agree(k, expected.get(k), v) for k, v in reported.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(reported, list)
            and len(reported) == len(expected)
            and all(values_agree(key, e, r) for e, r in zip(expected, reported, strict=True))
        )
    if isinstance(expected, bool) or isinstance(reported, bool):
        return expected == reported or str(expected).lower() == str(reported).lower()
    if isinstance(expected, int | float):
        return _number(reported) == float(expected)
    if not isinstance(expected, str) or not isinstance(reported, str):
        return bool(expected == reported)
    if _text(expected) == _text(reported):
        return True
    lowered = key.lower()
    if "email" in lowered or "domain" in lowered:
        return _text(expected).lower() == _text(reported).lower()
    if lowered.endswith("_url") or lowered == "url":
        return _url_key(expected) == _url_key(reported)
    moment = _instant(expected)
    return moment is not None and moment == _instant(reported)


def _display_name(expected: dict[str, Any]) -> str | None:
    parts = [expected.get(k) for k in ("first_name", "last_name")]
    words = [_text(p) for p in parts if isinstance(p, str) and p.strip()]
    return " ".join(words) if words else None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def person_value_problems(
    expected: dict[str, Any], reported: dict[str, Any], where: str = "person"
) -> list[str]:
    """Every documented field the client reported that is not Apollo's value (see `values_agree`).

    Keys Apollo does not document on a person are the client's own and are not compared, except
    `DERIVED` ones (`organization_name` is `organization.name`). A display name built from first and
    last name may stand for `name`.
    """
    documented = set(gen.definition("person")["properties"])
    problems = []
    for key, value in reported.items():
        if key == "id":
            continue
        if key in DERIVED:
            parent = expected.get(DERIVED[key][0])
            want = parent.get(DERIVED[key][1]) if isinstance(parent, dict) else None
            label = ".".join(DERIVED[key])
        elif key in documented:
            want, label = expected.get(key), key
        else:
            continue
        if values_agree(key, want, value):
            continue
        if key == "name" and isinstance(value, str) and _display_name(expected) == _text(value):
            continue
        if key in expected or key in DERIVED:
            shown = "missing" if want is None and label not in expected else _shown(want)
            problems.append(
                f"{where}.{key}: Apollo answered {label} = {shown}, the client reported {_shown(value)}"
            )
        else:
            problems.append(
                f"{where}.{key} is missing from Apollo's answer but the client reported {_shown(value)}"
            )
    return problems


def _served(case: Case, obs: Observation, index: int) -> CannedResponse:
    answers = obs.served or case.responses
    return answers[min(index, len(answers) - 1)]


def _retry_after(response: CannedResponse, exchange: Exchange) -> float | None:
    """Seconds `response`'s Retry-After asked the client to wait after `exchange`; None when absent."""
    value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    number = _number(value)
    if number is not None:
        return number
    try:
        return parsedate_to_datetime(value).timestamp() - exchange.wall
    except (TypeError, ValueError):
        return None


def _retry_problems(case: Case, obs: Observation) -> list[str]:
    """More requests than the retry rule allows, and retries that came before `Retry-After`."""
    problems = []
    if len(obs.exchanges) > MAX_RETRIES + 1:
        problems.append(
            f"the client sent {len(obs.exchanges)} requests for one call: more than {MAX_RETRIES} "
            f"retries ({RETRY_RULE})"
        )
    for index, (first, second) in enumerate(zip(obs.exchanges, obs.exchanges[1:], strict=False)):
        answer = _served(case, obs, index)
        wait = _retry_after(answer, first) if answer.status == 429 else None
        gap = second.arrived - first.arrived
        if wait is not None and gap + RETRY_AFTER_TOLERANCE < wait:
            problems.append(
                f"request {index + 2} came {gap:.3f} s after a 429 with "
                f"Retry-After: {answer.headers.get('Retry-After')} ({wait:.2f} s)"
            )
    return problems


def _answered_well(case: Case, obs: Observation) -> list[CannedResponse]:
    """The well-formed 200 answers the client actually received."""
    served = [_served(case, obs, i) for i in range(len(obs.exchanges))]
    return [r for r in served if r.status == 200 and r.text is None and r.fault != "hang"]


def _match_case(params: dict[str, Any], answers: list[CannedResponse]) -> Case:
    return Case("people_match", {"operation": "people_match", "params": params}, answers)


def _match_answer(document: dict[str, Any]) -> CannedResponse:
    return json_response(document, "people_match.response")


# --------------------------------------------------------------------------- the properties


def _check_match(case: Case, obs: Observation) -> list[str]:
    expected = case.responses[-1].document["person"]
    reported = _reported_person(obs)
    return _expect(obs, "match") or (
        _same_person(expected, reported) + person_value_problems(expected, reported)
    )


def _check_no_match(case: Case, obs: Observation) -> list[str]:
    problems = _expect(obs, "no_match")
    person = case.responses[-1].document.get("person")
    if problems and isinstance(person, dict) and person.get("match_confidence") == "none":
        problems.append('Apollo\'s person is a stub marked match_confidence: "none": that is a miss')
    return problems


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


def failure_problems(case: Case, obs: Observation) -> list[str]:
    """What a client must do when every answer is the case's failure (by its status).

    401: unauthorized, one request. 403: forbidden or error, one request. 400/422: error, one
    request. 429: rate_limited or error, the retry rule. 5xx, a broken body or no answer: error,
    the retry rule. Never a match, a miss or an all-null batch.
    """
    answer = case.responses[-1]
    status = answer.status
    allowed: tuple[str, ...]
    if status == 401:
        allowed, once = ("unauthorized",), True
    elif status == 403:
        allowed, once = ("forbidden", "error"), True
    elif status in (400, 422):
        allowed, once = ("error",), True
    elif status == 429:
        allowed, once = ("rate_limited", "error"), False
    else:
        allowed, once = ("error",), False
    problems = _retry_problems(case, obs) if not once else []
    problems += _expect(obs, *allowed)
    if _kind(obs) in ("no_match", "bulk", "match"):
        problems.append(f"an HTTP {status} answer is a failure to report, never a result")
    if once and (obs.runaway or len(obs.exchanges) > 1):
        problems.append(
            f"the client retried: {len(obs.exchanges)} requests for one HTTP {status} answer "
            "(retrying cannot change it)"
        )
    return problems


def _check_partial(case: Case, obs: Observation) -> list[str]:
    return _check_match(case, obs)


def _check_rate_limited(case: Case, obs: Observation) -> list[str]:
    problems = _retry_problems(case, obs)
    first = _served(case, obs, 0)
    wait = _retry_after(first, obs.exchanges[0]) if obs.exchanges else None
    if obs.crash and "timed out" in obs.crash and wait is not None and wait >= LONG_RETRY_AFTER:
        problems.append(
            f"the client slept through Retry-After: {first.headers.get('Retry-After')}: past "
            f"{LONG_RETRY_AFTER:g} s, report rate_limited instead of waiting"
        )
    problems += _expect(obs, "match", "rate_limited")
    problems += _match_after_retries(case, obs, "the client reported a match but only ever received 429s")
    return problems


def _check_server_error(case: Case, obs: Observation) -> list[str]:
    problems = _retry_problems(case, obs) + _expect(obs, "error", "match")
    problems += _match_after_retries(
        case, obs, "the client reported a match but never received a well-formed answer"
    )
    return problems


def _match_after_retries(case: Case, obs: Observation, never_answered: str) -> list[str]:
    """A reported match is the last well-formed answer's person; `never_answered` when none came."""
    if _kind(obs) != "match":
        return []
    good = _answered_well(case, obs)
    if not good:
        return [never_answered]
    return _same_person(good[-1].document["person"], _reported_person(obs))


def _check_time(case: Case, obs: Observation) -> list[str]:
    if case.responses[0].fault == "slow":
        # The emulator's own answer, late: a match or a miss, whichever it served.
        answered = [r.document for r in _answered_well(case, obs) if isinstance(r.document, dict)]
        person = answered[-1].get("person") if answered else None
        expected = (
            ("match",) if isinstance(person, dict) else ("no_match",) if answered else ("match", "no_match")
        )
        problems = _expect(obs, *expected)
        if problems:
            problems.append(
                f"Apollo answered after {gen.SLOW_ANSWER_SECONDS:g} s, within the budget a client must "
                "wait (its read timeout must be longer)"
            )
            return problems
        return _same_person(person, _reported_person(obs)) if isinstance(person, dict) else []
    problems = _retry_problems(case, obs)
    if obs.crash and "timed out" in obs.crash:
        return [
            *problems,
            f"the connection hung and the client was still waiting when the run's timeout "
            f"({obs.timeout:g} s) ended it: set a timeout below it and report an error",
        ]
    return problems + _expect(obs, "error")


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
    if exchange.header("x-api-key") is None:
        problems.append(f"{where}: the API key is not in the x-api-key header")
    if isinstance(exchange.body, dict) and "api_key" in exchange.body:
        problems.append(f"{where}: api_key is in the body (Apollo answers 422; it leaks the key into logs)")
    if "api_key" in exchange.query:
        problems.append(f"{where}: api_key is in the query string (Apollo answers 422; it leaks the key)")
    params = {k: v for k, v in exchange.params.items() if k != "api_key"}
    problems += [f"{where}: {path}: {message}" for path, message in violations(schema, params)]
    return problems


def _sent_as_asked(asked: Any, sent: Any) -> bool:
    """The server received exactly the value asked for (a flag or number may travel as text)."""
    if isinstance(asked, bool):
        return sent in (asked, str(asked).lower())
    if isinstance(asked, int | float):
        return _number(sent) == float(asked)
    return bool(asked == sent)


def _check_valid_requests(case: Case, obs: Observation) -> list[str]:
    # Only what was sent counts here: crashes on the answer are other properties' business.
    problems = []
    if obs.runaway:
        problems.append("the client kept sending requests (runaway)")
    if not obs.exchanges:
        problems.append(f"the client sent no request ({obs.crash or 'no crash'})")
    for exchange in obs.exchanges:
        problems += request_problems(exchange, obs.api_key)
        where = f"{exchange.method} {exchange.path}"
        if exchange.path in MATCH_PATHS:
            asked = case.request.get("params", {})
            for key, value in asked.items():
                sent = exchange.params.get(key)
                if not _sent_as_asked(value, sent):
                    problems.append(f"{where}: asked for {key}={value!r}, the server received {sent!r}")
            extra = sorted(set(exchange.params) - set(asked) - {"api_key"})
            if extra:
                problems.append(f"{where}: the server received parameters nobody asked for: {extra}")
        elif exchange.path in BULK_PATHS:
            details = exchange.params.get("details")
            if details != case.request.get("details"):
                problems.append(f"{where}: details differ from what was asked: {json.dumps(details)[:200]}")
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
        elif isinstance(want, dict) and isinstance(got, dict):
            problems += person_value_problems(want, got, f"matches[{index}]")
    return problems


def _check_webhooks(case: Case, obs: Observation) -> list[str]:
    problems = _expect(obs, "webhook")
    if problems:
        return problems
    assert obs.outcome is not None
    once, twice = obs.outcome.get("state_once"), obs.outcome.get("state")
    if once != twice:
        delivered = case.deliveries.delivered if case.deliveries else []
        unique = case.deliveries.unique if case.deliveries else []
        late = any(delivered.index(p) < len(unique) - 1 for p in delivered[len(unique) :])
        how = "an older payload delivered again after a newer one" if late else "duplicate deliveries"
        problems.append(
            f"{how} changed the state: after each payload once, in order: "
            f"{json.dumps(once, ensure_ascii=False)[:300]}; as delivered with retries: "
            f"{json.dumps(twice, ensure_ascii=False)[:300]}"
        )
    return problems


# --------------------------------------------------------------------------- case strategies


def _match_cases(
    answers: st.SearchStrategy[dict[str, Any]], params: st.SearchStrategy[dict[str, Any]] | None = None
) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda p, d: _match_case(p, [_match_answer(d)]),
        gen.match_params() if params is None else params,
        answers,
    )


def _person_answer(person: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda p, r: {"person": p, "request_id": r}, person, gen.request_ids())


def _all_null(person: dict[str, Any]) -> dict[str, Any]:
    """`person` with every other documented key present as null, where the schema allows it."""
    full = dict(person)
    for key in gen.definition("person")["properties"]:
        if key not in full and not violations("person", {**full, key: None}):
            full[key] = None
    return full


def _error_cases(errors: st.SearchStrategy[CannedResponse]) -> Callable[[], st.SearchStrategy[Case]]:
    return lambda: st.builds(lambda p, e: _match_case(p, [e]), gen.match_params(), errors)


def _error_case(answer: CannedResponse) -> st.SearchStrategy[Case]:
    return st.builds(lambda p: _match_case(p, [answer]), gen.match_params())


def _then_match(first: st.SearchStrategy[CannedResponse], then: bool) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda p, f, d: _match_case(p, [f, _match_answer(d)] if then else [f]),
        gen.match_params(),
        first,
        gen.match_responses(),
    )


def _rate_limited_cases() -> st.SearchStrategy[Case]:
    # Either one 429 and then a match, or 429s forever (the client must give up and say so).
    return st.builds(
        lambda p, limited, then, d: _match_case(p, [limited, _match_answer(d)] if then else [limited]),
        gen.match_params(),
        st.sampled_from(gen.RETRY_AFTER_FORMS).flatmap(
            lambda form: gen.rate_limited_responses(retry_after=form)
        ),
        st.booleans(),
        gen.match_responses(),
    )


#: The fixed rate-limit cases: each form of Retry-After, with the answer that makes its rule bite.
_RATE_LIMIT_EXTREMES = [("absent", True), ("date", True), ("3600", False), ("0", False), ("1", True)]


def _server_error_cases() -> st.SearchStrategy[Case]:
    failures = st.one_of(gen.server_error_responses(), gen.truncated_responses())
    return st.booleans().flatmap(lambda then: _then_match(failures, then))


def _time_cases() -> st.SearchStrategy[Case]:
    return st.one_of(*_time_extremes())


def _time_extremes() -> list[st.SearchStrategy[Case]]:
    # The emulator's own answer comes late: ask for its documented example person, always a match.
    slow = gen.slow_responses(gen.match_responses().map(_match_answer))
    known = st.just({"email": "tim@apollo.io"})
    return [
        st.builds(lambda p, a: _match_case(p, [a]), known, slow),
        st.builds(lambda p, a: _match_case(p, [a]), gen.match_params(), gen.hung_responses()),
    ]


def _bulk_case(details: list[dict[str, Any]], answer: CannedResponse) -> Case:
    return Case("people_bulk_match", {"operation": "people_bulk_match", "details": details}, [answer])


def _bulk_cases(
    style: gen.Style = "complete", sizes: st.SearchStrategy[int] | None = None
) -> st.SearchStrategy[Case]:
    return (st.integers(1, 10) if sizes is None else sizes).flatmap(
        lambda n: st.builds(
            lambda details, body: _bulk_case(details, json_response(body, "people_bulk_match.response")),
            gen.bulk_details(n),
            gen.bulk_responses(n, style),
        )
    )


def _bulk_error_cases(errors: st.SearchStrategy[CannedResponse] | None = None) -> st.SearchStrategy[Case]:
    return st.builds(_bulk_case, gen.bulk_details(), gen.bulk_error_responses() if errors is None else errors)


def _webhook_cases(deliveries: st.SearchStrategy[gen.Deliveries] | None = None) -> st.SearchStrategy[Case]:
    return (gen.webhook_deliveries() if deliveries is None else deliveries).map(
        lambda d: Case("receive_webhooks", {"operation": "receive_webhooks"}, [], deliveries=d)
    )


def _same_person_redelivered() -> st.SearchStrategy[gen.Deliveries]:
    """Two phone payloads about one person, the first delivered again after the second."""

    def build(pair: tuple[dict[str, Any], dict[str, Any]]) -> gen.Deliveries:
        first, second = (gen.with_person_id(p, SAME_PERSON) for p in pair)
        return gen.Deliveries([first, second], [first, second, first])

    pairs = st.tuples(gen.phone_webhook_payloads(), gen.phone_webhook_payloads())
    return pairs.map(build).filter(lambda d: d.unique[0] != d.unique[1])


SAME_PERSON = "5f2a0c0a0c0a0c0a0c0a0c0a"


def _bare_answer() -> st.SearchStrategy[dict[str, Any]]:
    return _person_answer(gen.persons("bare"))


PROPERTIES: list[Property] = [
    Property(
        "match",
        "Any valid match answer: the client reports a match for the same person id, and every "
        "documented field it reports has Apollo's value (allowed normalisations aside).",
        lambda: _match_cases(gen.match_responses()),
        _check_match,
        extremes=lambda: [_match_cases(_person_answer(gen.persons("longest"))), _match_cases(_bare_answer())],
    ),
    Property(
        "no_match",
        '{"person": null}, or a stub person marked match_confidence: "none": the client reports no '
        "match, without an exception.",
        lambda: _match_cases(gen.no_match_responses()),
        _check_no_match,
        extremes=lambda: [
            _match_cases(st.just({"person": None})),
            _match_cases(_person_answer(gen.stub_persons())),
        ],
    ),
    Property(
        "partial",
        "A partial person (keys left out, nulls, empty arrays, odd strings): no crash, a match for the "
        "same id, and every reported value is Apollo's (what Apollo left out comes out as missing).",
        lambda: _match_cases(gen.partial_responses()),
        _check_partial,
        extremes=lambda: [
            _match_cases(_bare_answer()),
            _match_cases(_person_answer(gen.persons("bare").map(_all_null))),
            _match_cases(_person_answer(gen.persons("longest"))),
        ],
    ),
    Property(
        "unauthorized",
        "401: reported as an auth failure and not retried (one request).",
        _error_cases(gen.unauthorized_responses()),
        _check_not_retried("unauthorized"),
        max_examples=len(gen.UNAUTHORIZED_TEXTS),
        extremes=lambda: [_error_case(gen.unauthorized_response(t)) for t in gen.UNAUTHORIZED_TEXTS],
    ),
    Property(
        "forbidden",
        "403 API_INACCESSIBLE: reported as forbidden and not retried (one request).",
        _error_cases(gen.forbidden_responses()),
        _check_not_retried("forbidden"),
        max_examples=len(gen.FORBIDDEN_MESSAGES),
        extremes=lambda: [_error_case(gen.forbidden_response(m)) for m in gen.FORBIDDEN_MESSAGES],
    ),
    Property(
        "client_error",
        "400, 403 for the key's scope, 422 (out of credits included): reported as an error (forbidden "
        "for the 403) after one request, never as no match.",
        _error_cases(gen.client_error_responses()),
        failure_problems,
        max_examples=len(gen.client_error_list()),
        extremes=lambda: [_error_case(answer) for answer in gen.client_error_list()],
    ),
    Property(
        "rate_limited",
        f"429 with Retry-After absent, 0, 1, large or an HTTP date: the client waits at least "
        f"Retry-After before retrying (by real arrival times), or reports the rate limit (at once when "
        f"Retry-After is {LONG_RETRY_AFTER:g} s or more); at most {MAX_RETRIES} retries.",
        _rate_limited_cases,
        _check_rate_limited,
        max_examples=len(_RATE_LIMIT_EXTREMES),
        extremes=lambda: [
            _then_match(gen.rate_limited_responses(retry_after=form), then)
            for form, then in _RATE_LIMIT_EXTREMES
        ],
    ),
    Property(
        "server_error",
        f"5xx or a malformed body: reported as an error, no crash, at most {MAX_RETRIES} retries.",
        _server_error_cases,
        _check_server_error,
        extremes=lambda: [
            _then_match(gen.truncated_responses(), False),
            _then_match(gen.server_error_responses(), True),
        ],
    ),
    Property(
        "timeouts",
        f"An answer that takes {gen.SLOW_ANSWER_SECONDS:g} s still succeeds; a connection that hangs "
        "ends in an error before the run's timeout.",
        _time_cases,
        _check_time,
        max_examples=2,
        extremes=_time_extremes,
    ),
    Property(
        "valid_requests",
        "Every request validates against the request schema, carries the key in x-api-key, never "
        "puts api_key in the body or query, and the server receives exactly the parameters asked for "
        "(reserved and non-ASCII characters and webhook_url included).",
        lambda: st.one_of(_match_cases(gen.match_responses()), _match_cases(gen.no_match_responses())),
        _check_valid_requests,
        extremes=lambda: [
            _match_cases(st.just({"person": None}), st.just(params)) for params in gen.AWKWARD_PARAMS
        ],
    ),
    Property(
        "bulk",
        "bulk_match: valid requests; the reported matches line up with the details, nulls included, "
        "with Apollo's values.",
        _bulk_cases,
        _check_bulk,
        needs="bulk",
        extremes=lambda: [_bulk_cases("bare", st.just(10)), _bulk_cases("complete", st.just(1))],
    ),
    Property(
        "bulk_errors",
        "bulk_match answered 401, 403, 429, 5xx, a broken body or status failed: the same rules as "
        "people/match, never a batch of nulls.",
        _bulk_error_cases,
        failure_problems,
        needs="bulk",
        max_examples=6,
        extremes=lambda: [
            _bulk_error_cases(gen.unauthorized_responses()),
            _bulk_error_cases(gen.rate_limited_responses("bulk_match", "0")),
            _bulk_error_cases(gen.server_error_responses()),
            _bulk_error_cases(
                st.sampled_from(gen.FAILED_BULK).map(lambda f: json_response(f[1], "error.response", f[0]))
            ),
            _bulk_error_cases(gen.forbidden_responses()),
            _bulk_error_cases(gen.truncated_responses(gen.bulk_responses(2))),
        ],
    ),
    Property(
        "idempotent_webhooks",
        "The same webhook payload delivered twice, or again after a newer one, has the effect of one "
        "delivery in order.",
        _webhook_cases,
        _check_webhooks,
        needs="webhook",
        extremes=lambda: [
            _webhook_cases(_same_person_redelivered()),
            _webhook_cases(gen.duplicated_deliveries()),
        ],
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
    "failure_problems",
    "person_value_problems",
    "property_named",
    "request_problems",
    "values_agree",
]
