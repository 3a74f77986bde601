"""Property test: the ASGI application (web/asgi.py) answers byte for byte as the Flask app does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.config import Config
from mock_server.web.app import create_app
from mock_server.web.asgi import Emulator

KEYS = ["test-key", "free-plan-key", "load-test-key", "no-such-key", ""]
EMAILS = ["ada@example.com", "x@nomatch.test", "p@partial.test", "e@eu.test", "tim@apollo.io", "not-an-email"]
ROUTES = [
    ("POST", "/api/v1/people/match"),
    ("GET", "/v1/people/match"),
    ("POST", "/api/v1/people/bulk_match"),
    ("GET", "/api/v1/organizations/enrich"),
    ("POST", "/api/v1/usage_stats/api_usage_stats"),
]
PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(EMAILS),
        "first_name": st.sampled_from(["Ada", "Zoë"]),
        "last_name": st.sampled_from(["Lovelace", "Müller"]),
        "domain": st.sampled_from(["acme.com", "nomatch.test", "https://www.Example.org/x"]),
        "reveal_personal_emails": st.sampled_from([True, "true", "maybe"]),
        "reveal_phone_number": st.sampled_from([True, False]),
        "webhook_url": st.sampled_from(["http://127.0.0.1:9/hook", "https://example.com/hook", "nope"]),
        "api_key": st.sampled_from(["test-key"]),
        "details": st.lists(st.fixed_dictionaries({"email": st.sampled_from(EMAILS)}), max_size=11),
    },
)


@dataclass
class Twins:
    """Two emulators built alike: one answered through Flask, the other through the ASGI application."""

    flask_app: Flask
    asgi_app: Flask
    asgi: Emulator


def call_asgi(
    app: Emulator, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request through the ASGI application, in-process: (status, headers, body)."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"host", b"x"), *((k.encode(), v.encode()) for k, v in headers.items())],
    }
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, *parts = sent
    named = [(k.decode(), v.decode()) for k, v in start["headers"]]
    return start["status"], named, b"".join(p.get("body", b"") for p in parts)


@pytest.fixture(scope="module")
def twins() -> Iterator[Twins]:
    """Twin emulators with their clocks frozen at the same instant (rate-limit resets agree)."""
    apps = create_app(Config(request_id_seed=0)), create_app(Config(request_id_seed=0))  # alike ids
    for app in apps:
        app.extensions["fakeapollo"].clock.freeze()
        app.extensions["fakeapollo"].clock.set(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC))
    yield Twins(apps[0], apps[1], Emulator(apps[1]))
    for app in apps:
        app.extensions["fakeapollo"].close()


def _body(params: dict[str, Any], encoding: str) -> tuple[bytes, str]:
    """The request body and its content type, in one of the forms clients send."""
    if encoding == "json":
        return json.dumps(params).encode(), "application/json"
    if encoding == "form":
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        return urlencode(flat).encode(), "application/x-www-form-urlencoded"
    if encoding == "broken":
        return b'{"email": ', "application/json"
    return b"email=a@b.c", "text/csv"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    params=PARAMS,
    key=st.sampled_from(KEYS),
    in_query=st.booleans(),
    encoding=st.sampled_from(["json", "json", "form", "broken", "csv"]),
)
def test_the_asgi_application_answers_exactly_what_flask_answers(
    twins: Twins, route: tuple[str, str], params: dict[str, Any], key: str, in_query: bool, encoding: str
) -> None:
    method, path = route
    query = urlencode({k: v for k, v in params.items() if isinstance(v, str)}) if in_query else ""
    body, content_type = _body(params, encoding) if method == "POST" else (b"", "")
    headers = {"content-type": content_type} if content_type else {}
    if key:
        headers["x-api-key"] = key

    expected = twins.flask_app.test_client().open(
        path, method=method, query_string=query, data=body, headers=headers
    )
    status, sent_headers, sent_body = call_asgi(twins.asgi, method, path, query, dict(headers), body)

    sent = dict(sent_headers)
    assert status == expected.status_code
    assert sent_body == expected.get_data()
    assert sent.pop("content-type") == expected.headers["Content-Type"]
    assert sent.pop("content-length") == expected.headers["Content-Length"]
    assert sent == {
        k.lower(): v for k, v in expected.headers.items() if k not in ("Content-Type", "Content-Length")
    }
    shown = [
        app.extensions["fakeapollo"].store.journal.entries(limit=1)[0].describe(datetime.isoformat)
        for app in (twins.flask_app, twins.asgi_app)
    ]
    for entry in shown:
        entry.pop("duration_ms")
        # The test client adds Host, User-Agent and Content-Length of its own.
        entry["headers"] = {k: v for k, v in entry["headers"].items() if k.lower() in headers}
        entry["response"]["headers"] = {k.lower(): v for k, v in entry["response"]["headers"].items()}
    assert shown[0] == shown[1]
