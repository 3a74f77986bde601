"""How each property judges an `Observation`: outcomes expected, retries counted, values compared."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from typing import Any

from contract_tests import strategies as gen
from contract_tests.agreement import as_number, person_value_problems
from contract_tests.cases import Case, Check, Observation, deduplicated
from contract_tests.misses import is_miss, may_be_miss, miss_rule
from contract_tests.priming import Exchange
from contract_tests.strategies import CannedResponse
from mock_server.domain.data import violations
from mock_server.domain.params import parse_webhook_url

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
    "phones",
    "people",
    "unsupported",
)
MATCH_PATHS = ("/api/v1/people/match", "/v1/people/match")
BULK_PATHS = ("/api/v1/people/bulk_match", "/v1/people/bulk_match")
POLL_PREFIXES = ("/api/v1/webhook_result/", "/v1/webhook_result/")
SEARCH_PATHS = ("/api/v1/mixed_people/api_search", "/v1/mixed_people/api_search")
#: Flags a client may always send at their default (false) without being asked: harmless.
DEFAULT_FLAGS = frozenset(
    {"reveal_personal_emails", "reveal_phone_number", "run_waterfall_email", "run_waterfall_phone"}
)
#: Slack on "gave up within the longest read timeout": the client's own scheduling.
GIVE_UP_SLACK = 2.0
RETRY_RULE = f"the rule: retry a 429, a 5xx or a network error at most {MAX_RETRIES} times, then report it"


def _kind(obs: Observation) -> str | None:
    return None if obs.outcome is None else str(obs.outcome.get("outcome"))


def _base_problems(obs: Observation) -> list[str]:
    """Crashes, runaways and unknown outcomes: wrong whatever the property."""
    if obs.runaway:
        return [
            f"the client kept sending requests: more than {len(obs.exchanges) - 1} for one call (runaway)"
        ]
    if obs.stopped_at_limit:
        return [
            f"the client was still running when its run budget ({obs.timeout:g} s) ended it: "
            "a client must finish every case on its own (see the README's run budget)"
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


def _served(case: Case, obs: Observation, index: int) -> CannedResponse:
    answers = obs.served or case.responses
    return answers[min(index, len(answers) - 1)]


def _retry_after(response: CannedResponse, exchange: Exchange) -> float | None:
    """Seconds `response`'s Retry-After asked the client to wait after `exchange`; None when absent."""
    value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    number = as_number(value)
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
    return [r for r in served if r.status == 200 and r.text is None and r.fault not in ("hang", "reset")]


def check_match(case: Case, obs: Observation) -> list[str]:
    """`match`: a match for Apollo's person id, every reported documented value Apollo's.

    A person a client may also take for a miss (the thin person) may be reported as no match.
    """
    expected = case.responses[-1].document["person"]
    reported = _reported_person(obs)
    if may_be_miss(expected) and _kind(obs) == "no_match":
        return _base_problems(obs)
    return _expect(obs, "match") or (
        _same_person(expected, reported) + person_value_problems(expected, reported)
    )


def check_no_match(case: Case, obs: Observation) -> list[str]:
    """`no_match`: a miss (a null person, or one a `MissRule` applies to) reported as no match."""
    person = case.responses[-1].document.get("person")
    if not is_miss(person):  # a case whose person lost what made it a miss judges as a match
        return check_match(case, obs)
    problems = _expect(obs, "no_match")
    rule = miss_rule(person)
    if problems and rule is not None:
        problems.append(f"Apollo's person is {rule.name}: that is a miss")
    return problems


def check_not_retried(outcome: str) -> Check:
    """`unauthorized` / `forbidden`: the `outcome` reported after exactly one request."""

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


def check_partial(case: Case, obs: Observation) -> list[str]:
    """`partial`: judged as a match (what Apollo left out must come out missing)."""
    return check_match(case, obs)


def check_rate_limited(case: Case, obs: Observation) -> list[str]:
    """`rate_limited`: the retry rule and `Retry-After` kept; a match only after a good answer."""
    problems = _retry_problems(case, obs)
    first = _served(case, obs, 0)
    wait = _retry_after(first, obs.exchanges[0]) if obs.exchanges else None
    if obs.stopped_at_limit and wait is not None and wait >= LONG_RETRY_AFTER:
        problems.append(
            f"the client slept through Retry-After: {first.headers.get('Retry-After')}: past "
            f"{LONG_RETRY_AFTER:g} s, report rate_limited instead of waiting"
        )
    problems += _expect(obs, "match", "rate_limited")
    problems += _match_after_retries(case, obs, "the client reported a match but only ever received 429s")
    return problems


def check_server_error(case: Case, obs: Observation) -> list[str]:
    """`server_error`: an error (or a match after a retry that got one), the retry rule kept."""
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


def check_time(case: Case, obs: Observation) -> list[str]:
    """`timeouts`: the slow answer waited out; the hung connection given up with an error."""
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
    problems = _retry_problems(case, obs) + _hang_problems(obs)
    if obs.stopped_at_limit:
        return problems or _base_problems(obs)
    problems += _expect(obs, "error", "match")
    return problems + _match_after_retries(case, obs, "the client reported a match but was never answered")


def _hang_problems(obs: Observation) -> list[str]:
    """A client must give up on a connection that has not answered within `LONGEST_READ_TIMEOUT`.

    When it gave up is the earliest of: its next request, the end of the held request (the
    emulator ends a hold when the client leaves), and the end of its run.
    """
    held = [e for e in obs.exchanges if e.answer.fault == "hang"]
    if not held:
        return []
    first = held[0]
    later = [e.arrived - first.arrived for e in obs.exchanges if e.arrived > first.arrived]
    evidence = [*later, first.seconds]
    if obs.ended and not obs.stopped_at_limit:
        evidence.append(obs.ended - first.wall)
    waited = min(evidence)
    if waited <= gen.LONGEST_READ_TIMEOUT + GIVE_UP_SLACK:
        return []
    return [
        f"the connection hung and the client waited {waited:.1f} s without giving up: give up on a "
        f"request that has not answered within {gen.LONGEST_READ_TIMEOUT:g} s (a read timeout), then "
        "report an error or retry it"
    ]


def request_problems(exchange: Exchange, api_key: str) -> list[str]:
    """What is wrong with one request a client sent (path, schema, where the key is)."""
    problems = []
    where = f"{exchange.method} {exchange.path}"
    schema: str | None
    if exchange.path in MATCH_PATHS:
        schema = "people_match.request"
    elif exchange.path in BULK_PATHS:
        schema = "people_bulk_match.request"
    elif exchange.path.startswith(POLL_PREFIXES):
        if exchange.method != "GET":
            problems.append(f"{where}: Poll Webhook Result takes GET")
        if exchange.header("x-api-key") is None:
            problems.append(f"{where}: the API key is not in the x-api-key header")
        return problems
    elif exchange.path in SEARCH_PATHS:
        schema = None  # People API Search's filters have no request schema of their own
    else:
        return [f"{where}: not a people/match, people/bulk_match, api_search or webhook_result route"]
    if exchange.path in BULK_PATHS + SEARCH_PATHS and exchange.method != "POST":
        problems.append(f"{where}: {exchange.path.rsplit('/', 1)[-1]} takes POST")
    if exchange.method not in ("GET", "POST") and exchange.path not in SEARCH_PATHS:
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
    if schema is not None:
        problems += [f"{where}: {path}: {message}" for path, message in violations(schema, params)]
    return problems


def _sent_as_asked(key: str, asked: Any, sent: Any) -> bool:
    """The server received exactly the value asked for (a flag or number may travel as text).

    A `webhook_url` may travel percent-encoded, as Apollo's docs suggest: it counts as the URL the
    emulator decodes it to.
    """
    if key == "webhook_url" and isinstance(asked, str) and sent is not None:
        try:
            return parse_webhook_url(sent) == parse_webhook_url(asked)
        except Exception:  # noqa: BLE001 - any refusal means it did not arrive as asked
            return False
    if isinstance(asked, bool):
        return sent in (asked, str(asked).lower())
    if isinstance(asked, int | float):
        return as_number(sent) == float(asked)
    return bool(asked == sent)


def check_valid_requests(case: Case, obs: Observation) -> list[str]:
    """`valid_requests`: every request valid, the key in its header, parameters as asked."""
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
                if not _sent_as_asked(key, value, sent):
                    problems.append(f"{where}: asked for {key}={value!r}, the server received {sent!r}")
            extra = sorted(
                key
                for key in set(exchange.params) - set(asked) - {"api_key"}
                if not (key in DEFAULT_FLAGS and _sent_as_asked(key, False, exchange.params[key]))
            )
            if extra:
                problems.append(f"{where}: the server received parameters nobody asked for: {extra}")
        elif exchange.path in BULK_PATHS:
            problems += _details_problems(case, exchange)
    return problems


def _details_problems(case: Case, exchange: Exchange) -> list[str]:
    """Bulk details sent as asked; asking an identical detail only once is harmless."""
    details = exchange.params.get("details")
    asked = case.request.get("details")
    if details == asked or (isinstance(asked, list) and details == deduplicated(asked)):
        return []
    where = f"{exchange.method} {exchange.path}"
    return [f"{where}: details differ from what was asked: {json.dumps(details, ensure_ascii=False)[:300]}"]


def check_bulk(case: Case, obs: Observation) -> list[str]:
    """`bulk`: valid requests; matches aligned with the details, nulls included, values Apollo's."""
    problems = _expect(obs, "bulk")
    if problems:
        return problems
    for exchange in obs.exchanges:
        problems += request_problems(exchange, obs.api_key)
        if exchange.path in BULK_PATHS:
            problems += _details_problems(case, exchange)
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


def check_webhooks(case: Case, obs: Observation) -> list[str]:
    """`idempotent_webhooks`: redeliveries leave the state each payload once, in order, leaves."""
    problems = _expect(obs, "webhook")
    if problems:
        return problems
    assert obs.outcome is not None
    once, twice = obs.outcome.get("state_once"), obs.outcome.get("state")
    if case.deliveries is not None and case.deliveries.lesser is not None:
        if obs.outcome.get("state_lesser") == once:
            problems.append(
                f"{case.deliveries.left_out} left no trace: the state is the same without it "
                f"({json.dumps(once, ensure_ascii=False)[:300]}); keep every person of every payload"
            )
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


def check_phones(case: Case, obs: Observation) -> list[str]:
    """`request_ids`: the poll uses Apollo's request_id exactly as written (past 2**53 included)."""
    problems = _expect(obs, "phones", "error")
    if obs.stopped_at_limit or obs.runaway:
        return problems
    request_id = case.responses[0].document["request_id"]
    polls = [e for e in obs.exchanges if e.path.startswith(POLL_PREFIXES)]
    for exchange in obs.exchanges:
        problems += request_problems(exchange, obs.api_key)
    if not polls:
        problems.append("the client never polled Poll Webhook Result (GET webhook_result/{request_id})")
    for exchange in polls:
        polled = exchange.path.rsplit("/", 1)[-1]
        if polled != str(request_id):
            problems.append(
                f"the client polled {exchange.path}: Apollo's request_id is {request_id} (carry it as "
                "written: past 2**53 a JavaScript number, or a float, loses digits)"
            )
    reported = (obs.outcome or {}).get("request_id")
    if _kind(obs) == "phones" and str(reported) != str(request_id):
        problems.append(f"the client reported request_id {reported!r}, Apollo's is {request_id}")
    return problems
