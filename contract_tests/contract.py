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
- `{"outcome": "people", "people": [{"id": ...}, null, ...]}` (for `search_then_enrich`, in search order)
- `{"outcome": "unsupported"}`: the client has no such operation; the property is skipped.

Values a client reports for documented person fields are compared with Apollo's, allowing only the
normalisations in `values_agree` (docs/contract-testing.md lists them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from contract_tests import strategies as gen
from contract_tests.agreement import person_value_problems, values_agree
from contract_tests.cases import Case, Observation, Property, bulk_case
from contract_tests.checks import (
    LONG_RETRY_AFTER,
    MAX_RETRIES,
    check_bulk,
    check_match,
    check_no_match,
    check_not_retried,
    check_partial,
    check_phones,
    check_rate_limited,
    check_server_error,
    check_time,
    check_valid_requests,
    check_webhooks,
    failure_problems,
    request_problems,
)
from contract_tests.search_flow import SEARCH_THEN_ENRICH
from contract_tests.strategies import CannedResponse, json_response
from mock_server.domain.data import violations


def _match_case(params: dict[str, Any], answers: list[CannedResponse]) -> Case:
    return Case("people_match", {"operation": "people_match", "params": params}, answers)


def _match_answer(document: dict[str, Any]) -> CannedResponse:
    return json_response(document, "people_match.response")


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
    failures = st.one_of(gen.server_error_responses(), gen.truncated_responses(), gen.connection_resets())
    return st.booleans().flatmap(lambda then: _then_match(failures, then))


def _time_cases() -> st.SearchStrategy[Case]:
    return st.one_of(*_time_extremes())


def _time_extremes() -> list[st.SearchStrategy[Case]]:
    # The emulator's own answer comes late: ask for its documented example person, always a match.
    slow = gen.slow_responses(gen.match_responses().map(_match_answer))
    known = st.just({"email": "tim@apollo.io"})
    return [
        st.builds(lambda p, a: _match_case(p, [a]), known, slow),
        # Only the first request hangs: a client that gives up and retries is answered.
        _then_match(gen.hung_responses(), True),
    ]


def _bulk_cases(
    style: gen.Style = "complete", sizes: st.SearchStrategy[int] | None = None, counters: str | None = None
) -> st.SearchStrategy[Case]:
    return (st.integers(1, 10) if sizes is None else sizes).flatmap(
        lambda n: st.builds(
            lambda details, body: bulk_case(details, json_response(body, "people_bulk_match.response")),
            gen.bulk_details(n),
            gen.bulk_responses(n, style, counters),
        )
    )


def _bulk_answer(matches: list[dict[str, Any] | None], request_id: int) -> CannedResponse:
    return json_response(gen.bulk_body(matches, request_id), "people_bulk_match.response")


def _repeated_detail_cases() -> st.SearchStrategy[Case]:
    """Three details, the first asked again last: the same person answers both (asking once is fine)."""

    def build(details: list[dict[str, Any]], people: list[dict[str, Any]], request_id: int) -> Case:
        first, second = details
        one, two = people
        return bulk_case([first, second, first], _bulk_answer([one, two, one], request_id))

    return st.builds(
        build, gen.bulk_details(2).filter(lambda d: d[0] != d[1]), _two_people(), gen.request_ids()
    )


def _zero_counter_cases() -> st.SearchStrategy[Case]:
    """Two people matched, the counters at zero (Apollo's OpenAPI allows it): `matches` decides."""

    def build(details: list[dict[str, Any]], people: list[dict[str, Any]], request_id: int) -> Case:
        body = gen.bulk_body([*people], request_id, counters="zero")
        return bulk_case(details, json_response(body, "people_bulk_match.response"))

    return st.builds(build, gen.bulk_details(2), _two_people(), gen.request_ids())


def _namesake_cases() -> st.SearchStrategy[Case]:
    """Two different people who share a name, at different companies, in one bulk request."""

    def build(people: list[dict[str, Any]], domains: list[str], request_id: int) -> Case:
        first, last = people[0].get("first_name") or "Ada", people[0].get("last_name") or "Lovelace"
        details = [{"first_name": first, "last_name": last, "domain": domain} for domain in domains]
        namesakes = [{**p, "first_name": first, "last_name": last, "name": f"{first} {last}"} for p in people]
        return bulk_case(details, _bulk_answer([*namesakes], request_id))

    domains = st.lists(st.sampled_from(gen.DOMAINS), min_size=2, max_size=2, unique=True)
    return st.builds(build, _two_people(), domains, gen.request_ids())


def _two_people() -> st.SearchStrategy[list[dict[str, Any]]]:
    """Two different persons (different ids and organizations)."""
    return st.lists(gen.persons("complete"), min_size=2, max_size=2).filter(
        lambda people: people[0]["id"] != people[1]["id"]
    )


def _bulk_error_cases(errors: st.SearchStrategy[CannedResponse] | None = None) -> st.SearchStrategy[Case]:
    return st.builds(bulk_case, gen.bulk_details(), gen.bulk_error_responses() if errors is None else errors)


def _webhook_cases(deliveries: st.SearchStrategy[gen.Deliveries] | None = None) -> st.SearchStrategy[Case]:
    return (gen.webhook_deliveries() if deliveries is None else deliveries).map(
        lambda d: Case("receive_webhooks", {"operation": "receive_webhooks"}, [], deliveries=d)
    )


def _phone_cases() -> st.SearchStrategy[Case]:
    return gen.poll_request_ids().flatmap(_phone_case)


_PHONE_FLAGS = ("reveal_phone_number", "webhook_url")


def _phone_case(request_id: int) -> st.SearchStrategy[Case]:
    """people/match asked for phones answers `request_id`; the poll is answered with the payload."""

    def build(params: dict[str, Any], url: str, person: dict[str, Any], payload: dict[str, Any]) -> Case:
        asked = {**params, "reveal_phone_number": True, "webhook_url": url}
        answers = [
            _match_answer({"person": person, "request_id": request_id}),
            json_response(gen.poll_result(request_id, payload), "webhook_result.response"),
        ]
        return Case("people_match_phones", {"operation": "people_match_phones", "params": asked}, answers)

    return gen.persons("complete").flatmap(
        lambda person: st.builds(
            build,
            gen.match_params().map(
                lambda p: {k: v for k, v in p.items() if k not in ("reveal_phone_number", "webhook_url")}
            ),
            gen.webhook_urls(),
            st.just(person),
            gen.phone_payloads_for(person["id"], request_id),
        )
    )


def _same_person_redelivered() -> st.SearchStrategy[gen.Deliveries]:
    """Two phone payloads about one person, the first delivered again after the second."""

    def build(pair: tuple[dict[str, Any], dict[str, Any]]) -> gen.Deliveries:
        first, second = (gen.with_person_id(p, SAME_PERSON) for p in pair)
        return gen.Deliveries([first, second], [first, second, first])

    pairs = st.tuples(gen.phone_webhook_payloads(), gen.phone_webhook_payloads())
    return pairs.map(build).filter(lambda d: d.unique[0] != d.unique[1])


SAME_PERSON = "5f2a0c0a0c0a0c0a0c0a0c0a"


def _unverified(person: dict[str, Any]) -> dict[str, Any]:
    """`person` with an email whose status is one of Apollo's others than "verified"."""
    status = "extrapolated" if len(str(person.get("id"))) % 2 else "unavailable"
    return {**person, "email": person.get("email") or "ada.lovelace@apollo.io", "email_status": status}


def _thin_cases() -> st.SearchStrategy[Case]:
    """An email Apollo has no one for, answered with the thin person it creates (the email echoed)."""
    return gen.thin_persons().flatmap(
        lambda person: st.builds(
            lambda request_id: _match_case(
                {"email": person["email"]}, [_match_answer({"person": person, "request_id": request_id})]
            ),
            gen.request_ids(),
        )
    )


def _bare_answer() -> st.SearchStrategy[dict[str, Any]]:
    return _person_answer(gen.persons("bare"))


PROPERTIES: list[Property] = [
    Property(
        "match",
        "Any valid match answer: the client reports a match for the same person id, and every "
        "documented field it reports has Apollo's value (allowed normalisations aside), and so does "
        "every field it derives that the contract knows (email_verified, organization_name, ...).",
        lambda: _match_cases(gen.match_responses()),
        check_match,
        extremes=lambda: [
            _match_cases(_person_answer(gen.persons("longest"))),
            _match_cases(_bare_answer()),
            _match_cases(_person_answer(gen.persons("complete").map(_unverified))),
        ],
    ),
    Property(
        "no_match",
        '{"person": null}, or a stub person marked match_confidence: "none": the client reports no '
        "match, without an exception.",
        lambda: _match_cases(gen.no_match_responses()),
        check_no_match,
        extremes=lambda: [
            _match_cases(st.just({"person": None})),
            _match_cases(_person_answer(gen.stub_persons())),
        ],
    ),
    Property(
        "partial",
        "A partial person (keys left out, nulls, empty arrays, odd strings), the thin person of an "
        "unknown email first: no crash, a match for the same id (or no match for the thin person), and "
        "every reported value is Apollo's (what Apollo left out comes out as missing).",
        lambda: _match_cases(gen.partial_responses()),
        check_partial,
        extremes=lambda: [
            _thin_cases(),
            _match_cases(_bare_answer()),
            _match_cases(_person_answer(gen.persons("bare").map(_all_null))),
            _match_cases(_person_answer(gen.persons("longest"))),
        ],
    ),
    Property(
        "unauthorized",
        "401: reported as an auth failure and not retried (one request).",
        _error_cases(gen.unauthorized_responses()),
        check_not_retried("unauthorized"),
        max_examples=len(gen.UNAUTHORIZED_TEXTS),
        extremes=lambda: [_error_case(gen.unauthorized_response(t)) for t in gen.UNAUTHORIZED_TEXTS],
    ),
    Property(
        "forbidden",
        "403 API_INACCESSIBLE: reported as forbidden and not retried (one request).",
        _error_cases(gen.forbidden_responses()),
        check_not_retried("forbidden"),
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
        check_rate_limited,
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
        check_server_error,
        extremes=lambda: [
            _then_match(gen.truncated_responses(), False),
            _then_match(gen.server_error_responses(), True),
            _then_match(gen.connection_resets(), True),
            _then_match(gen.connection_resets(), False),
        ],
    ),
    Property(
        "timeouts",
        f"An answer that takes {gen.SLOW_ANSWER_SECONDS:g} s still succeeds; on a connection that hangs "
        f"the client gives up within {gen.LONGEST_READ_TIMEOUT:g} s (its read timeout), then reports "
        "an error or retries (the retry is answered).",
        _time_cases,
        check_time,
        max_examples=2,
        extremes=_time_extremes,
    ),
    Property(
        "valid_requests",
        "Every request validates against the request schema, carries the key in x-api-key, never "
        "puts api_key in the body or query, and the server receives exactly the parameters asked for "
        "(reserved and non-ASCII characters and webhook_url included).",
        lambda: st.one_of(_match_cases(gen.match_responses()), _match_cases(gen.no_match_responses())),
        check_valid_requests,
        extremes=lambda: [
            _match_cases(st.just({"person": None}), st.just(params)) for params in gen.AWKWARD_PARAMS
        ],
    ),
    Property(
        "bulk",
        "bulk_match: valid requests; the reported matches line up with the details, nulls included, "
        "with Apollo's values, whatever the counters say; two people who share a name stay two.",
        _bulk_cases,
        check_bulk,
        needs="bulk",
        extremes=lambda: [
            _bulk_cases("bare", st.just(10)),
            _zero_counter_cases(),
            _namesake_cases(),
            _repeated_detail_cases(),
            _bulk_cases("complete", st.just(1)),
        ],
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
        "delivery in order; every person of every payload (with or without request_id) leaves a trace.",
        _webhook_cases,
        check_webhooks,
        needs="webhook",
        extremes=lambda: [
            _webhook_cases(_same_person_redelivered()),
            _webhook_cases(gen.multi_person_deliveries(-1)),
            _webhook_cases(gen.unnumbered_deliveries()),
            _webhook_cases(gen.multi_person_deliveries(0)),
            _webhook_cases(gen.duplicated_deliveries()),
        ],
    ),
    Property(
        "request_ids",
        "people/match asked for phone numbers answers a request_id past 2**53; the client polls Poll "
        "Webhook Result with exactly that id, as written.",
        _phone_cases,
        check_phones,
        needs="phones",
        max_examples=3,
        extremes=lambda: [_phone_case(request_id) for request_id in gen.BIG_REQUEST_IDS],
    ),
    SEARCH_THEN_ENRICH,
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
