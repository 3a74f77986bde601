"""Request bodies and Apollo-shaped answers: `Reply` for asgi.py, Flask responses for the control API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from mock_server.domain.encoding import dumps, loads
from mock_server.domain.errors import FakeApolloError, MalformedRequest, UnsupportedMediaType
from mock_server.domain.service import Enrichment

if TYPE_CHECKING:  # Flask is imported by the functions that need it: serve starts without it
    from flask import Response

JSON_TYPE = "application/json"


@dataclass(slots=True)
class Reply:
    """An answer as bytes, before any server wraps it: what both Flask and asgi.py send."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A compact JSON answer, the way Apollo writes them."""
    return Reply(status, dumps(body), JSON_TYPE, headers if headers is not None else {})


def error_reply(error: FakeApolloError) -> Reply:
    """An error as it is sent: exact body, status, content type and headers."""
    return Reply(error.status, error.encoded_body(), error.content_type, dict(error.headers))


def flask_response(reply: Reply) -> Response:
    """A Reply as a Flask response."""
    from flask import Response

    response = Response(reply.body, status=reply.status, content_type=reply.content_type)
    if reply.headers:
        response.headers.update(reply.headers)
    return response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response, the way Apollo writes them."""
    return flask_response(json_reply(body, status, headers))


def error_response(error: FakeApolloError) -> Response:
    """An error as a Flask response."""
    return flask_response(error_reply(error))


def enrichment() -> Enrichment:
    """The Flask app's Enrichment service (in a control-API view)."""
    from flask import current_app

    service: Enrichment = current_app.extensions["fakeapollo"]
    return service


def read_body() -> dict[str, Any]:
    """The Flask request's body as a parameter mapping."""
    from flask import request

    return parse_body(request.get_data(cache=True), request.mimetype, request.content_type or "")


def parse_body(raw: bytes, mimetype: str, content_type: str) -> dict[str, Any]:
    """A request body as a parameter mapping: a JSON object, form fields, or nothing."""
    if not raw.strip():
        return {}
    if mimetype in ("", JSON_TYPE) or mimetype.endswith("+json"):
        return _parse_json(raw)
    if mimetype == "application/x-www-form-urlencoded":
        # `curl -d '{...}'` sends JSON under the form type; read it as JSON when it is JSON.
        if raw.lstrip()[:1] in (b"{", b"["):
            return _parse_json(raw)
        return dict(parse_qsl(_decode(raw), keep_blank_values=True))
    raise UnsupportedMediaType(content_type)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(f"The request body is not valid UTF-8 (byte {exc.start})") from exc


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        document = loads(raw)
    except ValueError:
        # orjson refused it: the standard parser names the problem (or accepts NaN as before).
        document = _parse_json_slowly(raw)
    if not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else "a " + type(document).__name__
        raise MalformedRequest(f"The request body must be a JSON object, got {kind}")
    return document


def _parse_json_slowly(raw: bytes) -> Any:
    try:
        return json.loads(_decode(raw))
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise MalformedRequest("The request body is nested too deeply") from exc
    except ValueError as exc:
        # Python refuses to convert integer literals of more than 4,300 digits (CVE-2020-10735).
        raise MalformedRequest("The request body holds an integer longer than 4,300 digits") from exc
