"""In-process µs per request on bench/'s mix: the ASGI application called directly, warm, no sockets.

`python bench/hotpath.py [--requests N] [--repeats R] [--profile FILE] [--through-protocol]` prints one
JSON line: the minimum and median over the repeats of µs per request (the minimum is the figure to
compare: the machine's other work only ever adds to it), with the load average beside it. It imports
only what an old checkout also has (`create_app`, `Config`, `Emulator`; with `--through-protocol`,
`EmulatorFactory`, `uvicorn_config` and `HttpProtocol`), so `bench/quick.py --before REV` can run it
against that checkout's sources.

`--through-protocol` sends the same requests through `fakeapollo serve`'s whole stack in this process,
sockets apart: uvicorn's protocol (fakeapollo's subclass) on uvloop, eight connections on in-memory
transports, each sent a request in turn and answered before the next eight, as wrk's eight
connections are. The application's work costs more here than called directly, and the protocol's
more than with a bare application: they share one core's caches (bench/README.md, "One request's
work, alone and under the protocol").
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mock_server.config import Config
from mock_server.web.app import create_app
from mock_server.web.asgi import Emulator

KEY = b"load-test-key"
PATH = "/api/v1/people/match"


def mix_bodies(count: int, seed: int = 8) -> list[bytes]:
    """bench/match.lua's realistic mix: 90% of 10,000 recurring emails, 5% no-match, 5% partial."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        roll, n = rng.randint(1, 100), rng.randint(1, 10_000)
        if roll <= 90:
            email = f"person{n}@corp{n % 200}.example.com"
        elif roll <= 95:
            email = f"person{n}@nomatch.test"
        else:
            email = f"person{n}@partial.test"
        bodies.append(json.dumps({"email": email}).encode())
    return bodies


def scope_for(body: bytes) -> dict[str, Any]:
    """The scope uvicorn builds for wrk's request."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8765),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8765"),
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"application/json"),
            (b"x-api-key", KEY),
        ],
        "state": {},
    }


async def run_requests(app: Emulator, bodies: list[bytes]) -> float:
    """CPU seconds `app` took for one request per body, one after another on this loop.

    CPU time of this thread, not wall time: on a busy machine the wait for a core is left out.
    """
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def receiver(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        return receive

    calls = [(scope_for(body), receiver(body)) for body in bodies]
    started = time.thread_time()
    for scope, receive in calls:
        await app(scope, receive, send)
    elapsed = time.thread_time() - started
    bad = [s for s in statuses if s != 200]
    if bad:
        raise SystemExit(f"bench/hotpath.py: {len(bad)} answers were not 200 (first {bad[0]})")
    return elapsed


class MemoryTransport(asyncio.Transport):
    """A connection's transport that keeps nothing: it counts the answers written to it and their statuses."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.expected = 0  # writes once the request sent to it is answered
        self.statuses: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Count one write; note the status of every answer that starts in it."""
        self.writes += 1
        view = bytes(data)
        start = view.find(b"HTTP/1.1 ")
        while start != -1:
            self.statuses.append(view[start + 9 : start + 12])
            start = view.find(b"HTTP/1.1 ", start + 12)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Loopback addresses, as a wrk connection has."""
        return {"sockname": ("127.0.0.1", 8765), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        """Whether the protocol closed the connection."""
        return self.closing

    def close(self) -> None:
        """The protocol closed the connection."""
        self.closing = True

    def abort(self) -> None:
        """The protocol dropped the connection."""
        self.closing = True

    def pause_reading(self) -> None:
        """Nothing to pause: requests arrive only when the bench sends them."""

    def resume_reading(self) -> None:
        """Nothing to resume."""

    def get_write_buffer_size(self) -> int:
        """Nothing is ever buffered."""
        return 0


def wire_request(body: bytes) -> bytes:
    """The request bench/match.lua has wrk send for `body`."""
    return (
        b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nContent-Type: application/json\r\n"
        b"x-api-key: %s\r\nContent-Length: %d\r\n\r\n%s" % (PATH.encode(), KEY, len(body), body)
    )


async def run_through_protocol(protocols: list[tuple[Any, MemoryTransport]], requests: list[bytes]) -> float:
    """CPU seconds of the requests sent through `protocols`, one to each connection in turn."""
    connections = len(protocols)
    started = time.thread_time()
    for first in range(0, len(requests), connections):
        batch = list(zip(protocols, requests[first : first + connections], strict=False))
        for (protocol, transport), request in batch:
            transport.expected = transport.writes + 1
            protocol.data_received(request)
        while any(transport.writes < transport.expected for (_, transport), _ in batch):
            await asyncio.sleep(0)
    elapsed = time.thread_time() - started
    bad = [s for _, t in protocols for s in t.statuses if s != b"200"]
    if bad:
        raise SystemExit(f"bench/hotpath.py: {len(bad)} answers were not 200 (first {bad[0]!r})")
    return elapsed


def measure_through_protocol(requests: int, repeats: int) -> dict[str, Any]:
    """`measure`, each request through `fakeapollo serve`'s protocol on in-memory transports."""
    import uvloop
    from uvicorn.server import ServerState

    from mock_server.web.server import EmulatorFactory, uvicorn_config

    config = Config()
    settings = uvicorn_config(config, EmulatorFactory(config))
    settings.load()
    emulator: Emulator = settings.loaded_app
    protocol_class: Any = settings.http_protocol_class
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    state = ServerState()
    protocols = []
    for _ in range(8):
        protocol = protocol_class(config=settings, server_state=state, app_state={}, _loop=loop)
        transport = MemoryTransport()
        protocol.connection_made(transport)
        protocols.append((protocol, transport))
    wire = [wire_request(body) for body in mix_bodies(requests)]
    try:
        loop.run_until_complete(run_through_protocol(protocols, wire))  # warm, as `measure`
        per_request: list[float] = []
        for _ in range(repeats):
            gc.collect()
            seconds = loop.run_until_complete(run_through_protocol(protocols, wire))
            per_request.append(seconds / len(wire) * 1e6)
    finally:
        for protocol, _ in protocols:
            protocol.connection_lost(None)
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        asyncio.set_event_loop(None)
        emulator.service.close()
    return {**figures(per_request, requests), "through": "protocol"}


def measure(requests: int, repeats: int, profile: str | None = None) -> dict[str, Any]:
    """Warm the app on the mix, then time `repeats` runs of `requests` requests each."""
    flask_app = create_app(Config())
    app = Emulator(flask_app)
    service = flask_app.extensions["fakeapollo"]
    bodies = mix_bodies(requests)
    loop = asyncio.new_event_loop()
    try:
        # Warm: every person of the mix generated and cached, as after a few seconds of wrk.
        loop.run_until_complete(run_requests(app, bodies))
        per_request: list[float] = []
        for r in range(repeats):
            gc.collect()
            if profile and r == repeats - 1:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
                seconds = loop.run_until_complete(run_requests(app, bodies))
                profiler.disable()
                profiler.dump_stats(profile)
            else:
                seconds = loop.run_until_complete(run_requests(app, bodies))
            per_request.append(seconds / len(bodies) * 1e6)
    finally:
        loop.close()
        service.close()
    return figures(per_request, requests)


def figures(per_request: list[float], requests: int) -> dict[str, Any]:
    """The printed figures of the repeats' µs per request, with the load average."""
    return {
        "min_us": round(min(per_request), 2),
        "median_us": round(statistics.median(per_request), 2),
        "runs_us": [round(v, 2) for v in per_request],
        "requests": requests,
        "loadavg": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def main() -> None:
    """Print the figures as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", help="write cProfile stats of the last repeat to this file")
    parser.add_argument("--through-protocol", action="store_true",
                        help="through fakeapollo serve's uvicorn protocol on in-memory connections")
    args = parser.parse_args()
    if args.through_protocol:
        if args.profile:
            sys.exit("bench/hotpath.py: --profile is for the application called directly")
        print(json.dumps(measure_through_protocol(args.requests, args.repeats)))
        return
    print(json.dumps(measure(args.requests, args.repeats, args.profile)))


if __name__ == "__main__":
    main()
