"""Unauthenticated traffic cannot grow the server: 1 MB bodies without a key, small journal, flat RSS."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ServeProcess, serving

MATCH = "/api/v1/people/match"
BODY = b'{"email": "' + b"a" * 999_980 + b'"}'
# docs/control-api.md (the journal): a journal entry for a request without a valid key holds at most
# 1 KiB of its body; with headers and bookkeeping it costs at most this much of the journal's byte budget.
UNAUTHENTICATED_ENTRY_BYTES = 4 * 1024
# docs/control-api.md (the journal): what unauthenticated traffic may add to the server's resident memory.
RSS_GROWTH_BOUND = 64 << 20
SENT = 200

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    """A fresh `fakeapollo serve` whose memory this module measures."""
    with serving() as served:
        yield served


def resident_bytes(pid: int) -> int:
    """The process's resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


def send_unauthenticated(url: str, count: int) -> list[int]:
    """POST `count` 1 MB bodies with a wrong key; the statuses."""
    with requests.Session() as session:
        return [
            session.post(
                url + MATCH, data=BODY, headers={"x-api-key": "wrong", "Content-Type": "application/json"}
            ).status_code
            for _ in range(count)
        ]


def journal(url: str) -> dict[str, Any]:
    """The journal's fill, as GET /__admin/requests reports it."""
    usage: dict[str, Any] = requests.get(f"{url}/__admin/requests?limit=1", timeout=10).json()["journal"]
    return usage


def test_a_megabyte_without_a_key_costs_the_journal_a_few_kilobytes(server: ServeProcess) -> None:
    requests.post(f"{server.url}/__admin/reset", timeout=10)
    assert send_unauthenticated(server.url, 20) == [401] * 20
    usage = journal(server.url)
    assert usage["entries"] == 20
    assert usage["bytes"] <= 20 * UNAUTHENTICATED_ENTRY_BYTES
    entry = requests.get(f"{server.url}/__admin/requests?limit=1", timeout=10).json()["requests"][0]
    assert entry["body"] == BODY[:1024].decode()


def test_unauthenticated_megabytes_leave_resident_memory_flat(server: ServeProcess) -> None:
    send_unauthenticated(server.url, 20)  # warm the allocator's pools first
    before = resident_bytes(server.process.pid)
    assert send_unauthenticated(server.url, SENT) == [401] * SENT
    grown = resident_bytes(server.process.pid) - before
    assert grown < RSS_GROWTH_BOUND, f"RSS grew by {grown / 2**20:.1f} MiB after {SENT} MB without a key"
    assert journal(server.url)["bytes"] <= journal(server.url)["entries"] * UNAUTHENTICATED_ENTRY_BYTES


def send_concurrently(url: str, path: str, count: int, concurrency: int = 16) -> set[int]:
    """POST `count` 1 MB bodies to `path` from `concurrency` threads at once; the statuses seen."""

    def post(_: int) -> int:
        return requests.post(
            url + path, data=BODY, headers={"Content-Type": "application/json"}, timeout=60
        ).status_code

    with ThreadPoolExecutor(concurrency) as pool:
        return set(pool.map(post, range(count)))


@pytest.mark.parametrize(
    ("path", "statuses"),
    [("/nope", {404}), ("/__admin/reset", {200}), ("/api/v1/people/5f7a3c3b2e8f1a0001a1b2c3", {405})],
)
def test_megabytes_sent_at_once_to_other_paths_leave_resident_memory_flat(
    server: ServeProcess, path: str, statuses: set[int]
) -> None:
    """Paths the control app answers (a 404, a reset) hold no body past its answer, even 16 at once."""
    send_concurrently(server.url, path, 16)  # warm the allocator's pools first
    before = resident_bytes(server.process.pid)
    assert send_concurrently(server.url, path, SENT) == statuses
    grown = resident_bytes(server.process.pid) - before
    assert grown < RSS_GROWTH_BOUND, f"RSS grew by {grown / 2**20:.1f} MiB after {SENT} MB to {path}"
