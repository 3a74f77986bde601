"""The one pipeline of every Apollo operation: `answer()` turns a `Call` into a `Reply` (and a `Fault`).

It knows no server: the ASGI application (web/asgi.py) builds the `Call`, applies the fault and
writes the journal entry, over HTTP and in-process alike. The operations are in web/operations.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.errors import ApolloError, FakeApolloError, Unauthorized
from mock_server.domain.journal import names_secret
from mock_server.domain.params import merge
from mock_server.domain.ratelimit import RateState
from mock_server.domain.scenarios import Outcome, OutcomeName, ScriptedResponse
from mock_server.domain.service import Enrichment, Receipt
from mock_server.web import faults as transport
from mock_server.web.faults import Fault, FaultKind
from mock_server.web.operations import Operation
from mock_server.web.render import (
    Reply,
    apollo_error_reply,
    apollo_head_reply,
    apollo_reply,
    json_reply,
    parse_body,
)

log = logging.getLogger("fakeapollo")
# A body larger than this is parsed only once its x-api-key header is known; the journal keeps
# the first JOURNALED_PREFIX_BYTES of one that is not.
UNAUTHENTICATED_BODY_BYTES = 16 * 1024
JOURNALED_PREFIX_BYTES = 1024


@dataclass(slots=True)
class Parsed:
    """What a request's bytes say: the same for every identical request, so asgi.py keeps it for repeats.

    `request` is the operation's `parse` of the parameters, or `UNPARSED` when it refused them (the
    refusal is raised again at the handler's turn, after the key and the limits, as always).
    """

    params: dict[str, Any]
    request: Any
    # No parameter is named as a secret (`api_key`...): the key can be the call's one secret.
    plain: bool = False
    # Whether the request may name a webhook URL (asgi.py: then it is answered on a thread).
    hosts: bool = True


UNPARSED: Any = object()


@dataclass(slots=True)
class Call:
    """One request to an Apollo route, whichever server received it."""

    method: str
    path: str
    query: dict[str, Any]
    header_key: str | None
    scenario_header: str | None
    body: bytes
    content_type: str
    # The token of an `Authorization: Bearer` header (OAuth), and path parameters (people/{id}).
    bearer: str | None = None
    path_params: Mapping[str, str] = field(default_factory=dict)
    # The headers' characters when their one secret is one x-api-key header, else None (the journal's).
    keyed: int | None = None
    # The parsed body and parameters when this same request was answered before (asgi.py's memo).
    parsed: Parsed | None = None


@dataclass(slots=True)
class Notes:
    """What the journal records of an Apollo call besides the request and the reply."""

    params: Any = None
    api_key: str | None = None
    outcome: Outcome | None = None
    rate: RateState | None = None
    receipt: Receipt = field(default_factory=Receipt)
    # Admitted, and no parameter named as a secret: the journal may keep the call as it is.
    plain: bool = False
    # Bytes of the request body the journal keeps (its parsed form in `params`).
    request_bytes: int = 0


def answer(service: Enrichment, operation: Operation, call: Call, notes: Notes) -> tuple[Reply, Fault | None]:
    """Run one Apollo operation with its forced outcome and rate-limit headers; errors as Apollo's.

    An answer that ends in an error (a 4xx or 5xx, or an exception, which becomes a JSON 500) is not
    charged: the client got no data. The outcome is chosen once, here; what it does to the transport
    comes back as the `Fault` for the server to apply (it never waits or touches a socket itself).
    """
    try:
        reply, fault = _answer(service, operation, call, notes)
    except FakeApolloError as error:
        reply, fault = apollo_error_reply(error), None
    except Exception:
        log.exception("unexpected error answering %s %s", call.method, call.path)
        reply, fault = internal_error(), None
    except BaseException:
        service.refund(notes.receipt)
        raise
    if reply.status >= 400:
        service.refund(notes.receipt)
    return reply, fault


def _answer(
    service: Enrichment, operation: Operation, call: Call, notes: Notes
) -> tuple[Reply, Fault | None]:
    bearer = None if call.header_key else call.bearer
    credential = call.header_key or bearer
    notes.api_key = credential
    if len(call.body) > UNAUTHENTICATED_BODY_BYTES and not service.keys.known(credential):
        # A large body is neither parsed nor journaled whole until its sender is known.
        notes.params = call.body[:JOURNALED_PREFIX_BYTES].decode("utf-8", "replace")
        raise Unauthorized(service.config.unauthorized_message)
    parsed = call.parsed
    if parsed is None:
        parsed = call.parsed = parse(call, operation, body_wins=service.config.body_wins)
    params = parsed.params
    notes.params = params
    notes.request_bytes = len(call.body)
    # Before a forced outcome can cost anything; `admit` counts the call of this same key.
    api_key = service.authenticate(call.header_key, params, bearer)
    if api_key.key == credential:
        notes.api_key = api_key.key  # the registry's string: the journal may keep it for long
    if call.method == "HEAD":
        # Headers only: the key is checked, nothing is counted or charged.
        return apollo_head_reply(), None
    outcome = (
        service.choose_outcome(call.path, credential, params, call.scenario_header)
        if operation.forced_outcomes
        else None
    )
    notes.outcome = outcome
    fault = None if outcome is None else _fault(outcome)
    if outcome is not None:
        if outcome.response is not None:
            return scripted_reply(outcome.response), None
        if fault is not None and fault.kind is FaultKind.HOLD:
            return transport.gateway_timeout(), fault
        if fault is not None and fault.kind is FaultKind.RESET:
            return Reply(200, b"", "text/plain"), fault
    rate = service.admit(operation.endpoint, api_key, outcome)
    notes.rate = rate
    notes.plain = parsed.plain
    try:
        request = parsed.request
        if request is UNPARSED:
            assert operation.parse is not None
            request = operation.parse(params)  # raises the refusal at its turn
        result = operation.handler(service, api_key, request, outcome, notes.receipt)
    except ApolloError as error:
        if operation.limits_on_errors:
            error.headers.update(rate.headers())
        raise
    return apollo_reply(result, rate), fault


def parse(call: Call, operation: Operation, *, body_wins: bool) -> Parsed:
    """The call's parameters (query, body, path) and the operation's parse of them; 400/415 for a bad body."""
    mimetype = call.content_type.partition(";")[0].strip().lower()
    body = parse_body(call.body, mimetype, call.content_type)
    params = merge(call.query, body, body_wins=body_wins)
    params.update(call.path_params)
    plain = not names_secret(params)
    if operation.parse is None:
        return Parsed(params, params, plain)
    try:
        return Parsed(params, operation.parse(params), plain)
    except Exception:  # noqa: BLE001 - refused again, at the handler's turn
        return Parsed(params, UNPARSED, plain)


def internal_error() -> Reply:
    """What an unexpected exception becomes: a 500 in the emulator's JSON style, journaled like any answer."""
    return json_reply({"error": "Internal Server Error"}, 500)


def scripted_reply(response: ScriptedResponse) -> Reply:
    """A `respond` scenario's answer, exactly as it was queued."""
    return Reply(response.status, response.body, response.content_type, response.other_headers)


def _fault(outcome: Outcome) -> Fault | None:
    """What `slow`, `timeout`, `connection_reset` and `malformed_json` do to the transport."""
    name = outcome.name
    if name is OutcomeName.SLOW:
        return Fault(FaultKind.DELAY, outcome.number("delay_ms") / 1000)
    if name is OutcomeName.TIMEOUT:
        return Fault(FaultKind.HOLD, outcome.number("seconds"))
    if name is OutcomeName.CONNECTION_RESET:
        return Fault(FaultKind.RESET)
    if name is OutcomeName.MALFORMED_JSON:
        return Fault(FaultKind.TRUNCATE)
    return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def query_dict(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query parameters: the first value of each, and every value of an array one (`domains[]`).

    A bracketed name (`email[x]=...`, `details[][email]=...`) is read as Apollo's Rails reads it: an
    object under the name before the bracket, so a string parameter given that way is refused as an
    object and `api_key[x]` is an `api_key` in the query.
    """
    params: dict[str, Any] = {}
    for name, value in pairs:
        bracket = name.find("[")
        if name.endswith("[]") and bracket == len(name) - 2:
            params.setdefault(name, []).append(value)
        elif bracket > 0:
            nested = params.setdefault(name[:bracket], {})
            if isinstance(nested, dict):
                nested.setdefault(name[bracket:], value)
        else:
            params.setdefault(name, value)
    return params
