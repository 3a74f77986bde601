"""`fakeapollo serve`'s HTTP behaviour on uvicorn, over raw sockets: framing, limits, faults, refusals."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import requests
from flask import Flask, request

from mock_server.config import Config
from mock_server.pytest_plugin import LiveServer, start_live_server
from mock_server.web import inprocess, uvicorn_internals
from mock_server.web import server as server_module
from mock_server.web.app import create_app
from mock_server.web.server import bind_socket
from tests.conftest import start_serve

SLOW_SECONDS = 0.3
SOCKET_TIMEOUT = 10
MATCH = "/api/v1/people/match"


def add_test_routes(app: Flask) -> None:
    """Routes beside the emulator's own, answered through Flask like the control API."""

    @app.route("/test/slow")
    def slow() -> str:
        time.sleep(SLOW_SECONDS)
        return "slow"

    @app.route("/test/constant")
    def constant() -> str:
        return "a static body"

    @app.route("/test/echo", methods=["GET", "POST"])
    def echo() -> dict[str, Any]:
        body = request.get_data(as_text=True)
        return {"method": request.method, "body": body, "query": request.query_string.decode()}


@contextmanager
def running(**settings: Any) -> Iterator[LiveServer]:
    """The emulator, with the test routes, on a free loopback port until the block ends."""
    app = create_app(Config(**settings))
    add_test_routes(app)
    live = start_live_server(app)
    try:
        yield live
    finally:
        live.stop()


@contextmanager
def connection(live: LiveServer) -> Iterator[tuple[socket.socket, BinaryIO]]:
    host, _, port = live.url.removeprefix("http://").rpartition(":")
    sock = socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT)
    stream = sock.makefile("rb")
    try:
        yield sock, stream
    finally:
        stream.close()
        sock.close()


def read_response(stream: BinaryIO, head: bool = False) -> tuple[int, dict[str, str], bytes]:
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        assert name.lower() not in headers, f"{name} sent twice"
        headers[name.lower()] = value.strip()
    body = b"" if head else stream.read(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def closed(stream: BinaryIO) -> bool:
    return stream.read(1) == b""


def match_request(extra: bytes = b"", body: bytes = b'{"email": "ada@example.com"}') -> bytes:
    return (
        b"POST " + MATCH.encode() + b" HTTP/1.1\r\nHost: x\r\nx-api-key: test-key\r\n"
        b"Content-Type: application/json\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body
    )


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One emulator with the test routes for the tests that change no setting."""
    with running() as server:
        yield server


def test_keep_alive_answers_two_requests_on_one_connection(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(match_request())
        first = read_response(stream)
        sock.sendall(b"GET /test/echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        second = read_response(stream)
    assert first[0] == 200 and json.loads(first[2])["person"]["email"] == "ada@example.com"
    assert "connection" not in first[1] and "date" in first[1] and "server" not in first[1]
    assert second[0] == 200 and json.loads(second[2])["query"] == "a=1"


def test_pipelined_requests_are_answered_in_order(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(
            b"GET /test/slow HTTP/1.1\r\nHost: x\r\n\r\n"
            + match_request()
            + b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        )
        bodies = [read_response(stream)[2] for _ in range(3)]
    assert bodies[0] == b"slow"
    assert json.loads(bodies[1])["person"]["email"] == "ada@example.com"
    assert json.loads(bodies[2])["body"] == "hi"


def test_requests_arriving_together_on_eight_connections_each_get_their_answer(live: LiveServer) -> None:
    """Answers finished in one turn of the loop leave together (`TurnWrites`), each whole."""
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(connection(live)) for _ in range(8)]
        for n, (sock, _) in enumerate(opened):
            sock.sendall(match_request(body=b'{"email": "ada%d@example.com"}' % n))
        for n, (_, stream) in enumerate(opened):
            status, headers, body = read_response(stream)
            assert status == 200
            assert len(body) == int(headers["content-length"])
            assert json.loads(body)["person"]["email"] == f"ada{n}@example.com"


def test_http_1_0_closes_after_the_answer(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/1.0\r\nHost: x\r\n\r\n")
        assert stream.readline().startswith(b"HTTP/1.1 200")
        assert stream.read().endswith(b"a static body")


def test_connection_close_from_the_client_is_honoured(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"GET /test/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = read_response(stream)
        assert status == 200 and headers["connection"] == "close"
        assert closed(stream)


def test_head_has_the_length_of_the_get_body_but_no_body(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/1.1\r\nHost: x\r\n\r\n")
        _, _, get_body = read_response(stream)
        sock.sendall(b"HEAD /test/constant HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = read_response(stream, head=True)
        sock.sendall(b"GET /test/constant HTTP/1.1\r\nHost: x\r\n\r\n")  # nothing left after the head
        after = read_response(stream)
    assert status == 200
    assert int(headers["content-length"]) == len(get_body) > 0
    assert after[2] == b"a static body"


def test_head_on_people_match_checks_the_key_and_charges_nothing() -> None:
    with running() as live, connection(live) as (sock, stream):
        sock.sendall(
            b"HEAD /api/v1/people/match?email=ada@example.com HTTP/1.1\r\n"
            b"Host: x\r\nx-api-key: test-key\r\n\r\n"
        )
        status, _, _ = read_response(stream, head=True)
        sock.sendall(b"HEAD /api/v1/people/match HTTP/1.1\r\nHost: x\r\nx-api-key: nope\r\n\r\n")
        refused, _, _ = read_response(stream, head=True)
        after = requests.post(
            live.url + MATCH, json={"email": "ada@example.com"}, headers={"x-api-key": "test-key"}, timeout=10
        )
    assert (status, refused) == (200, 401)
    assert after.headers["x-minute-usage"] == "1"  # the HEAD was not counted
    journal = live.app.extensions["fakeapollo"].store.journal.entries()
    assert [(e.method, e.status, e.credits_charged) for e in journal] == [
        ("HEAD", 200, 0),
        ("HEAD", 401, 0),
        ("POST", 200, 1),
    ]


def test_expect_100_continue_gets_continue_before_the_body_is_sent(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(
            b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.readline() == b"\r\n"
        sock.sendall(b"hello")
        status, _, body = read_response(stream)
    assert status == 200 and json.loads(body)["body"] == "hello"


def test_a_declared_body_over_the_limit_gets_413_without_being_read() -> None:
    with running(max_body_bytes=100) as live, connection(live) as (sock, stream):
        sock.sendall(
            b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n"
        )
        status, headers, body = read_response(stream)
    assert status == 413 and headers["content-type"] == "application/json"
    assert body == b'{"error":"Request body is larger than 100 bytes"}'


def test_a_chunked_body_over_the_limit_gets_413() -> None:
    with running(max_body_bytes=100) as live, connection(live) as (sock, stream):
        sock.sendall(b"POST /api/v1/people/match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.sendall(b"64\r\n" + b"a" * 100 + b"\r\n1\r\nb\r\n0\r\n\r\n")
        status, _, body = read_response(stream)
    assert status == 413 and body == b'{"error":"Request body is larger than 100 bytes"}'


def test_a_body_over_the_limit_sent_whole_still_gets_the_413() -> None:
    with running(max_body_bytes=100) as live:
        response = requests.post(live.url + "/test/echo", data=b"a" * 300_000, timeout=SOCKET_TIMEOUT)
    assert response.status_code == 413


def test_a_chunked_body_reaches_the_app_whole(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        sock.sendall(b"2\r\nde\r\n0\r\n\r\n")
        status, _, body = read_response(stream)
    assert status == 200 and json.loads(body)["body"] == "abcde"


def test_garbage_gets_400_json_and_the_connection_closes(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"\x16\x03\x01 hello there\r\n\r\n")
        status, headers, body = read_response(stream)
        assert closed(stream)
    assert status == 400 and headers["content-type"] == "application/json"
    assert list(json.loads(body)) == ["error"]
    assert json.loads(body)["error"].startswith("Malformed HTTP request: ")


def test_a_header_section_over_64_kib_gets_431(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
        status, _, body = read_response(stream)
    assert status == 431
    assert json.loads(body) == {"error": "Request header fields too large: the limit is 65536 bytes"}


def test_an_endless_header_line_gets_431_before_it_ends(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/1.1\r\nX-Big: ")
        with pytest.raises(OSError):  # the server closes; a later write may be reset
            for _ in range(40):
                sock.sendall(b"a" * 8192)
            raise ConnectionResetError("all sent")
        status, _, _ = read_response(stream)
    assert status == 431


def test_more_than_100_headers_get_400(live: LiveServer) -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(101))
    with connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        status, _, body = read_response(stream)
    assert status == 400
    assert json.loads(body) == {"error": "Too many request headers: the limit is 100"}


def test_connection_reset_is_a_tcp_reset(live: LiveServer) -> None:
    with connection(live) as (sock, _):
        sock.sendall(match_request(b"X-Mock-Scenario: connection_reset\r\n"))
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
    assert requests.get(live.url + "/test/constant", timeout=SOCKET_TIMEOUT).status_code == 200


def test_a_key_sent_only_in_a_chunked_trailer_does_not_authenticate(live: LiveServer) -> None:
    body = b'{"email": "ada@example.com"}'
    with connection(live) as (sock, stream):
        sock.sendall(
            b"POST /api/v1/people/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nTrailer: x-api-key\r\n\r\n"
            + b"%x\r\n" % len(body)
            + body
            + b"\r\n0\r\nx-api-key: test-key\r\n\r\n"
        )
        status, _, answer = read_response(stream)
    assert (status, answer) == (401, b"Invalid access credentials.")


def test_a_scenario_header_in_a_trailer_is_not_honoured(live: LiveServer) -> None:
    body = b'{"email": "ada@example.com"}'
    with connection(live) as (sock, stream):
        sock.sendall(
            b"POST /api/v1/people/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"x-api-key: test-key\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(body)
            + body
            + b"\r\n0\r\nX-Mock-Scenario: server_error\r\n\r\n"
        )
        status, _, answer = read_response(stream)
    assert status == 200 and json.loads(answer)["person"]["email"] == "ada@example.com"


@pytest.mark.parametrize(
    ("head", "error"),
    [
        (b"GET /test/constant HTTP/1.1\r\n\r\n", "A request needs exactly one Host header, got 0"),
        (
            b"GET /test/constant HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "A request needs exactly one Host header, got 2",
        ),
        (b"GET /test/constant HTTP/1.0\r\n\r\n", "A request needs exactly one Host header, got 0"),
    ],
)
def test_a_request_without_exactly_one_host_gets_400(live: LiveServer, head: bytes, error: str) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(head)
        status, headers, body = read_response(stream)
    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body) == {"error": error}


def test_http_2_0_in_the_request_line_gets_400(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/2.0\r\nHost: x\r\n\r\n")
        status, _, body = read_response(stream)
    assert status == 400
    assert json.loads(body)["error"] in (
        "HTTP version 2.0 is not supported: send HTTP/1.1 or HTTP/1.0",
        "Malformed HTTP request: Invalid HTTP request received.",
    )


def test_a_gzip_transfer_coding_is_refused(live: LiveServer) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(
            b"POST /api/v1/people/match HTTP/1.1\r\nHost: x\r\nx-api-key: test-key\r\n"
            b"Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n"
        )
        status, _, body = read_response(stream)
    assert status == 400
    assert json.loads(body) == {
        "error": "Transfer-Encoding 'gzip, chunked' is not supported: send the body chunked"
        " or with a Content-Length, without other codings"
    }


def test_an_underscored_key_header_does_not_pose_as_x_api_key(live: LiveServer) -> None:
    for path in (MATCH, "/api/v1/webhook_result/1"):
        response = requests.get(live.url + path, headers={"X_Api_Key": "test-key"}, timeout=SOCKET_TIMEOUT)
        assert (response.status_code, response.text) == (401, "Invalid access credentials.")


def test_an_idle_connection_is_closed_after_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "IDLE_TIMEOUT", 1)
    with running() as live, connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(stream)[0] == 200
        assert closed(stream)
    with running() as live, connection(live) as (_, stream):
        assert closed(stream)  # never sent a request


def test_an_unfinished_request_is_closed_after_the_request_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvicorn_internals, "REQUEST_TIMEOUT", 0.2)
    with running() as live, connection(live) as (sock, stream):
        sock.sendall(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert closed(stream)


def test_each_request_on_a_kept_alive_connection_has_the_whole_request_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uvicorn_internals, "REQUEST_TIMEOUT", 0.4)
    with running() as live, connection(live) as (sock, stream):
        sock.sendall(b"GET /test/constant HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(stream)[0] == 200
        time.sleep(0.25)
        # Begun 0.25 s after the first: still arriving when 0.4 s have passed since the first began.
        sock.sendall(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        time.sleep(0.25)
        sock.sendall(b"defghij")
        assert read_response(stream)[0] == 200
        # The next one that stalls is still closed.
        sock.sendall(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert closed(stream)


def test_stopping_lets_a_request_in_flight_finish() -> None:
    with running() as live, connection(live) as (sock, stream):
        sock.sendall(match_request(b"X-Mock-Scenario: slow; delay_ms=500\r\n"))
        time.sleep(0.1)  # the request is waiting out its delay
        stopper = threading.Thread(target=live.stop)
        stopper.start()
        status, _, body = read_response(stream)
        stopper.join(SOCKET_TIMEOUT)
    assert status == 200 and json.loads(body)["person"]["email"] == "ada@example.com"


def test_bind_socket_accepts_ipv6_literals() -> None:
    try:
        sock = bind_socket("::1", 0)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with sock:
        assert sock.family == socket.AF_INET6


def test_apollo_answers_are_journaled_with_masked_keys_over_http(admin: str, base_url: str) -> None:
    sent = requests.post(
        f"{base_url}{MATCH}?reveal_personal_emails=true",
        json={"email": "ada@example.com"},
        headers={"x-api-key": "test-key"},
        timeout=10,
    )
    (entry,) = requests.get(f"{admin}/requests", params={"limit": 1}, timeout=10).json()["requests"]
    assert sent.status_code == entry["response"]["status"] == 200
    assert entry["path"] == MATCH and entry["method"] == "POST"
    assert entry["query"] == {"reveal_personal_emails": "true"}
    assert entry["body"] == {"email": "ada@example.com", "reveal_personal_emails": "true"}
    assert entry["headers"]["X-Api-Key"] == "t…y" and entry["api_key"] == "t…y"
    assert entry["credits_charged"] == 1
    assert entry["response"]["body"] == sent.json()


def test_requests_refused_before_their_body_is_read_are_journaled() -> None:
    with running(max_body_bytes=1024) as live:
        declared = requests.post(
            f"{live.url}{MATCH}?email=ada%40example.com",
            data=b"a" * 2000,
            headers={"x-api-key": "tset-key"},
            timeout=SOCKET_TIMEOUT,
        )
        with connection(live) as (sock, stream):
            sock.sendall(b"POST /v1/people/match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            sock.sendall(b"400\r\n" + b"a" * 1024 + b"\r\n1\r\nb\r\n0\r\n\r\n")
            chunked, _, _ = read_response(stream)
        # The control API's own refusals are not journaled, as none of its calls are.
        refused = requests.post(f"{live.url}/__admin/reset", data=b"a" * 2000, timeout=SOCKET_TIMEOUT)
        entries = requests.get(f"{live.url}/__admin/requests", timeout=SOCKET_TIMEOUT).json()["requests"]
    assert declared.status_code == chunked == refused.status_code == 413
    error = {"error": "Request body is larger than 1024 bytes"}
    assert [
        (e["method"], e["path"], e["response"]["status"], e["response"]["body"], e["api_key"], e["key_known"])
        for e in entries
    ] == [
        ("POST", MATCH, 413, error, "t…y", False),
        ("POST", "/v1/people/match", 413, error, None, None),
    ]
    assert entries[0]["input"] == "email=ada@example.com" and entries[0]["body"] is None


def test_a_body_over_the_limit_is_journaled_in_process_too() -> None:
    with inprocess.client(create_app(Config(max_body_bytes=1024)), api_key="test-key") as client:
        sent = client.post(MATCH, content=b"a" * 2000, headers={"Content-Type": "application/json"})
        (entry,) = client.get("/__admin/requests").json()["requests"]
    assert sent.status_code == entry["response"]["status"] == 413
    assert (entry["api_key"], entry["key_known"]) == ("t…y", True)


def _journal_size(live: LiveServer) -> int:
    """How many requests the journal holds, read over HTTP (so the control API still answers)."""
    answer = requests.get(live.url + "/__admin/requests", timeout=SOCKET_TIMEOUT)
    assert answer.status_code == 200
    return len(answer.json()["requests"])


def _send_ignoring_a_close(sock: socket.socket, data: bytes) -> None:
    """Send `data`; the server may already have closed the connection (a later write may be reset)."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


SMUGGLED = b"DELETE /__admin/requests HTTP/1.1\r\nHost: x\r\n\r\n"
UPGRADE_WITH_BODY = {
    "error": "A request with a body cannot ask to upgrade: send it without Connection: upgrade"
}


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        (b"Content-Length: %d" % len(SMUGGLED), SMUGGLED),
        (b"Transfer-Encoding: chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED)),
    ],
    ids=["content-length", "chunked"],
)
def test_a_request_with_a_body_asking_to_upgrade_is_refused_and_its_body_is_never_a_request(
    framing: bytes, body: bytes
) -> None:
    with running() as live:
        assert requests.post(live.url + MATCH, json={}, headers={"x-api-key": "test-key"}, timeout=10).ok
        with connection(live) as (sock, stream):
            sock.sendall(
                b"POST /api/v1/people/match HTTP/1.1\r\nHost: x\r\nx-api-key: test-key\r\n"
                b"Connection: Upgrade\r\nUpgrade: h2c\r\n" + framing + b"\r\n\r\n"
            )
            time.sleep(0.3)
            _send_ignoring_a_close(sock, body)
            status, headers, answer = read_response(stream)
            assert closed(stream)
        assert (status, headers["content-type"]) == (400, "application/json")
        assert json.loads(answer) == UPGRADE_WITH_BODY
        assert _journal_size(live) == 1
        assert requests.post(live.url + MATCH, json={}, headers={"x-api-key": "test-key"}, timeout=10).ok


@pytest.mark.parametrize("together", [False, True], ids=["body-later", "body-in-the-same-packet"])
def test_connect_is_refused_and_nothing_sent_after_it_runs(together: bool) -> None:
    with running() as live:
        assert requests.post(live.url + MATCH, json={}, headers={"x-api-key": "test-key"}, timeout=10).ok
        with connection(live) as (sock, stream):
            head = b"CONNECT /api/v1/people/match HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            if together:
                sock.sendall(head % len(SMUGGLED) + SMUGGLED + SMUGGLED)
            else:
                sock.sendall(head % len(SMUGGLED))
                time.sleep(0.3)
                _send_ignoring_a_close(sock, SMUGGLED)
            status, headers, body = read_response(stream)
            assert closed(stream)
        assert (status, headers["content-type"]) == (400, "application/json")
        assert json.loads(body) == {
            "error": "Method CONNECT is not supported: fakeapollo serves HTTP requests, not tunnels"
        }
        assert _journal_size(live) == 1
        assert requests.get(live.url + "/test/constant", timeout=SOCKET_TIMEOUT).text == "a static body"


def test_a_bodiless_request_asking_to_upgrade_is_answered_and_so_is_the_one_pipelined_behind_it(
    live: LiveServer,
) -> None:
    with connection(live) as (sock, stream):
        sock.sendall(
            b"GET /test/echo?first HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            b"POST /test/echo?second HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        )
        first, second = read_response(stream), read_response(stream)
    assert first[0] == 200 and json.loads(first[2]) == {"method": "GET", "body": "", "query": "first"}
    assert second[0] == 200 and json.loads(second[2]) == {"method": "POST", "body": "hi", "query": "second"}


def test_a_content_length_padded_with_thousands_of_zeros_is_read_as_its_number() -> None:
    body = b'{"email": "ada@example.com"}'
    padded = b"0" * 4400
    with running(max_body_bytes=100) as live:
        with connection(live) as (sock, stream):
            sock.sendall(match_request(body=body).replace(b"Content-Length: ", b"Content-Length: " + padded))
            status, _, answer = read_response(stream)
        assert status == 200 and json.loads(answer)["person"]["email"] == "ada@example.com"
        with connection(live) as (sock, stream):
            sock.sendall(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + padded + b"101\r\n\r\n")
            status, headers, answer = read_response(stream)
        assert (status, headers["content-type"]) == (413, "application/json")
        assert answer == b'{"error":"Request body is larger than 100 bytes"}'
        assert requests.get(live.url + "/test/constant", timeout=SOCKET_TIMEOUT).text == "a static body"


def test_a_connection_sending_only_blank_lines_is_closed_after_the_idle_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CRLFs llhttp skips before a request begin none: the connection stays idle."""
    monkeypatch.setattr(server_module, "IDLE_TIMEOUT", 1)
    with running() as live, connection(live) as (sock, stream):
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            _send_ignoring_a_close(sock, b"\r\n")
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                break
        assert closed(stream)
        assert requests.get(live.url + "/test/constant", timeout=SOCKET_TIMEOUT).text == "a static body"


def _rss_mib(pid: int) -> float:
    """The resident memory of process `pid`, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def test_a_client_that_pipelines_and_never_reads_cannot_fill_the_servers_memory() -> None:
    """Past 32 waiting requests the connection is read no more; it answers them all once read."""
    server = start_serve()
    try:
        host, _, port = server.url.removeprefix("http://").rpartition(":")
        before = _rss_mib(server.process.pid)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        request = (
            b"GET /api/v1/people/match?email=ada@example.com HTTP/1.1\r\n"
            b"Host: x\r\nx-api-key: load-test-key\r\n\r\n"
        )
        # Unbounded, the server queued all 30,000 (80 MiB more); bounded, they wait in the sockets' buffers.
        waiting = request * 30_000
        sock.setblocking(False)
        stuck_since = time.monotonic()
        while waiting and time.monotonic() - stuck_since < 1:
            try:
                waiting = waiting[sock.send(waiting) :]
                stuck_since = time.monotonic()
            except BlockingIOError:
                time.sleep(0.02)
        time.sleep(1)  # the server reads what it will
        grown = _rss_mib(server.process.pid) - before
        # The client reads at last: the requests not sent yet, then one more.
        sock.setblocking(True)
        sock.settimeout(60)
        ending = threading.Thread(target=sock.sendall, args=(waiting + request,))
        ending.start()
        stream = sock.makefile("rb")
        answers = [read_response(stream) for _ in range(30_001)]
        ending.join(SOCKET_TIMEOUT)
        stream.close()
        sock.close()
    finally:
        server.stop()
    assert grown < 40, f"the server grew by {grown:.0f} MiB"
    assert all(status == 200 for status, _, _ in answers)
    assert json.loads(answers[-1][2])["person"]["email"] == "ada@example.com"
