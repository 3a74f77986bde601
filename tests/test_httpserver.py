"""The HTTP/1.1 server behind `fakeapollo serve`, over real sockets: keep-alive, pipelining, limits."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import requests
from flask import Flask, Response, request

from mock_server import httpserver
from mock_server.httpserver import HttpRequest, HttpResponse, Server, bind_socket
from tests.conftest import ROOT, start_serve

SLOW_SECONDS = 0.2
SOCKET_TIMEOUT = 10


def make_app() -> Flask:
    app = Flask("httpserver_test")

    @app.route("/slow")
    def slow() -> str:
        time.sleep(SLOW_SECONDS)
        return "slow"

    @app.route("/constant")
    def constant() -> str:
        return "a static body"

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> dict[str, Any]:
        body = request.get_data(as_text=True)
        return {"method": request.method, "body": body, "query": request.query_string.decode()}

    @app.route("/environ/<path:rest>", methods=["GET", "POST"])
    def environ(rest: str) -> dict[str, Any]:
        keys = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                "CONTENT_LENGTH", "SERVER_PROTOCOL", "REMOTE_ADDR", "HTTP_X_TWICE", "HTTP_X_API_KEY",
                "wsgi.url_scheme", "wsgi.multithread", "wsgi.run_once")  # fmt: skip
        return {key: request.environ.get(key) for key in keys}

    @app.route("/reset")
    def reset() -> str:
        request.environ["fakeapollo.reset"]()
        return "never seen"

    @app.route("/chunked-header")
    def chunked_header() -> Response:
        response = Response(b"abc", headers={"Transfer-Encoding": "chunked", "X-Kept": "yes"})
        return response

    return app


def fast_handler(request: HttpRequest) -> HttpResponse | None:
    if request.path == "/fast":
        return HttpResponse(200, [("Content-Type", "text/plain")], b"fast")
    if request.path == "/fast-headers":
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(request.headers).encode())
    if request.path == "/boom":
        raise RuntimeError("the fast handler broke")
    return None


@contextmanager
def running(fast: httpserver.FastHandler | None = fast_handler, **options: Any) -> Iterator[Server]:
    """A Server on a free loopback port, served by a background thread until the block ends."""
    server = Server(make_app(), bind_socket("127.0.0.1", 0), fast=fast, threads=4, **options)
    ready = threading.Event()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"on_ready": lambda host, port: ready.set()}, daemon=True
    )
    thread.start()
    assert ready.wait(SOCKET_TIMEOUT)
    try:
        yield server
    finally:
        server.stop()
        thread.join(SOCKET_TIMEOUT)


def url(server: Server, path: str) -> str:
    host, port = server.address
    return f"http://{host}:{port}{path}"


@contextmanager
def connection(server: Server) -> Iterator[tuple[socket.socket, BinaryIO]]:
    sock = socket.create_connection(server.address, timeout=SOCKET_TIMEOUT)
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


def test_keep_alive_answers_two_requests_on_one_connection() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        first = read_response(stream)
        sock.sendall(b"GET /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        second = read_response(stream)
    assert first[0] == 200 and first[2] == b"fast"
    assert "connection" not in first[1] and "date" in first[1]
    assert second[0] == 200 and json.loads(second[2])["query"] == "a=1"


def test_pipelined_requests_are_answered_in_order_when_the_first_goes_to_the_pool() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        )
        bodies = [read_response(stream)[2] for _ in range(3)]
    assert bodies[0] == b"slow"
    assert bodies[1] == b"fast"
    assert json.loads(bodies[2])["body"] == "hi"


def test_http_1_0_closes_after_the_answer_unless_asked_to_keep_alive() -> None:
    with running() as server:
        with connection(server) as (sock, stream):
            sock.sendall(b"GET /fast HTTP/1.0\r\n\r\n")
            status, headers, _ = read_response(stream)
            assert status == 200 and headers["connection"] == "close"
            assert closed(stream)
        with connection(server) as (sock, stream):
            sock.sendall(b"GET /fast HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            assert "connection" not in read_response(stream)[1]
            sock.sendall(b"GET /fast HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            assert read_response(stream)[0] == 200


def test_connection_close_from_the_client_is_honoured() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = read_response(stream)
        assert status == 200 and headers["connection"] == "close"
        assert closed(stream)


@pytest.mark.parametrize("path", ["/fast", "/constant"])
def test_head_has_the_length_of_the_get_body_but_no_body(path: str) -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        _, _, get_body = read_response(stream)
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, _ = read_response(stream, head=True)
        # Nothing after the head: the next answer starts right away.
        sock.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        after = read_response(stream)
    assert status == 200
    assert int(headers["content-length"]) == len(get_body) > 0
    assert after[2] == b"fast"


def test_expect_100_continue_gets_continue_before_the_body_is_sent() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.readline() == b"\r\n"
        sock.sendall(b"hello")
        status, _, body = read_response(stream)
    assert status == 200 and json.loads(body)["body"] == "hello"


def test_continue_behind_a_request_in_the_pool_comes_after_its_answer() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        assert read_response(stream)[2] == b"slow"
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.readline() == b"\r\n"
        sock.sendall(b"hi")
        assert json.loads(read_response(stream)[2])["body"] == "hi"


def test_a_half_closed_client_still_gets_its_answer() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        assert read_response(stream)[2] == b"slow"
        assert read_response(stream)[2] == b"fast"
        assert closed(stream)


def test_an_error_behind_a_request_in_the_pool_comes_after_its_answer() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nnot http at all\r\n\r\n")
        assert read_response(stream)[:1] == (200,)
        assert read_response(stream)[0] == 400
        assert closed(stream)


def test_a_declared_body_over_the_limit_gets_413_without_being_read() -> None:
    with running(max_body_bytes=100) as server, connection(server) as (sock, stream):
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n")
        status, headers, body = read_response(stream)
        assert closed(stream)
    assert status == 413
    assert headers["connection"] == "close" and headers["content-type"] == "application/json"
    assert body == b'{"error":"Request body is larger than 100 bytes"}'


def test_a_chunked_body_over_the_limit_gets_413() -> None:
    with running(max_body_bytes=100) as server, connection(server) as (sock, stream):
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.sendall(b"64\r\n" + b"a" * 100 + b"\r\n1\r\nb\r\n0\r\n\r\n")
        status, _, body = read_response(stream)
    assert status == 413 and body == b'{"error":"Request body is larger than 100 bytes"}'


def test_a_body_over_the_limit_sent_whole_still_gets_the_413() -> None:
    with running(max_body_bytes=100) as server:
        response = requests.post(url(server, "/echo"), data=b"a" * 300_000, timeout=SOCKET_TIMEOUT)
    assert response.status_code == 413


def test_a_chunked_body_reaches_the_app_whole() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        sock.sendall(b"2\r\nde\r\n0\r\n\r\n")
        status, _, body = read_response(stream)
    assert status == 200 and json.loads(body)["body"] == "abcde"


def test_garbage_gets_400_json_and_the_connection_closes() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"\x16\x03\x01 hello there\r\n\r\n")
        status, headers, body = read_response(stream)
        assert closed(stream)
    assert status == 400 and headers["content-type"] == "application/json"
    assert list(json.loads(body)) == ["error"]
    assert json.loads(body)["error"].startswith("Malformed HTTP request: ")


def test_a_header_section_over_64_kib_gets_431() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /fast HTTP/1.1\r\n" + b"X-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
        status, _, body = read_response(stream)
    assert status == 431
    assert json.loads(body) == {"error": "Request header fields too large: the limit is 65536 bytes"}


def test_an_endless_header_line_gets_431_before_it_ends() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /fast HTTP/1.1\r\nX-Big: ")
        for _ in range(40):
            sock.sendall(b"a" * 8192)
        status, _, _ = read_response(stream)
    assert status == 431


def test_more_than_100_headers_get_400() -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(101))
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /fast HTTP/1.1\r\n" + many + b"\r\n")
        status, _, body = read_response(stream)
    assert status == 400
    assert json.loads(body) == {"error": "Too many request headers: the limit is 100"}


def test_the_fast_handler_answers_without_the_app_and_none_falls_through_to_it() -> None:
    with running() as server:
        fast = requests.get(url(server, "/fast"), timeout=SOCKET_TIMEOUT)
        through = requests.post(url(server, "/echo?x=%20y"), data=b"body", timeout=SOCKET_TIMEOUT)
    assert fast.text == "fast" and fast.headers["Content-Type"] == "text/plain"
    assert through.json() == {"method": "POST", "body": "body", "query": "x=%20y"}


def test_the_fast_handler_sees_lower_case_headers_with_repeats_joined() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /fast-headers HTTP/1.1\r\nHost: x\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n")
        _, _, body = read_response(stream)
    assert json.loads(body) == {"host": "x", "x-twice": "1, 2"}


def test_a_fast_handler_exception_gives_500_and_the_server_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="fakeapollo"), running() as server:
        with requests.Session() as session:
            broken = session.get(url(server, "/boom"), timeout=SOCKET_TIMEOUT)
            after = session.get(url(server, "/fast"), timeout=SOCKET_TIMEOUT)
    assert broken.status_code == 500 and broken.json() == {"error": "Internal Server Error"}
    assert after.status_code == 200
    assert "the fast handler broke" in caplog.text


def test_the_reset_callable_gives_the_client_a_connection_error() -> None:
    with running() as server:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url(server, "/reset"), timeout=SOCKET_TIMEOUT)
        assert requests.get(url(server, "/fast"), timeout=SOCKET_TIMEOUT).status_code == 200


def test_the_reset_is_a_tcp_reset() -> None:
    with running() as server, connection(server) as (sock, _):
        sock.sendall(b"GET /reset HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)


def test_the_environ_follows_pep_3333() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(
            b"POST /environ/caf%C3%A9%20x?q=a%20b&r HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 2\r\nX-Twice: 1\r\nX-Twice: 2\r\nX_Api_Key: smuggled\r\n\r\nhi"
        )
        _, _, body = read_response(stream)
    assert json.loads(body) == {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/environ/caf\u00c3\u00a9 x",  # UTF-8 bytes as latin-1, as PEP 3333 has it
        "QUERY_STRING": "q=a%20b&r",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_TWICE": "1,2",
        "HTTP_X_API_KEY": None,
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.run_once": False,
    }


def test_the_apps_transfer_encoding_is_dropped_and_its_length_not_repeated() -> None:
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /chunked-header HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = read_response(stream)  # read_response refuses a header sent twice
    assert status == 200 and body == b"abc"
    assert "transfer-encoding" not in headers and headers["x-kept"] == "yes"


def test_an_upgrade_request_with_a_body_is_answered_in_http_1_1() -> None:
    # What `curl --http2 -d ...` sends to an http:// URL.
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        first = read_response(stream)
        second = read_response(stream)
    assert first[0] == 200 and json.loads(first[2])["body"] == "abc"
    assert second[2] == b"fast"


def test_an_idle_connection_is_closed_after_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpserver, "IDLE_TIMEOUT", 0.2)
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(stream)[0] == 200
        assert closed(stream)


def test_an_unfinished_request_is_closed_after_the_request_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpserver, "REQUEST_TIMEOUT", 0.2)
    with running() as server, connection(server) as (sock, stream):
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert closed(stream)


def test_stopping_lets_a_request_in_the_pool_finish() -> None:
    server = Server(make_app(), bind_socket("127.0.0.1", 0), threads=2)
    finished: list[bool] = []
    ready = threading.Event()
    thread = threading.Thread(
        target=lambda: finished.append(server.serve_forever(lambda host, port: ready.set())), daemon=True
    )
    thread.start()
    assert ready.wait(SOCKET_TIMEOUT)
    with connection(server) as (sock, stream):
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(SLOW_SECONDS / 4)  # the request is in the pool
        server.stop()
        status, headers, body = read_response(stream)
    thread.join(SOCKET_TIMEOUT)
    assert (status, body, headers["connection"]) == (200, b"slow", "close")
    assert finished == [True]


def test_the_standard_asyncio_loop_serves_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpserver, "new_event_loop", asyncio.new_event_loop)
    with running(max_body_bytes=100) as server:
        with connection(server) as (sock, stream):
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
            assert [read_response(stream)[2] for _ in range(2)] == [b"slow", b"fast"]
        with connection(server) as (sock, _):
            sock.sendall(b"GET /reset HTTP/1.1\r\nHost: x\r\n\r\n")
            with pytest.raises(ConnectionResetError):
                sock.recv(100)
        too_large = requests.post(url(server, "/echo"), data=b"a" * 300_000, timeout=SOCKET_TIMEOUT)
        assert too_large.status_code == 413


def test_bind_socket_accepts_ipv6_literals() -> None:
    try:
        sock = bind_socket("::1", 0)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with sock:
        assert sock.family == socket.AF_INET6


# -- the `fakeapollo serve` command on this server ------------------------------------------------


def test_serve_refuses_a_port_in_use_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mock_server", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"fakeapollo: cannot start: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_shows_an_ipv6_address_in_brackets() -> None:
    try:
        bind_socket("::1", 0).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = start_serve("--host", "::1")
    try:
        assert server.url.startswith("http://[::1]:")
        assert requests.get(server.url + "/openapi.json", timeout=SOCKET_TIMEOUT).status_code == 200
    finally:
        assert server.stop() == 0


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


@pytest.mark.slow
def test_two_workers_share_state_and_a_dead_worker_is_replaced() -> None:
    server = start_serve("--workers", "2")
    try:
        with requests.Session() as session:
            for _ in range(6):  # new connections, so both workers answer some
                response = requests.post(
                    f"{server.url}/api/v1/people/match",
                    json={"email": "shared@workers.example"},
                    headers={"x-api-key": "test-key"},
                    timeout=SOCKET_TIMEOUT,
                )
                assert response.status_code == 200
            entries = session.get(f"{server.url}/__admin/requests", timeout=SOCKET_TIMEOUT).json()["requests"]
        assert len([e for e in entries if e["path"] == "/api/v1/people/match"]) == 6
        workers = _children(server.process.pid)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + SOCKET_TIMEOUT
        while time.monotonic() < deadline:
            now = _children(server.process.pid)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.05)
        assert len(now) == 2 and victim not in now
        for _ in range(4):
            assert requests.get(f"{server.url}/openapi.json", timeout=SOCKET_TIMEOUT).status_code == 200
    finally:
        assert server.stop() == 0
