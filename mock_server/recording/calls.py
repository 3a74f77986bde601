"""The one reading of a client's call that the recorder both costs and forwards.

The credit cap is only as good as the estimate, and the estimate is only as good as the recorder's
reading of the call matching the upstream's. So a call is read once, strictly, and what is forwarded
is written anew from that reading: a path with no dot segments, escapes or empty segments; a query
string and a body with one value per parameter; a body that is a JSON object sent as
`application/json`. What could be read two ways (a repeated parameter, a bracketed name, a parameter
in both the query and the body, a form body, a duplicate JSON key) is refused before anything is
reserved or sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from mock_server.domain.encoding import dumps
from mock_server.domain.errors import RecorderError

API_PREFIXES = ("/api/v1/", "/v1/")
# A path the recorder forwards: a prefix, then segments of letters, digits, `_` and `-` (ids included).
_PATH = re.compile(r"^/(api/)?v1(/[A-Za-z0-9_-]+)+$")
# A parameter name: Apollo's are snake case; `name[]` is an array (`domains[]=a&domains[]=b`).
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}(\[\])?$")
_CHARSET = re.compile(r"^charset=\"?utf-8\"?$", re.IGNORECASE)


class CallRefused(RecorderError):
    """400: the recorder cannot cost this call exactly, so it neither reserves nor forwards it."""

    status = 400

    def __init__(self, problem: str) -> None:
        super().__init__(
            {
                "error": f"fakeapollo record: {problem}; it was not sent to the upstream",
                "error_code": "RECORDING_CALL_REFUSED",
            }
        )


@dataclass(frozen=True)
class Call:
    """A client call as the recorder read it: what is costed, recorded and forwarded."""

    method: str
    path: str
    query: dict[str, str | list[str]]
    body: dict[str, Any] | None
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def params(self) -> dict[str, Any]:
        """Query and body parameters together (no name is in both)."""
        return {**self.query, **(self.body or {})}

    def header(self, name: str) -> str:
        """A request header's value by lower-case name, "" when absent."""
        return next((v for k, v in self.headers if k == name), "")

    def forwarded(self, webhook_url: str | None = None) -> tuple[str, bytes | None]:
        """The query string and body to send upstream, with `webhook_url` replaced when given."""
        query = dict(self.query)
        body = dict(self.body) if self.body is not None else None
        if webhook_url is not None:
            for side in (query, body):
                if side is not None and "webhook_url" in side:
                    side["webhook_url"] = webhook_url
        return urlencode(query, doseq=True), dumps(body) if body is not None else None


def read_call(
    method: str, raw_path: bytes, query_string: bytes, headers: list[tuple[str, str]], body: bytes
) -> Call:
    """The call, read once; CallRefused for anything that could be read two ways."""
    path = _path(raw_path)
    query = _query(query_string)
    document = _body(headers, body)
    if document is not None:
        both = sorted({_base(n) for n in query} & {_base(n) for n in document})
        if both:
            raise CallRefused(
                f"the parameter {both[0]!r} is in both the query string and the body (send it once)"
            )
    return Call(method=method, path=path, query=query, body=document, headers=headers)


def _path(raw_path: bytes) -> str:
    try:
        path = raw_path.decode("ascii")
    except UnicodeDecodeError:
        path = ""
    if not _PATH.match(path):
        raise CallRefused(
            f"the path {raw_path[:200].decode('latin-1')!r} is not one the recorder forwards: "
            "/api/v1/... or /v1/... with letters, digits, '_' and '-' between the slashes"
        )
    return path


def _query(query_string: bytes) -> dict[str, str | list[str]]:
    try:
        text = query_string.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeError, ValueError):
        raise CallRefused("the query string is not well formed (ASCII, name=value pairs)") from None
    return _one_value_each(pairs, "query string")


def _one_value_each(pairs: list[tuple[str, str]], where: str) -> dict[str, str | list[str]]:
    """Parameters with one value each; `name[]` collects a list. Repeats and other brackets refused."""
    params: dict[str, str | list[str]] = {}
    bases: set[str] = set()
    for name, value in pairs:
        if not _NAME.match(name):
            raise CallRefused(
                f"the {where} names a parameter {name[:80]!r}: the recorder forwards names of letters, "
                "digits and '_' (and 'name[]' for arrays); send nested values in a JSON body"
            )
        listed = params.get(name)
        if isinstance(listed, list):
            listed.append(value)
            continue
        if _base(name) in bases:
            raise CallRefused(
                f"the {where} gives {_base(name)!r} more than once (the upstream may read another)"
            )
        bases.add(_base(name))
        params[name] = [value] if name.endswith("[]") else value
    return params


def _base(name: str) -> str:
    """A parameter's name without the array mark: `domains[]` -> `domains`."""
    return name.removesuffix("[]")


def _body(headers: list[tuple[str, str]], body: bytes) -> dict[str, Any] | None:
    content_type = next((v for k, v in headers if k == "content-type"), None)
    encoding = next((v for k, v in headers if k == "content-encoding"), "identity")
    if encoding.strip().lower() != "identity":
        raise CallRefused(f"Content-Encoding {encoding[:40]!r} is not read by the recorder (send it plain)")
    if not body:
        return None
    media, *parameters = (content_type or "").split(";")
    if media.strip().lower() != "application/json" or not all(_CHARSET.match(p.strip()) for p in parameters):
        raise CallRefused(
            f"a body sent as {content_type!r}: the recorder forwards bodies sent as application/json only"
        )
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CallRefused(f"the body is not one JSON object ({_reason(exc)})") from None
    if not isinstance(document, dict):
        raise CallRefused("the body is not a JSON object")
    return document


class _Ambiguous(ValueError):
    """A JSON value that parsers read differently."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        repeated = next(n for n in names if names.count(n) > 1)
        raise _Ambiguous(f"the key {repeated[:80]!r} appears twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise _Ambiguous(f"{name} is not JSON")


def _reason(exc: Exception) -> str:
    if isinstance(exc, _Ambiguous):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return type(exc).__name__ if not isinstance(exc, json.JSONDecodeError) else exc.msg


def names_a_parameter(params: Mapping[str, Any], name: str) -> Any:
    """A parameter by name, or its array form (`domains` or `domains[]`)."""
    return params.get(name, params.get(f"{name}[]"))
