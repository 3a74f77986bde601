"""Property test: a request to any Apollo operation is answered and journaled alike in-process and by HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from route_helpers import REFUSED_SAMPLES, SAMPLES, concrete

from mock_server.config import Config
from mock_server.domain.service import Enrichment
from mock_server.pytest_plugin import LiveServer, start_live_server
from mock_server.web.app import create_app
from mock_server.web.operations import OPERATIONS, PREFIXES

KEYS = ["test-key", "free-plan-key", "load-test-key", "no-such-key", ""]
EMAILS = ["ada@example.com", "x@nomatch.test", "p@partial.test", "e@eu.test", "tim@apollo.io", "not-an-email"]
# Every operation under both prefixes, every method it serves (HEAD included) and one it does not.
ROUTES = [
    (method, concrete(op, prefix, samples))
    for op in OPERATIONS
    for prefix in PREFIXES
    for method in (*op.allowed, "DELETE")
    for samples in ((SAMPLES, REFUSED_SAMPLES) if op.parameters else (SAMPLES,))
]
PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(EMAILS),
        "first_name": st.sampled_from(["Ada", "Zoë"]),
        "domain": st.sampled_from(["acme.com", "nomatch.test", "https://www.Example.org/x"]),
        "reveal_personal_emails": st.sampled_from([True, "true", "maybe"]),
        "reveal_phone_number": st.sampled_from([True, False]),
        "webhook_url": st.sampled_from(["http://127.0.0.1:9/hook", "https://example.com/hook", "nope"]),
        "api_key": st.sampled_from(["test-key"]),
        "details": st.lists(st.fixed_dictionaries({"email": st.sampled_from(EMAILS)}), max_size=11),
    },
)
# Query strings as clients write them: arrays, repeated names, blanks.
EXTRA_QUERIES = st.sampled_from(
    ["", "domains[]=apollo.io&domains[]=acme.com", "email=a@b.c&email=d@e.f", "domains[]=", "name=&name=x"]
)


@dataclass
class Twins:
    """Two emulators built alike: one driven over HTTP, the other in-process, with a client each."""

    http: LiveServer
    inprocess: LiveServer
    over_http: httpx.Client
    in_process: httpx.Client


@pytest.fixture(scope="module")
def twins() -> Iterator[Twins]:
    """Twin emulators with their clocks frozen at the same instant (rate-limit resets agree)."""
    servers = [start_live_server(create_app(Config(request_id_seed=0))) for _ in range(2)]
    for server in servers:
        service: Enrichment = server.app.extensions["fakeapollo"]
        service.clock.freeze()
        service.clock.set(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC))
    with httpx.Client(base_url=servers[0].url) as over_http, servers[1].client() as in_process:
        yield Twins(*servers, over_http, in_process)
    for server in servers:
        server.stop()


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


def _last_entry(server: LiveServer, sent: dict[str, str]) -> dict[str, Any]:
    """The server's latest journal entry, without what differs between two servers by nature."""
    service: Enrichment = server.app.extensions["fakeapollo"]
    entry = service.store.journal.entries(limit=1)[0].describe(datetime.isoformat)
    entry.pop("duration_ms")
    entry.pop("sequence", None)
    # Each server keys its fingerprints with a secret of its own: only whether there is one compares.
    entry["key_fingerprint"] = entry["key_fingerprint"] is not None
    entry["headers"] = {k: v for k, v in entry["headers"].items() if k.lower() in sent}
    entry["response"]["headers"] = _comparable(entry["response"]["headers"])
    return entry


def _comparable(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers without the date, and with whether (not which) a random transaction id came."""
    kept = {k.lower(): v for k, v in headers.items() if k.lower() != "date"}
    if "x-transaction-id" in kept:
        kept["x-transaction-id"] = "<uuid4>"
    return kept


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    params=PARAMS,
    key=st.sampled_from(KEYS),
    in_query=st.booleans(),
    extra_query=EXTRA_QUERIES,
    encoding=st.sampled_from(["json", "json", "form", "broken", "csv"]),
)
def test_in_process_answers_exactly_what_http_answers(
    twins: Twins,
    route: tuple[str, str],
    params: dict[str, Any],
    key: str,
    in_query: bool,
    extra_query: str,
    encoding: str,
) -> None:
    method, path = route
    query = urlencode({k: v for k, v in params.items() if isinstance(v, str)}) if in_query else ""
    query = "&".join(part for part in (query, extra_query) if part)
    body, content_type = _body(params, encoding) if method == "POST" else (b"", "")
    headers = {"content-type": content_type} if content_type else {}
    if key:
        headers["x-api-key"] = key
    target = path + ("?" + query if query else "")

    expected = twins.over_http.request(method, target, content=body, headers=headers)
    got = twins.in_process.request(method, target, content=body, headers=headers)

    assert got.status_code == expected.status_code
    assert got.content == expected.content
    assert _comparable(got.headers) == _comparable(expected.headers)
    assert _last_entry(twins.inprocess, headers) == _last_entry(twins.http, headers)
