"""Poll Webhook Result under /api/v1 and /v1, and the webhook control API under /__admin/webhooks."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from mock_server.domain.errors import PollError
from mock_server.web.admin import protect
from mock_server.web.apollo import Notes, bearer_token, enrichment
from mock_server.web.render import json_response

# The endpoint name Apollo meters and scopes polling under (docs/apollo-facts.md 4.1).
WEBHOOK_RESULT = "api/v1/webhook_result/show"


def webhook_result(request_id: str) -> Response:
    """GET webhook_result/<request_id>: the stored payload and its delivery state; free, rate-limited."""
    service = enrichment()
    header_key = request.headers.get("x-api-key")
    bearer = None if header_key else bearer_token(request.headers.get("Authorization"))
    params = request.args.to_dict(flat=True)
    notes = Notes(params=params, api_key=header_key or bearer)
    g.fakeapollo_notes = notes
    api_key = service.authenticate(header_key, params, bearer)
    rate = service.admit(WEBHOOK_RESULT, api_key, None)
    notes.rate = rate
    try:
        body = service.webhooks.poll(request_id, api_key.team)
    except PollError as error:
        error.headers.update(rate.headers())
        raise
    return json_response(body, headers=rate.headers())


def blueprint(name: str, prefix: str) -> Blueprint:
    """The poll route under `prefix`; registered once for /api/v1 and once for /v1."""
    bp = Blueprint(name, __name__, url_prefix=prefix)
    bp.add_url_rule("/webhook_result/<request_id>", "webhook_result", webhook_result, methods=["GET"])
    return bp


def list_deliveries() -> Response:
    """Every delivery and its attempts, oldest first; `?request_id=` and `?status=` filter."""
    args = request.args
    deliveries = enrichment().webhooks.deliveries(
        request_id=args.get("request_id") or None, status=args.get("status") or None
    )
    return json_response({"deliveries": deliveries})


def flush_deliveries() -> Response:
    """Send everything pending now, whatever its due time; answers with the deliveries."""
    attempts = enrichment().webhooks.flush()
    return json_response({"flushed": attempts, "deliveries": enrichment().webhooks.deliveries()})


def admin_blueprint(admin_token: str | None) -> Blueprint:
    """The webhook control API; the same `Authorization: Bearer <admin token>` rule as /__admin/."""
    bp = Blueprint("admin_webhooks", __name__, url_prefix="/__admin/webhooks")
    protect(bp, admin_token)

    bp.add_url_rule("", "deliveries", list_deliveries, methods=["GET"])
    bp.add_url_rule("/flush", "flush", flush_deliveries, methods=["POST"])
    return bp
