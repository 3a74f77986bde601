"""In-process µs per request on bench/'s mix: the ASGI application called directly, warm, no sockets.

`python bench/hotpath.py [--requests N] [--repeats R] [--profile FILE]` prints one JSON line: the
minimum and median over the repeats of µs per request (the minimum is the figure to compare: the
machine's other work only ever adds to it), with the load average beside it. It imports only what
an old checkout also has (`create_app`, `Config`, `Emulator`), so `bench/quick.py --before REV`
can run it against that checkout's sources.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
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
    args = parser.parse_args()
    print(json.dumps(measure(args.requests, args.repeats, args.profile)))


if __name__ == "__main__":
    main()
