"""uvicorn's internals that fakeapollo relies on (web/uvicorn_internals.py) are there, as expected."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

from mock_server.web import uvicorn_internals
from mock_server.web.uvicorn_internals import (
    RELIED_ON,
    HttpProtocol,
    Internal,
    PipelineFlow,
    ServerWithBanner,
    Supervisor,
    TurnTransport,
    TurnWrites,
    changes,
)


def test_every_uvicorn_internal_fakeapollo_relies_on_is_as_expected() -> None:
    found = changes()
    assert not found, f"uvicorn {uvicorn.__version__} changed what fakeapollo relies on:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (HttpProtocol, HttpToolsProtocol),
        (PipelineFlow, FlowControl),
        (ServerWithBanner, uvicorn.Server),
        (Supervisor, Multiprocess),
    ],
)
def test_every_uvicorn_method_overridden_is_listed(ours: type, theirs: type) -> None:
    overridden = {name for name in vars(ours) if callable(getattr(theirs, name, None)) and name != "__doc__"}
    listed = {internal.name for internal in RELIED_ON if internal.owner is theirs}
    assert overridden <= listed


def test_no_other_module_imports_uvicorns_internals() -> None:
    from pathlib import Path

    package = Path(uvicorn_internals.__file__).parents[1]
    importers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "uvicorn_internals.py"
        and ("uvicorn.protocols" in (text := path.read_text()) or "uvicorn.supervisors" in text)
    ]
    assert importers == []


class Changed:
    """A stand-in for a uvicorn class after an upgrade."""

    def __init__(self) -> None:
        self.other = 1

    def on_header(self, name: bytes, value: bytes, extra: Any) -> None:
        """Takes one more parameter than before."""

    def startup(self) -> None:
        """No longer async."""


def _named(internal: Internal) -> str:
    return f"{__name__}.Changed.{internal.name}"


def test_a_method_that_is_gone_is_named() -> None:
    gone = Internal(Changed, "on_url", ("url",), why="limit a request's head")
    assert changes((gone,)) == [f"{_named(gone)}: gone (used to limit a request's head)"]


def test_a_method_whose_parameters_changed_is_named() -> None:
    changed = Internal(Changed, "on_header", ("name", "value"), why="drop trailers")
    expected = f"{_named(changed)}: parameters are now (name, value, extra), not (name, value)"
    assert changes((changed,)) == [expected]


def test_a_method_no_longer_async_is_named() -> None:
    changed = Internal(Changed, "startup", (), coroutine=True, why="announce once listening")
    assert changes((changed,)) == [
        f"{_named(changed)}: no longer a coroutine function (used to announce once listening)"
    ]


def test_an_attribute_no_longer_set_is_named() -> None:
    unset = Internal(Changed, "loop", set_in="__init__", why="schedule timers")
    assert changes((unset,)) == [f"{_named(unset)}: no longer set in __init__() (used to schedule timers)"]
    assert changes((Internal(Changed, "other", set_in="__init__"),)) == []


def test_the_protocol_sets_what_is_relied_on_at_run_time() -> None:
    """The attributes, checked on a protocol uvicorn builds, not only in its source."""
    config = uvicorn.Config(app=_app, http=HttpProtocol, log_config=None)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        from uvicorn.server import ServerState

        protocol = HttpProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        for internal in RELIED_ON:
            if internal.owner is HttpToolsProtocol and internal.set_in == "__init__":
                assert hasattr(protocol, internal.name), internal.name
    finally:
        loop.close()


class Recorded(asyncio.Transport):
    """A connection's transport that records what reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.events.append(("write", bytes(data)))

    def close(self) -> None:
        self.events.append(("close", b""))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing


def test_writes_wait_for_the_end_of_the_loops_turn_and_leave_in_one_write_a_connection() -> None:
    first, second = Recorded(), Recorded()

    async def turn() -> tuple[list[Any], list[Any]]:
        writes = TurnWrites(asyncio.get_running_loop())
        one, two = TurnTransport(first, writes), TurnTransport(second, writes)
        one.write(b"HTTP/1.1 200 OK\r\n\r\n")
        two.write(bytearray(b"second's answer"))
        one.write(b"first's body")
        during = (list(first.events), list(second.events))
        await asyncio.sleep(0)  # the turn ends
        return during

    assert asyncio.run(turn()) == ([], [])
    assert first.events == [("write", b"HTTP/1.1 200 OK\r\n\r\nfirst's body")]
    assert second.events == [("write", b"second's answer")]


def test_closing_sends_what_waits_first_and_a_closed_connections_bytes_are_dropped() -> None:
    open_one, gone = Recorded(), Recorded()

    async def turn() -> None:
        writes = TurnWrites(asyncio.get_running_loop())
        closing, dropped = TurnTransport(open_one, writes), TurnTransport(gone, writes)
        closing.write(b"last answer")
        closing.close()
        dropped.write(b"too late")
        gone.closing = True  # the client left before the turn ended
        await asyncio.sleep(0)

    asyncio.run(turn())
    assert open_one.events == [("write", b"last answer"), ("close", b"")]
    assert gone.events == []


class Broken(Recorded):
    """A connection whose writes fail."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        raise RuntimeError("the socket is gone")

    def abort(self) -> None:
        self.events.append(("abort", b""))


def test_a_connection_whose_write_fails_is_dropped_and_the_others_still_get_their_answers() -> None:
    broken, fine = Broken(), Recorded()

    async def turn() -> None:
        writes = TurnWrites(asyncio.get_running_loop())
        TurnTransport(broken, writes).write(b"lost")
        TurnTransport(fine, writes).write(b"kept")
        await asyncio.sleep(0)

    asyncio.run(turn())
    assert broken.events == [("abort", b"")]
    assert fine.events == [("write", b"kept")]


async def _app(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI application that is never called."""


class Served(Recorded):
    """A client's connection as the protocol sees it: addresses, and reading it can be paused."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8765), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _answer_ok(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI application that answers every request 200 `ok`."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_kept_alive_connection_answers_many_requests_with_one_timer() -> None:
    """One timer for the connection; uvicorn's own protocol sets one after every answer."""
    from uvicorn.server import ServerState

    config = uvicorn.Config(app=_answer_ok, http=HttpProtocol, log_config=None, lifespan="off")
    config.load()
    loop = asyncio.new_event_loop()
    timers: list[float] = []
    schedule = loop.call_later

    def counted(delay: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        timers.append(delay)
        return schedule(delay, callback, *args)

    loop.call_later = counted  # type: ignore[method-assign,assignment]
    connection = Served()

    async def talk() -> None:
        protocol = HttpProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        protocol.connection_made(connection)
        for _ in range(20):
            protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            for _ in range(5):  # the answer's task, then the end of the turn
                await asyncio.sleep(0)
        protocol.connection_lost(None)

    try:
        loop.run_until_complete(talk())
    finally:
        loop.close()
    answers = [data for event, data in connection.events if event == "write"]
    assert len(answers) == 20 and all(answer.endswith(b"\r\n\r\nok") for answer in answers)
    assert timers == [min(uvicorn_internals.REQUEST_TIMEOUT, config.timeout_keep_alive)]
