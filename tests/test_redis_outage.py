"""A Redis store that goes away, over real HTTP: 503 in Apollo's error style, no frozen server, recovery.

Each test starts a redis-server of its own (it is killed or stopped here) and `fakeapollo serve` on it.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from redis_helpers import NOT_FOUND, RedisServer, redis_server_binary

from tests.conftest import ServeProcess, start_serve

UNAVAILABLE = {"error": "Service temporarily unavailable: fakeapollo's state store does not answer"}
# Seconds within which every request sent while Redis is stalled is answered: the client's reply
# timeout (2 s, mock_server/stores/redis_client.py) once, with room for a loaded machine. Before,
# a stalled Redis held the event loop for 10 s per try, and redis-py tried again ten times.
STALL_BOUND = 8.0


@dataclass
class Deployment:
    """A redis-server of the test's own and a `fakeapollo serve` on it."""

    redis: RedisServer
    server: ServeProcess

    def match(self, email: str = "ada@example.com", timeout: float = 30) -> requests.Response:
        """people/match with the paid test key."""
        return requests.post(
            f"{self.server.url}/api/v1/people/match",
            json={"email": email},
            headers={"x-api-key": "test-key"},
            timeout=timeout,
        )

    def answers_again(self, within: float = 20.0) -> requests.Response:
        """The first 200 of people/match, polling for at most `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            response = self.match(timeout=10)
            if response.status_code == 200 or time.monotonic() > deadline:
                return response
            time.sleep(0.2)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    """A fresh redis-server and a served emulator on it; both stopped after the test."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip(NOT_FOUND)
    redis = RedisServer(binary).start()
    try:
        server = start_serve("--store", redis.url, "--store-prefix", "outage")
        try:
            yield Deployment(redis, server)
        finally:
            if redis.process is not None and redis.process.poll() is None:
                os.kill(redis.process.pid, signal.SIGCONT)
            server.stop()
    finally:
        redis.close()


def assert_unavailable(response: requests.Response) -> None:
    """Apollo's error style for a store that is away: 503, JSON `{"error": ...}`, Retry-After."""
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"] == "1"
    assert response.json() == UNAVAILABLE


def test_a_dead_redis_gives_503_and_the_server_recovers_when_it_is_back(deployment: Deployment) -> None:
    assert deployment.match().status_code == 200
    assert deployment.redis.process is not None
    deployment.redis.process.kill()
    deployment.redis.process.wait(10)

    for _ in range(3):
        assert_unavailable(deployment.match())
    admin = requests.get(f"{deployment.server.url}/__admin/requests", timeout=30)
    assert admin.status_code == 503
    assert admin.json() == UNAVAILABLE
    # The readiness probe says so too: nothing that reads the clock's shared state can answer.
    assert_unavailable(requests.get(f"{deployment.server.url}/openapi.json", timeout=30))

    deployment.redis.restart()
    back = deployment.answers_again()
    assert back.status_code == 200, back.text
    assert back.json()["person"]["email"] == "ada@example.com"
    journal = requests.get(f"{deployment.server.url}/__admin/requests", timeout=30)
    assert journal.status_code == 200


def test_a_stalled_redis_never_freezes_the_server_and_it_recovers(deployment: Deployment) -> None:
    assert deployment.match().status_code == 200
    assert deployment.redis.process is not None
    pid = deployment.redis.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            matches = [pool.submit(deployment.match, f"p{n}@stall.example") for n in range(4)]
            time.sleep(0.3)  # the first match is waiting on Redis by now
            spec = pool.submit(requests.get, f"{deployment.server.url}/openapi.json", timeout=30)
            answers = [m.result() for m in matches]
            assert spec.result().status_code == 200
        elapsed = time.monotonic() - started
        assert elapsed < STALL_BOUND, f"the server was held {elapsed:.1f} s by a stalled Redis"
        for response in answers:
            assert_unavailable(response)
        quick = time.monotonic()
        assert_unavailable(deployment.match())
        assert time.monotonic() - quick < STALL_BOUND / 2  # known to be away: refused at once
        # What needs no round trip (the clock's copy) is still served while Redis is away.
        assert requests.get(f"{deployment.server.url}/openapi.json", timeout=30).status_code == 200
    finally:
        os.kill(pid, signal.SIGCONT)
    back = deployment.answers_again()
    assert back.status_code == 200, back.text
