"""The contract runner's connection to the control API: reused, opened again when the server drops it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from contract_tests.control_http import ControlConnection, ControlUnreachable


@pytest.fixture
def forgetful_server() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback server that answers one request per connection (keep-alive promised), then hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                request = connection.recv(65_536)
                if not request:
                    continue
                seen.append(request.split(b"\r\n", 1)[0])
                body = b'{"n": %d}' % len(seen)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/prefix/__admin", seen
    finally:
        listener.close()


def test_a_connection_the_server_dropped_is_opened_again_and_the_call_sent_once_more(
    forgetful_server: tuple[str, list[bytes]],
) -> None:
    url, seen = forgetful_server
    control = ControlConnection(url, {"Authorization": "Bearer t"})
    assert control.request("GET", "/requests", params={"api_key": "a b"}) == (200, b'{"n": 1}')
    assert control.request("DELETE", "/keys/k-1", params={"scenarios": "true"}) == (200, b'{"n": 2}')
    assert seen == [
        b"GET /prefix/__admin/requests?api_key=a+b HTTP/1.1",
        b"DELETE /prefix/__admin/keys/k-1?scenarios=true HTTP/1.1",
    ]
    control.close()


def test_no_server_is_control_unreachable() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ControlUnreachable, match="ConnectionRefusedError"):
        ControlConnection(f"http://127.0.0.1:{port}/__admin", {}).request("GET", "/scenarios")
    with pytest.raises(ControlUnreachable, match="not an http"):
        ControlConnection("ftp://127.0.0.1/__admin", {})
