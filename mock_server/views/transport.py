"""Forced misbehaviour below the API: a held connection, a cut body, a reset socket."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Mapping
from typing import Any

from flask import Response


def truncate(response: Response) -> Response:
    """The same answer with its JSON body cut in half, as a dropped proxy connection leaves it."""
    data = response.get_data()
    response.set_data(data[: max(1, len(data) // 2)])
    return response


def hold_then_gateway_timeout(seconds: float) -> Response:
    """Hold the connection past a client's timeout (bounded), then answer a gateway's 504."""
    time.sleep(seconds)
    page = (
        "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
        "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return Response(page, status=504, content_type="text/html; charset=utf-8")


def reset_connection(environ: Mapping[str, Any]) -> Response:
    """Drop the client's connection with a TCP reset; the server's own write then fails quietly."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    response = Response(b"", status=200)
    response.headers["Connection"] = "close"
    return response
