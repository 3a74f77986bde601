"""Forced misbehaviour below the API: a held connection, a cut body, a reset socket."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Mapping
from typing import Any

from mock_server.views.http import Reply


def truncate(body: bytes) -> bytes:
    """An answer's JSON body cut in half, as a dropped proxy connection leaves it."""
    return body[: max(1, len(body) // 2)]


def hold_then_gateway_timeout(seconds: float) -> Reply:
    """Hold the connection past a client's timeout (bounded), then answer a gateway's 504."""
    time.sleep(seconds)
    page = (
        "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
        "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return Reply(504, page.encode(), "text/html; charset=utf-8")


def reset_connection(environ: Mapping[str, Any]) -> Reply:
    """Drop the client's connection with a TCP reset; the answer returned is never seen."""
    reset = environ.get("fakeapollo.reset")
    if callable(reset):
        reset()  # mock_server.httpserver resets from its loop and discards the answer
    else:
        # Werkzeug's development server (`flask run`) exposes its socket instead.
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    return Reply(200, b"", "text/plain", {"Connection": "close"})
