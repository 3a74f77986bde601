"""The webhook control API under /__admin/webhooks: deliveries with their attempts, and flushing them."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mock_server.web.admin import protect
from mock_server.web.render import enrichment, json_response


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
