"""Forced misbehaviour below the API: a delayed answer, a held connection, a cut body, a reset socket.

`answer()` decides a `Fault` once; whoever serves the request applies it: the ASGI application with
`await` (mock_server/web/asgi.py), Flask's in-process form by waiting on its own thread (`apply_blocking`).
"""

from __future__ import annotations

import enum
import socket
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.web.render import Reply

# The key under which the server puts a thread-safe `reset()` in the ASGI scope's extensions.
RESET_EXTENSION = "fakeapollo.reset"


class FaultKind(enum.Enum):
    """What happens to an answer on its way out."""

    DELAY = "delay"  # sent after `seconds`
    HOLD = "hold"  # the connection held `seconds`, then a gateway's 504 (the reply already is one)
    RESET = "reset"  # never sent: the connection is dropped with a TCP reset
    TRUNCATE = "truncate"  # the body cut in half, as a dropped proxy connection leaves it


@dataclass(frozen=True, slots=True)
class Fault:
    """A forced outcome's effect on the transport, chosen together with the reply."""

    kind: FaultKind
    seconds: float = 0.0

    @property
    def wait(self) -> float:
        """Seconds to wait before the answer goes out (0 when it goes at once)."""
        return self.seconds if self.kind in (FaultKind.DELAY, FaultKind.HOLD) else 0.0


def truncated(reply: Reply) -> Reply:
    """The reply with its body cut in half (at least one byte kept)."""
    return Reply(reply.status, reply.body[: max(1, len(reply.body) // 2)], reply.content_type, reply.headers)


def gateway_timeout() -> Reply:
    """The 504 page a load balancer answers when the app behind it never did."""
    page = (
        "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
        "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return Reply(504, page.encode(), "text/html; charset=utf-8")


def apply_blocking(reply: Reply, fault: Fault | None, environ: Mapping[str, Any]) -> Reply:
    """Apply `fault` on the calling thread (Flask's in-process form): wait, cut, or reset the socket."""
    if fault is None:
        return reply
    if fault.wait:
        time.sleep(fault.wait)
    if fault.kind is FaultKind.TRUNCATE:
        return truncated(reply)
    if fault.kind is FaultKind.RESET:
        _reset(environ)
        return Reply(200, b"", "text/plain", {"Connection": "close"})
    return reply


def _reset(environ: Mapping[str, Any]) -> None:
    """Reset the client's connection from a WSGI environ: uvicorn's hook, or Werkzeug's socket."""
    scope = environ.get("asgi.scope")
    extensions = scope.get("extensions") if isinstance(scope, dict) else None
    reset: Callable[[], None] | None = None
    if isinstance(extensions, dict):
        reset = extensions.get(RESET_EXTENSION)
    if reset is not None:
        reset()  # mock_server.web.server's protocol resets from its loop
        return
    # Werkzeug's development server (`flask run`) exposes its socket instead.
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
