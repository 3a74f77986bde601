"""The inspector page at /__admin/ui/: plain HTML, JS and CSS shipped in the package, no CDN.

The page holds no secrets, so it is served without the admin token; its script asks for the token
when the control API answers 401 and sends it as `Authorization: Bearer <token>` on every call.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from mock_server.domain.scenarios import OUTCOMES
from mock_server.web.render import json_response

ASSETS = Path(__file__).resolve().parent / "static"


def blueprint() -> Blueprint:
    """The inspector page and its assets, under /__admin/ui/."""
    bp = Blueprint(
        "inspector",
        __name__,
        url_prefix="/__admin/ui",
        static_folder=str(ASSETS),
        static_url_path="/assets",
    )
    bp.add_url_rule("/", "page", page, methods=["GET"])
    bp.add_url_rule("/outcomes.json", "outcomes", outcomes, methods=["GET"])
    return bp


def page() -> Response:
    """The page itself; it loads its script and style from ./assets/."""
    response = send_from_directory(ASSETS, "index.html", mimetype="text/html")
    # Everything the page needs comes from this server: nothing else may load, nor frame it.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def outcomes() -> Response:
    """The outcomes a scenario may force, for the page's form."""
    return json_response({"outcomes": list(OUTCOMES)})
