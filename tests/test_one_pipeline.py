"""Every Apollo operation goes through one pipeline: alike in-process and by HTTP, HEAD and arrays too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from route_helpers import SAMPLES, concrete

from mock_server.config import Config
from mock_server.domain.service import Enrichment
from mock_server.pytest_plugin import FakeApollo, LiveServer, start_live_server
from mock_server.web.app import create_app
from mock_server.web.operations import OPERATIONS, Operation

FORMS = ("http", "in-process")
# Query parameters a GET of each operation needs to be answered with a 200 or Apollo's 4xx.
GET_QUERIES: dict[str, dict[str, str]] = {
    "/people/match": {"email": "ada@example.com"},
    "/organizations/enrich": {"domain": "apollo.io"},
}


GET_OPERATIONS = [op for op in OPERATIONS if "GET" in op.methods]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One emulator, served on a loopback port, for this module."""
    server = start_live_server(create_app(Config()))
    yield server
    server.stop()


@pytest.fixture
def service(live: LiveServer) -> Iterator[Enrichment]:
    """The live emulator's service, reset around the test."""
    service: Enrichment = live.app.extensions["fakeapollo"]
    service.reset()
    yield service
    service.reset()


def client_for(live: LiveServer, form: str, api_key: str | None = "test-key") -> httpx.Client:
    """A client of the live emulator: over a socket, or in-process on the same application."""
    if form == "http":
        return httpx.Client(base_url=live.url, headers={"x-api-key": api_key} if api_key else {})
    return live.client(api_key)


@pytest.mark.parametrize("form", FORMS)
def test_an_array_query_is_journaled_as_every_value(live: LiveServer, service: Enrichment, form: str) -> None:
    with client_for(live, form) as client:
        answer = client.post(
            "/api/v1/organizations/bulk_enrich?domains[]=apollo.io&domains[]=acme.com&name=a&name=b"
        )
    assert answer.status_code == 200
    assert [o["primary_domain"] for o in answer.json()["organizations"]] == ["apollo.io", "acme.com"]
    (entry,) = service.store.journal.entries()
    assert entry.query == {"domains[]": ["apollo.io", "acme.com"], "name": "a"}


@pytest.mark.parametrize("form", FORMS)
def test_an_array_query_on_a_path_no_operation_serves_is_journaled_alike(
    live: LiveServer, service: Enrichment, form: str
) -> None:
    with client_for(live, form) as client:
        assert client.get("/api/v1/nowhere?domains[]=a&domains[]=b").status_code == 404
    (entry,) = service.store.journal.entries()
    assert entry.query == {"domains[]": ["a", "b"]}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("operation", GET_OPERATIONS, ids=lambda op: op.operation_id)
def test_head_checks_the_key_and_counts_nothing_on_every_route(
    live: LiveServer, service: Enrichment, form: str, operation: Operation
) -> None:
    query = GET_QUERIES.get(operation.path, {})
    with client_for(live, form) as client:
        path = concrete(operation)
        if operation.parameters:  # an id some answer carried, so the GET is a 200
            path = concrete(operation, samples=_real_ids(client))
            service.store.journal.clear()
        heads = [client.head(path, params=query) for _ in range(2)]
        refused = client.head(path, params=query, headers={"x-api-key": "no-such-key"})
        answer = client.get(path, params=query)
    assert [(h.status_code, h.content) for h in heads] == [(200, b"")] * 2
    assert refused.status_code == 401
    assert answer.headers["x-minute-usage"] == "1"  # neither HEAD was counted
    journal = service.store.journal.entries()
    assert [(e.method, e.status, e.credits_charged, e.rate_limit) for e in journal[:3]] == [
        ("HEAD", 200, 0, None),
        ("HEAD", 200, 0, None),
        ("HEAD", 401, 0, None),
    ]
    assert journal[3].method == "GET" and journal[3].status == answer.status_code


def _real_ids(client: httpx.Client) -> dict[str, str]:
    """Ids answers carried: a person's, an organization's, a contact's and an account's."""
    person = client.post("/api/v1/people/match", json={"email": "ada@example.com"}).json()["person"]
    contact = client.post("/api/v1/contacts", json={"email": "ada@example.com"}).json()["contact"]
    account = client.post("/api/v1/accounts", json={"domain": "example.com"}).json()["account"]
    ids = {
        "organization_id": account["organization_id"],
        "contact_id": contact["id"],
        "account_id": account["id"],
    }
    return {**SAMPLES, **ids, "id": person["id"]}


def test_two_heads_and_a_get_on_webhook_result_count_one_call(live: LiveServer, service: Enrichment) -> None:
    with client_for(live, "http") as client:
        client.head("/api/v1/webhook_result/42")
        client.head("/v1/webhook_result/42")
        answer = client.get("/api/v1/webhook_result/42")
    assert answer.status_code == 404
    assert answer.json() == {"error_code": "request_id_unknown"}
    assert answer.headers["x-minute-usage"] == "1"


@pytest.mark.parametrize("form", FORMS)
def test_a_method_an_operation_does_not_serve_gets_405_and_options_lists_them(
    live: LiveServer, service: Enrichment, form: str
) -> None:
    with client_for(live, form) as client:
        refused = client.delete("/api/v1/people/bulk_match")
        options = client.options("/v1/people/match")
    assert refused.status_code == 405
    assert refused.json() == {"error": "Method Not Allowed", "allowed_methods": ["OPTIONS", "POST"]}
    assert refused.headers["allow"] == "OPTIONS, POST"
    assert options.status_code == 200 and options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert [e.status for e in service.store.journal.entries()] == [405, 200]


@pytest.mark.parametrize("form", FORMS)
def test_a_path_that_is_not_an_apollo_id_is_no_route(
    live: LiveServer, service: Enrichment, form: str
) -> None:
    with client_for(live, form) as client:
        answer = client.get("/api/v1/people/not-an-id")
    assert answer.status_code == 404
    assert answer.json() == {"error": "No route for GET /api/v1/people/not-an-id"}


@pytest.mark.parametrize("form", FORMS)
def test_an_unexpected_exception_is_a_journaled_json_500(
    live: LiveServer, service: Enrichment, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service.directory, "find", broken)
    with client_for(live, form) as client:
        answer = client.post("/api/v1/people/match", json={"email": "ada@example.com"})
    assert answer.status_code == 500
    assert answer.json() == {"error": "Internal Server Error"}
    (entry,) = service.store.journal.entries()
    assert entry.status == 500 and entry.credits_charged == 0


def test_a_reset_connection_and_a_read_timeout_reach_the_in_process_client(
    live: LiveServer, service: Enrichment
) -> None:
    with live.client("test-key") as client:
        with pytest.raises(httpx.ReadError):
            client.get("/api/v1/people/match", headers={"X-Mock-Scenario": "connection_reset"})
        with pytest.raises(httpx.ReadTimeout):
            client.get(
                "/api/v1/people/match", headers={"X-Mock-Scenario": "timeout; seconds=0.5"}, timeout=0.05
            )
    deadline = time.monotonic() + 10
    while len(service.store.journal.entries()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the held answer finishes behind the client that gave up, as on a server
    assert [(e.scenario, e.status) for e in service.store.journal.entries()] == [
        ("connection_reset", 200),
        ("timeout", 504),
    ]


def test_fakeapollo_client_sends_the_handles_key_and_shares_the_servers_state(live: LiveServer) -> None:
    handle = FakeApollo(live)
    handle.reset()
    with handle.client() as client:
        answer = client.post("/api/v1/people/match", json={"email": "ada@example.com"})
    over_http = httpx.post(
        handle.api_url + "/people/match", json={"email": "ada@example.com"}, headers={"x-api-key": "test-key"}
    )
    assert answer.json()["person"] == over_http.json()["person"]
    assert over_http.headers["x-minute-usage"] == "2"  # one counter for both forms
    assert [e["api_key"] for e in handle.requests()] == ["t…y", "t…y"]
    handle.reset()


def test_held_answers_on_people_id_leave_the_control_api_and_openapi_answering() -> None:
    server = start_live_server(create_app(Config(threads=8)))
    path = "/api/v1/people/" + SAMPLES["id"]
    try:
        queued = httpx.post(
            server.url + "/__admin/scenarios",
            json={"outcome": "timeout", "params": {"seconds": 20}, "match": {"path": path}, "times": 10},
        )
        assert queued.status_code == 201, queued.text
        held: list[int] = []

        def hold() -> None:
            try:
                httpx.get(server.url + path, headers={"x-api-key": "test-key"}, timeout=30)
            except httpx.HTTPError:
                pass
            held.append(1)

        threads = [threading.Thread(target=hold, daemon=True) for _ in range(10)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while not _all_taken(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _all_taken(server), "the ten held requests did not arrive"
        openapi = httpx.get(server.url + "/openapi.json", timeout=5)
        journal = httpx.get(server.url + "/__admin/requests", timeout=5)
        assert openapi.status_code == 200 and openapi.json()["openapi"] == "3.1.0"
        assert journal.status_code == 200
        assert held == []  # all ten still held while both answered
    finally:
        server.stop()


def _all_taken(server: LiveServer) -> bool:
    """Whether the queued timeout scenario was used up: ten requests are being held."""
    return not server.app.extensions["fakeapollo"].store.scenarios.list()
