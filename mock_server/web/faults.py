"""Forced misbehaviour below the API: a delayed answer, a held connection, a cut body, a reset socket.

`answer()` decides a `Fault` once; the ASGI application (mock_server/web/asgi.py) applies it with
`await`, and resets through the hook its server puts in the scope (uvicorn's protocol, or the
in-process transport).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Callable
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


#: The waits in progress on each event loop, so a stopping server can end them (`release_holds`).
_HOLDS: dict[asyncio.AbstractEventLoop, set[asyncio.Event]] = {}


async def wait_or_leave(seconds: float, receive: Callable[[], Any]) -> None:
    """Wait `seconds` before answering; less when the client leaves or the server stops.

    Nobody is left to answer once the client has gone, and a stopping server answers at once
    instead of holding its shutdown (and cancelling the wait) for the rest of a long hold.
    """
    released = asyncio.Event()
    holds = _HOLDS.setdefault(asyncio.get_running_loop(), set())
    holds.add(released)

    async def client_left() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    waits = [asyncio.ensure_future(client_left()), asyncio.ensure_future(released.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        holds.discard(released)
        for waiting in waits:
            waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waits, return_exceptions=True)


def release_holds() -> None:
    """End every wait of `wait_or_leave` on the running event loop (the server is stopping)."""
    for released in list(_HOLDS.get(asyncio.get_running_loop(), ())):
        released.set()


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
