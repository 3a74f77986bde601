"""Reading request bodies and writing Apollo-shaped responses; shared by every blueprint."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from flask import Response, request

from mock_server.errors import ApolloError, BadRequest, UnsupportedMediaType

JSON_TYPE = "application/json"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response, the way Apollo writes them."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(text, status=status, mimetype=JSON_TYPE)
    if headers:
        response.headers.update(headers)
    return response


def error_response(error: ApolloError) -> Response:
    """An ApolloError as Apollo sends it: exact body, status, content type and headers."""
    if isinstance(error.body, str):
        response = Response(error.body, status=error.status, content_type=error.content_type)
        response.headers.update(error.headers)
        return response
    return json_response(error.body, error.status, error.headers)


def read_body() -> dict[str, Any]:
    """The request body as a parameter mapping: a JSON object, form fields, or nothing."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    mimetype = request.mimetype
    looks_like_json = raw.lstrip()[:1] in (b"{", b"[")
    if mimetype in ("", JSON_TYPE) or mimetype.endswith("+json"):
        return _parse_json(raw)
    if mimetype == "application/x-www-form-urlencoded":
        # `curl -d '{...}'` sends JSON under the form type; read it as JSON when it is JSON.
        if looks_like_json:
            return _parse_json(raw)
        return dict(parse_qsl(_decode(raw), keep_blank_values=True))
    raise UnsupportedMediaType(request.content_type or "")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The request body is not valid UTF-8 (byte {exc.start})") from exc


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(_decode(raw))
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise BadRequest("The request body is nested too deeply") from exc
    if not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else "a " + type(document).__name__
        raise BadRequest(f"The request body must be a JSON object, got {kind}")
    return document
