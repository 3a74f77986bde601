"""Apollo's own routes (people/match, bulk_match, organizations/enrich), under /api/v1 and /v1."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from mock_server.keys import ApiKey
from mock_server.params import merge, parse_bulk, parse_match
from mock_server.scenarios import Outcome
from mock_server.service import (
    ORGANIZATIONS_ENRICH,
    PEOPLE_BULK_MATCH,
    PEOPLE_MATCH,
    USAGE_STATS,
    Enrichment,
    Receipt,
)
from mock_server.views import transport
from mock_server.views.http import json_response, read_body

Operation = Callable[[Enrichment, ApiKey, dict[str, Any], Outcome | None, Receipt], dict[str, Any]]
# A forced `slow` answer waits at most this long; `timeout` holds the connection this long by default.
MAX_SLOW_MS = 30_000


def enrichment() -> Enrichment:
    """The app's Enrichment service."""
    service: Enrichment = current_app.extensions["fakeapollo"]
    return service


def _params() -> dict[str, Any]:
    """Query string and JSON body merged; which wins is a setting (body by default)."""
    query = request.args.to_dict(flat=True)
    params = merge(query, read_body(), body_wins=enrichment().config.body_wins)
    g.fakeapollo_params = params
    return params


def _serve(endpoint: str, operation: Operation) -> Response:
    """Run one Apollo operation with its forced outcome, rate-limit headers and journal notes."""
    service = enrichment()
    header_key = request.headers.get("x-api-key")
    g.fakeapollo_api_key = header_key
    params = _params()
    outcome = service.choose_outcome(request.path, header_key, params, request.headers.get("X-Mock-Scenario"))
    g.fakeapollo_outcome = outcome
    if outcome is not None:
        early = _transport_outcome(outcome)
        if early is not None:
            return early
    api_key, rate = service.admit(endpoint, header_key, params, outcome)
    g.fakeapollo_rate = rate
    receipt = Receipt()
    g.fakeapollo_receipt = receipt
    body = operation(service, api_key, params, outcome, receipt)
    response = json_response(body, headers=rate.headers())
    if outcome is not None and outcome.name == "malformed_json":
        return transport.truncate(response)
    return response


def _transport_outcome(outcome: Outcome) -> Response | None:
    """Answer `slow`, `timeout` and `connection_reset` before any work; None for the rest."""
    if outcome.name == "slow":
        time.sleep(outcome.number("delay_ms", 1_000, low=0, high=MAX_SLOW_MS) / 1000)
    elif outcome.name == "timeout":
        return transport.hold_then_gateway_timeout(outcome.number("seconds", 30, low=0, high=120))
    elif outcome.name == "connection_reset":
        return transport.reset_connection(request.environ)
    return None


def people_match() -> Response:
    """POST/GET people/match."""
    return _serve(PEOPLE_MATCH, lambda s, k, p, o, r: s.people_match(k, parse_match(p), o, r))


def people_bulk_match() -> Response:
    """POST people/bulk_match."""
    return _serve(PEOPLE_BULK_MATCH, lambda s, k, p, o, r: s.bulk_match(k, parse_bulk(p), o, r))


def organizations_enrich() -> Response:
    """GET organizations/enrich."""
    return _serve(ORGANIZATIONS_ENRICH, lambda s, k, p, o, r: s.organization_enrich(k, p, o))


def usage_stats() -> Response:
    """POST usage_stats/api_usage_stats: free, and rate-limited like Apollo's other APIs."""
    return _serve(USAGE_STATS, lambda s, k, p, o, r: s.usage_stats(k))


def blueprint(name: str, prefix: str) -> Blueprint:
    """Apollo's routes under `prefix`; registered once for /api/v1 and once for /v1."""
    bp = Blueprint(name, __name__, url_prefix=prefix)
    bp.add_url_rule("/people/match", "people_match", people_match, methods=["GET", "POST"])
    bp.add_url_rule("/people/bulk_match", "people_bulk_match", people_bulk_match, methods=["POST"])
    bp.add_url_rule("/organizations/enrich", "organizations_enrich", organizations_enrich, methods=["GET"])
    bp.add_url_rule("/usage_stats/api_usage_stats", "usage_stats", usage_stats, methods=["POST", "GET"])
    return bp
