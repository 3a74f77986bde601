"""Request bodies and Apollo-shaped answers: `Reply` for asgi.py, Flask responses for the control API."""

from __future__ import annotations

import os
import random
import re
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from mock_server.domain.encoding import (
    NestedTooDeeply,
    NotDecodable,
    decode_text,
    dumps,
    loads,
    loads_strictly,
)
from mock_server.domain.errors import (
    ApolloError,
    FakeApolloError,
    GatewayError,
    MalformedRequest,
    UnsupportedMediaType,
)
from mock_server.domain.persons import Spliced
from mock_server.domain.ratelimit import RateState
from mock_server.domain.service import Enrichment

if TYPE_CHECKING:  # Flask is imported by the functions that need it: serve starts without it
    from flask import Response

JSON_TYPE = "application/json"
# docs/apollo-facts.md 3.4: what Apollo's own answers carry (its Rails application, recorded 2026-05-18).
APOLLO_JSON_TYPE = "application/json; charset=utf-8"
FRESH = "max-age=0, private, must-revalidate"
NOT_CACHED = "no-cache"
_M128 = (1 << 128) - 1
# An odd 128-bit constant (the golden ratio's bits): multiplying by it is a bijection modulo 2**128.
_SPREAD = 0x9E3779B97F4A7C15F39CC0605CEDC835
_ETAG_SPAN = 512
_UUID_RANDOM = ~(0xF << 76 | 0x3 << 62) & (1 << 128) - 1
_UUID4 = 0x4 << 76 | 0x2 << 62
# docs/apollo-facts.md 2.9: Ruby's JSON.parse, which Apollo's Rails application is taken to use with its
# defaults, refuses a document nested more than 100 arrays and objects deep.
MAX_BODY_DEPTH = 100
# A body nested past MAX_BODY_DEPTH has that many opening brackets and as many closing ones.
_DEPTH_BYTES = 2 * MAX_BODY_DEPTH
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNPAIRED = "The request body holds an unpaired surrogate (a \\ud800-\\udfff escape without its pair)"
# Transaction ids need to be unique, not secret: one generator seeded from the system at start.
_random = random.Random(os.urandom(16))


@dataclass(slots=True)
class Reply:
    """An answer as bytes, before any server wraps it: what both Flask and asgi.py send."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    # The JSON document `body` encodes, when the journal may keep it instead (`spliced`).
    document: Any = None


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A compact JSON answer, the way Apollo writes them."""
    return Reply(status, dumps(body), JSON_TYPE, headers if headers is not None else {})


def error_reply(error: FakeApolloError) -> Reply:
    """An error as it is sent: exact body, status, content type and headers."""
    return Reply(error.status, error.encoded_body(), error.content_type, dict(error.headers))


def apollo_reply(body: Any, rate: RateState) -> Reply:
    """A 200 of an Apollo operation with Apollo's headers (docs/apollo-facts.md 3.4).

    `Content-Type` with its charset, `cache-control` of a fresh answer, a weak `etag` of the body and
    a uuid4 `x-transaction-id`, around the rate-limit headers (`rate`'s) as the recordings order them.
    """
    encoded = dumps(body)
    headers = {"cache-control": FRESH, "etag": weak_etag(encoded)}
    if rate.windows:
        headers.update(rate.headers())
    headers["x-transaction-id"] = transaction_id()
    return Reply(200, encoded, APOLLO_JSON_TYPE, headers, body if spliced(body) else None)


def spliced(document: Any) -> bool:
    """Whether an answer's one large value is a cached person spliced in (`persons.Spliced`).

    The journal then keeps the document, a few references, and encodes it again when read (the
    same bytes), instead of holding every answer's kilobytes (bench/README.md, the hot path).
    """
    return isinstance(document, dict) and isinstance(document.get("person"), Spliced)


def apollo_head_reply() -> Reply:
    """A HEAD of an Apollo operation: a 200's headers without a body (and so without its etag)."""
    return Reply(200, b"", APOLLO_JSON_TYPE, {"cache-control": FRESH, "x-transaction-id": transaction_id()})


def apollo_error_reply(error: FakeApolloError) -> Reply:
    """An error as it is sent; Apollo's own (not a gateway's) with its charset and `no-cache`.

    The recorded 403 carries `cache-control: no-cache` and no etag or transaction id
    (docs/apollo-facts.md 3.4); Apollo's other errors are taken to be rendered alike.
    """
    reply = error_reply(error)
    if isinstance(error, ApolloError) and not isinstance(error, GatewayError):
        if reply.content_type == JSON_TYPE:
            reply.content_type = APOLLO_JSON_TYPE
        reply.headers = {"cache-control": NOT_CACHED, **reply.headers}
    return reply


def weak_etag(body: bytes) -> str:
    """`W/"<32 lowercase hex>"` from the body's length and the CRC-32 of its first and last 512 bytes.

    Apollo's is a digest of the whole body. A weak validator needs only to change when the body does,
    and Apollo's bodies differ at their ends (the record's id first, the request_id or counters
    last), so this reads at most 1 KiB of any body; one multiplication spreads the 64 bits over 128.
    """
    size = len(body)
    if size <= 2 * _ETAG_SPAN:
        checksum = zlib.crc32(body)
    else:
        checksum = zlib.crc32(body[-_ETAG_SPAN:], zlib.crc32(body[:_ETAG_SPAN]))
    spread = (checksum << 32 | size & 0xFFFFFFFF) * _SPREAD & _M128
    return f'W/"{spread ^ spread >> 67:032x}"'


def transaction_id() -> str:
    """A random uuid4, as Apollo's `x-transaction-id` is."""
    # Version 4 and the RFC 4122 variant in their places, the other 122 bits random.
    bits = _random.getrandbits(128) & _UUID_RANDOM | _UUID4
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


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
    """The Flask request's body (a control call's) as a parameter mapping."""
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
        return decode_text(raw)
    except NotDecodable as exc:
        raise MalformedRequest(f"The request body {exc}") from exc


def _parse_json(raw: bytes) -> dict[str, Any]:
    """The one reading of a JSON body: what Ruby's JSON.parse refuses is a 400 here too."""
    try:
        document = loads(raw)
    except ValueError:
        # orjson refused it: the standard parser names the problem or reads what orjson cannot
        # (an integer past a double's range), every value then checked.
        document = _parse_json_slowly(raw)
        _check_values(document)
    else:
        # orjson refuses NaN, infinities and unpaired surrogates itself; only depth is left to check,
        # and only a body with enough brackets can be too deep (a count of bytes, no walk).
        if len(raw) > _DEPTH_BYTES and raw.count(b"[") + raw.count(b"{") > MAX_BODY_DEPTH:
            _check_values(document)
    if not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else "a " + type(document).__name__
        raise MalformedRequest(f"The request body must be a JSON object, got {kind}")
    return document


def _parse_json_slowly(raw: bytes) -> Any:
    try:
        return loads_strictly(_decode(raw))
    except NestedTooDeeply as exc:
        raise _too_deep() from exc
    except NotDecodable as exc:
        raise MalformedRequest(f"The request body {exc}") from exc


def _check_values(document: Any) -> None:
    """Refuse a document nested past MAX_BODY_DEPTH or holding an unpaired surrogate (a lone escape)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.items()
        elif isinstance(value, list):
            children = ((None, item) for item in value)
        else:
            continue
        if depth > MAX_BODY_DEPTH:
            raise _too_deep()
        for key, item in children:
            for text in (key, item):
                if isinstance(text, str) and not text.isascii() and _SURROGATE.search(text):
                    raise MalformedRequest(_UNPAIRED)
            stack.append((item, depth + 1))


def _too_deep() -> MalformedRequest:
    return MalformedRequest(
        f"The request body is nested too deeply (more than {MAX_BODY_DEPTH} arrays and objects)"
    )
