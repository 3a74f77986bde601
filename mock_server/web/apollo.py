"""Apollo's own routes (people/match, bulk_match, organizations/enrich, usage stats), under /api/v1 and /v1.

`answer` is the one implementation; the Flask views and the ASGI application (web/asgi.py) adapt it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter

from mock_server.domain.errors import FakeApolloError, Unauthorized
from mock_server.domain.keys import ApiKey
from mock_server.domain.params import merge, parse_bulk, parse_match
from mock_server.domain.ratelimit import RateState
from mock_server.domain.scenarios import Outcome, OutcomeName, ScriptedResponse
from mock_server.domain.service import (
    ORGANIZATIONS_BULK_ENRICH,
    ORGANIZATIONS_ENRICH,
    PEOPLE_BULK_MATCH,
    PEOPLE_MATCH,
    PEOPLE_SHOW,
    USAGE_STATS,
    Enrichment,
    Receipt,
)
from mock_server.web import faults as transport
from mock_server.web.faults import Fault, FaultKind
from mock_server.web.render import JSON_TYPE, Reply, error_reply, flask_response, json_reply, parse_body

Operation = Callable[[Enrichment, ApiKey, dict[str, Any], Outcome | None, Receipt], dict[str, Any]]
# A body larger than this is parsed only once its x-api-key header is known; the journal keeps
# the first JOURNALED_PREFIX_BYTES of one that is not.
UNAUTHENTICATED_BODY_BYTES = 16 * 1024
JOURNALED_PREFIX_BYTES = 1024


@dataclass(slots=True)
class Call:
    """One request to an Apollo route, whichever server received it."""

    method: str
    path: str
    query: dict[str, Any]
    header_key: str | None
    scenario_header: str | None
    body: bytes
    mimetype: str
    content_type: str
    # The token of an `Authorization: Bearer` header (OAuth), and path parameters (people/{id}).
    bearer: str | None = None
    path_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Notes:
    """What the journal records of an Apollo call besides the request and the reply."""

    params: Any = None
    api_key: str | None = None
    outcome: Outcome | None = None
    rate: RateState | None = None
    receipt: Receipt = field(default_factory=Receipt)
    # Bytes of the request body the journal keeps (its parsed form in `params`).
    request_bytes: int = 0


def answer(
    service: Enrichment, endpoint: str, operation: Operation, call: Call, notes: Notes
) -> tuple[Reply, Fault | None]:
    """Run one Apollo operation with its forced outcome and rate-limit headers; errors as Apollo's.

    An answer that ends in an error (a 4xx or 5xx, or an exception, which becomes a 500) is not
    charged: the client got no data. The outcome is chosen once, here; what it does to the transport
    comes back as the `Fault` for the server to apply (it never waits or touches a socket itself).
    """
    try:
        reply, fault = _answer(service, endpoint, operation, call, notes)
    except FakeApolloError as error:
        reply, fault = error_reply(error), None
    except BaseException:
        service.refund(notes.receipt)
        raise
    if reply.status >= 400:
        service.refund(notes.receipt)
    return reply, fault


def _answer(
    service: Enrichment, endpoint: str, operation: Operation, call: Call, notes: Notes
) -> tuple[Reply, Fault | None]:
    bearer = None if call.header_key else call.bearer
    credential = call.header_key or bearer
    notes.api_key = credential
    if len(call.body) > UNAUTHENTICATED_BODY_BYTES and not service.keys.known(credential):
        # A large body is neither parsed nor journaled whole until its sender is known.
        notes.params = call.body[:JOURNALED_PREFIX_BYTES].decode("utf-8", "replace")
        raise Unauthorized(service.config.unauthorized_message)
    body = parse_body(call.body, call.mimetype, call.content_type)
    params = merge(call.query, body, body_wins=service.config.body_wins)
    params.update(call.path_params)
    notes.params = params
    notes.request_bytes = len(call.body)
    # Before a forced outcome can cost anything; `admit` counts the call of this same key.
    api_key = service.authenticate(call.header_key, params, bearer)
    if call.method == "HEAD":
        # Headers only: the key is checked, nothing is counted or charged.
        return Reply(200, b"", JSON_TYPE), None
    outcome = service.choose_outcome(call.path, credential, params, call.scenario_header)
    notes.outcome = outcome
    fault = None if outcome is None else _fault(outcome)
    if outcome is not None:
        if outcome.response is not None:
            return scripted_reply(outcome.response), None
        if fault is not None and fault.kind is FaultKind.HOLD:
            return transport.gateway_timeout(), fault
        if fault is not None and fault.kind is FaultKind.RESET:
            return Reply(200, b"", "text/plain"), fault
    rate = service.admit(endpoint, api_key, outcome)
    notes.rate = rate
    result = operation(service, api_key, params, outcome, notes.receipt)
    return json_reply(result, headers=rate.headers()), fault


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


Params = dict[str, Any]


def match(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """people/match."""
    return service.people_match(api_key, parse_match(params), outcome, receipt)


def bulk_match(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """people/bulk_match."""
    return service.bulk_match(api_key, parse_bulk(params), outcome, receipt)


def organization(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """organizations/enrich."""
    return service.organization_enrich(api_key, params, outcome, receipt)


def organizations(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """organizations/bulk_enrich."""
    return service.organizations_bulk_enrich(api_key, params, outcome, receipt)


def person(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """people/{id}."""
    return service.people_show(api_key, params, outcome, receipt)


def usage(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """usage_stats/api_usage_stats: free, and rate-limited like Apollo's other APIs."""
    return service.usage_stats(api_key)


# (route under the prefix, methods, endpoint name Apollo meters, operation)
ROUTES: tuple[tuple[str, tuple[str, ...], str, Operation], ...] = (
    ("/people/match", ("GET", "POST"), PEOPLE_MATCH, match),
    ("/people/bulk_match", ("POST",), PEOPLE_BULK_MATCH, bulk_match),
    ("/organizations/enrich", ("GET", "POST"), ORGANIZATIONS_ENRICH, organization),
    ("/organizations/bulk_enrich", ("POST",), ORGANIZATIONS_BULK_ENRICH, organizations),
    ("/people/<apollo_id:person_id>", ("GET",), PEOPLE_SHOW, person),
    ("/usage_stats/api_usage_stats", ("POST", "GET"), USAGE_STATS, usage),
)
PREFIXES = ("/api/v1", "/v1")


def enrichment() -> Enrichment:
    """The app's Enrichment service."""
    service: Enrichment = current_app.extensions["fakeapollo"]
    return service


def _flask_view(endpoint: str, operation: Operation) -> Callable[..., Response]:
    """A Flask view answering `endpoint` through `answer`; the journal reads its notes from `g`."""

    def view(**path_params: str) -> Response:
        call = Call(
            method=request.method,
            path=request.path,
            query=query_dict(request.args.items(multi=True)),
            header_key=request.headers.get("x-api-key"),
            bearer=bearer_token(request.headers.get("Authorization")),
            path_params=path_params,
            scenario_header=request.headers.get("X-Mock-Scenario"),
            body=request.get_data(cache=True),
            mimetype=request.mimetype,
            content_type=request.content_type or "",
        )
        notes = Notes()
        g.fakeapollo_notes = notes
        reply, fault = answer(enrichment(), endpoint, operation, call, notes)
        return flask_response(transport.apply_blocking(reply, fault, request.environ))

    return view


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def query_dict(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query parameters: the first value of each, and every value of an array one (`domains[]`)."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name.endswith("[]"):
            params.setdefault(name, []).append(value)
        else:
            params.setdefault(name, value)
    return params


class ApolloIdConverter(BaseConverter):
    """A path segment that is an Apollo id (24 hex digits): other words under people/ stay 404/405."""

    regex = "[0-9a-fA-F]{24}"


def _register_converter(state: BlueprintSetupState) -> None:
    """Make `<apollo_id:...>` known to the app before the blueprint's rules are added."""
    state.app.url_map.converters.setdefault("apollo_id", ApolloIdConverter)


def blueprint(name: str, prefix: str) -> Blueprint:
    """Apollo's routes under `prefix`; registered once for /api/v1 and once for /v1."""
    bp = Blueprint(name, __name__, url_prefix=prefix)
    bp.record_once(_register_converter)
    for route, methods, endpoint, operation in ROUTES:
        view_name = route.strip("/").replace("/", "_").replace("<apollo_id:", "").replace(">", "")
        bp.add_url_rule(route, view_name, _flask_view(endpoint, operation), methods=list(methods))
    return bp
