"""Apollo's failure answers: 401, 403, 400/422, 429 with every `Retry-After`, 5xx, broken bodies, faults."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import strategies as st

from contract_tests.strategies.answers import bulk_responses, match_responses
from contract_tests.strategies.canned import CannedResponse, json_response

RETRY_AFTER_SECONDS = 1


GATEWAY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
)
RATE_LIMIT_MESSAGE = (
    "The maximum number of api calls allowed for api/v1/people/{op} is {n} times per {window}. "
    "Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
)


#: Apollo's 401 texts: the live and the documented wording (docs/apollo-facts.md 2.4).
UNAUTHORIZED_TEXTS = [
    "Invalid access credentials.",
    "Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate.",
]
#: Apollo's 403 API_INACCESSIBLE messages (docs/apollo-facts.md 2.5).
FORBIDDEN_MESSAGES = [
    "api/v1/people/match is not accessible with this api_key",
    "The api/v1/people/match API is not included in your Free plan and is not accessible, "
    "even with a master key.",
    "This API key is not authorized to access api/v1/people/match. Request an API key from your "
    "administrator that includes this endpoint in its configured scope.",
]


def unauthorized_response(text: str) -> CannedResponse:
    """One of Apollo's 401s (text/plain)."""
    return CannedResponse(401, text=text, content_type="text/plain; charset=utf-8", schema="error.response")


def forbidden_response(message: str) -> CannedResponse:
    """One of Apollo's 403 API_INACCESSIBLE bodies."""
    return json_response({"error": message, "error_code": "API_INACCESSIBLE"}, "error.response", 403)


def unauthorized_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 401s: text/plain, in the live and the documented wording (docs/apollo-facts.md 2.4)."""
    return st.sampled_from(UNAUTHORIZED_TEXTS).map(unauthorized_response)


def forbidden_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 403 API_INACCESSIBLE bodies (docs/apollo-facts.md 2.5)."""
    return st.sampled_from(FORBIDDEN_MESSAGES).map(forbidden_response)


#: Apollo's 422 bodies (docs/apollo-facts.md 2.6); the out-of-credits one is fakeapollo's own (no source).
UNPROCESSABLE_BODIES: list[dict[str, Any]] = [
    {"error": "Parameters misconfigured - Not a valid ID"},
    {"error": "API key must be passed in the X-Api-Key header for security reasons"},
    {
        "status": "failed",
        "error_code": "UNKNOWN_ERROR",
        "error_message": "no implicit conversion of Symbol into Integer",
    },
    {
        "error": "Your team has run out of credits. Please upgrade your plan from"
        " https://app.apollo.io/#/settings/plans/upgrade.",
        "error_code": "INSUFFICIENT_CREDITS",
    },
]
#: Apollo's 400 bodies (docs/apollo-facts.md 2.3).
BAD_REQUEST_BODIES: list[dict[str, Any]] = [
    {"error": "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"},
    {
        "status": "failed",
        "error_code": "INVALID_REQUEST",
        "error_message": "invalid request, missing details",
    },
    {
        "status": "failed",
        "error_code": "RECORD_LIMIT_EXCEEDED",
        "error_message": "cannot enrich more than 10 in a single request",
    },
]


def unprocessable_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 422s (docs/apollo-facts.md 2.6), out of credits included."""
    return st.sampled_from(UNPROCESSABLE_BODIES).map(lambda b: json_response(b, "error.response", 422))


def client_error_list() -> list[CannedResponse]:
    """Every 4xx answer no retry fixes: 400s, the 403 for the key's scope, 422s (out of credits too)."""
    return [
        json_response(UNPROCESSABLE_BODIES[3], "error.response", 422),
        *(json_response(b, "error.response", 400) for b in BAD_REQUEST_BODIES),
        forbidden_response(FORBIDDEN_MESSAGES[2]),
        *(json_response(b, "error.response", 422) for b in UNPROCESSABLE_BODIES[:3]),
    ]


def client_error_responses() -> st.SearchStrategy[CannedResponse]:
    """4xx answers that no retry fixes: 400, 403 for the key's scope, 422 (out of credits included)."""
    return st.sampled_from(client_error_list())


#: How `Retry-After` may come: absent, 0, 1 s, large (a client should report, not sleep an hour), or
#: an HTTP date (RFC 9110 10.2.3; filled in when the case starts, `RETRY_AFTER_DATE_SECONDS` ahead).
RETRY_AFTER_FORMS = ("absent", "0", str(RETRY_AFTER_SECONDS), "3600", "date")
RETRY_AFTER_DATE_SECONDS = 2.0


def rate_limited_responses(
    operation: str = "match", retry_after: str | None = None
) -> st.SearchStrategy[CannedResponse]:
    """Apollo's 429 with the rate-limit headers (docs/apollo-facts.md 2.7, 3.1) and `Retry-After` in any form.

    `retry_after` picks one of `RETRY_AFTER_FORMS`; by default it is `RETRY_AFTER_SECONDS`.
    """
    form = retry_after or str(RETRY_AFTER_SECONDS)
    if form not in RETRY_AFTER_FORMS:
        raise ValueError(f"retry_after must be one of {RETRY_AFTER_FORMS}")

    def build(n: int, window: str, details: bool) -> CannedResponse:
        body: dict[str, Any] = {"message": RATE_LIMIT_MESSAGE.format(op=operation, n=n, window=window)}
        if details:
            body["error_details"] = {"code": "USAGE.RATE_LIMIT.API_RATE_LIMIT_EXCEEDED"}
        headers = {"x-rate-limit-minute": str(n), "x-minute-usage": str(n), "x-minute-requests-left": "0"}
        if form not in ("absent", "date"):
            headers = {"Retry-After": form, **headers}
        response = json_response(body, "error.response", 429, **headers)
        if form == "date":
            return dataclasses.replace(response, retry_after_date=RETRY_AFTER_DATE_SECONDS)
        return response

    return st.builds(
        build, st.sampled_from([50, 200, 600, 1000]), st.sampled_from(["minute", "hour"]), st.booleans()
    )


def server_error_responses() -> st.SearchStrategy[CannedResponse]:
    """5xx answers: Apollo's JSON 500 and a load balancer's HTML 502/503/504 pages."""
    pages = st.sampled_from(
        [(502, "Bad Gateway"), (503, "Service Temporarily Unavailable"), (504, "Gateway Time-out")]
    )
    return st.one_of(
        st.just(json_response({"error": "Internal Server Error"}, None, 500)),
        pages.map(
            lambda p: CannedResponse(
                p[0],
                text=GATEWAY_PAGE.format(status=p[0], reason=p[1]),
                content_type="text/html; charset=utf-8",
            )
        ),
    )


def truncated_responses(
    documents: st.SearchStrategy[dict[str, Any]] | None = None,
) -> st.SearchStrategy[CannedResponse]:
    """A 200 whose JSON body (a match answer by default) was cut short, as a dropped proxy leaves it."""

    def cut(document: dict[str, Any], fraction: float) -> CannedResponse:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        end = max(1, min(len(text) - 1, int(len(text) * fraction)))
        return CannedResponse(200, text=text[:end], content_type="application/json")

    return st.builds(cut, documents if documents is not None else match_responses(), st.floats(0.05, 0.95))


#: bulk_match's failure envelopes (docs/apollo-facts.md 2.3, 2.6): `{"status": "failed", ...}`, 400 or 422.
FAILED_BULK = [(400, BAD_REQUEST_BODIES[1]), (400, BAD_REQUEST_BODIES[2]), (422, UNPROCESSABLE_BODIES[2])]


def bulk_error_responses() -> st.SearchStrategy[CannedResponse]:
    """bulk_match failures: 401, 403, 429 (Retry-After 0), 5xx, a truncated body, `status: failed`."""
    return st.one_of(
        unauthorized_responses(),
        forbidden_responses(),
        rate_limited_responses("bulk_match", "0"),
        server_error_responses(),
        truncated_responses(bulk_responses(2)),
        st.sampled_from(FAILED_BULK).map(lambda f: json_response(f[1], "error.response", f[0])),
    )


#: The time budget: an answer this slow must still succeed (a client's read timeout must be longer).
SLOW_ANSWER_SECONDS = 1.5


def slow_responses(answers: st.SearchStrategy[CannedResponse]) -> st.SearchStrategy[CannedResponse]:
    """`answers` sent after `SLOW_ANSWER_SECONDS`: within the budget a client must wait out."""
    return answers.map(lambda r: dataclasses.replace(r, fault="slow", delay=SLOW_ANSWER_SECONDS))


#: The longest per-request read timeout a client may use: a connection that has not answered by
#: then must be given up on (and may be retried).
LONGEST_READ_TIMEOUT = 30.0
#: How long the emulator holds a hung connection: past this, a client that is still waiting has no
#: read timeout within `LONGEST_READ_TIMEOUT`.
HANG_SECONDS = LONGEST_READ_TIMEOUT + 5.0


def hung_responses() -> st.SearchStrategy[CannedResponse]:
    """A connection that does not answer: the client must give up on it on its own (and may retry)."""
    return st.just(HUNG)


#: The hung connection (held `HANG_SECONDS`, then a gateway's 504).
HUNG = CannedResponse(504, text="", content_type="text/plain", fault="hang", delay=HANG_SECONDS)
#: A connection dropped with a TCP reset instead of an answer.
RESET = CannedResponse(0, text="", content_type="text/plain", fault="reset")


def connection_resets() -> st.SearchStrategy[CannedResponse]:
    """A connection reset instead of an answer: a network error the client reports or retries."""
    return st.just(RESET)


def error_responses() -> st.SearchStrategy[CannedResponse]:
    """Every kind of failure answer: 401, 403, 422, 429, 5xx and a truncated body."""
    return st.one_of(
        unauthorized_responses(),
        forbidden_responses(),
        client_error_responses(),
        rate_limited_responses(),
        server_error_responses(),
        truncated_responses(),
    )
