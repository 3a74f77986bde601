"""Routes about the emulator itself: the OpenAPI document and a landing answer."""

from __future__ import annotations

from flask import Blueprint, Response

from mock_server import __version__
from mock_server.web.render import json_response

bp = Blueprint("meta", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document generated from schemas/."""
    from mock_server.web.openapi import build_openapi

    return json_response(build_openapi())


@bp.get("/")
def index() -> Response:
    """What this server is and where its description lives."""
    return json_response({"name": "fakeapollo", "version": __version__, "openapi": "/openapi.json"})
