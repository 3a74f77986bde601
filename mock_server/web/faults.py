"""Forced misbehaviour below the API: a delayed answer, a held connection, a cut body, a reset socket.

`answer()` decides a `Fault` once; the ASGI application (mock_server/web/asgi.py) applies it with
`await`, and resets through the hook its server puts in the scope (uvicorn's protocol, or the
in-process transport).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

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
