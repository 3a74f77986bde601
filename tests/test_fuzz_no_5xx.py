"""A seeded fuzz run over real HTTP: thousands of hostile requests, API and control API, and no 5xx.

`make test` sends FAKEAPOLLO_FUZZ_REQUESTS requests (default 1,500); a longer run, 10,000
or more: `FAKEAPOLLO_FUZZ_REQUESTS=10000 .venv/bin/python -m pytest tests/test_fuzz_no_5xx.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import ServeProcess, serving
from tests.fuzz_requests import RequestFuzzer

REQUESTS = int(os.environ.get("FAKEAPOLLO_FUZZ_REQUESTS", "1500"))
SEED = int(os.environ.get("FAKEAPOLLO_FUZZ_SEED", "13"))
# Back to a clean emulator this often, so keys and scenarios the fuzz removed or queued come back.
RESET_EVERY = 250

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[ServeProcess]:
    """A fresh `fakeapollo serve` for the fuzz run alone (short webhook timeouts)."""
    with serving("--webhook-timeout", "0.5", "--webhook-attempts", "2") as server:
        yield server


def test_no_request_of_a_seeded_fuzz_run_gets_a_5xx(fuzzed: ServeProcess) -> None:
    fuzzer = RequestFuzzer(SEED)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    with requests.Session() as session:
        for number in range(REQUESTS):
            if number % RESET_EVERY == 0:
                session.post(f"{fuzzed.url}/__admin/reset", timeout=30).raise_for_status()
            sent = fuzzer.next()
            try:
                response = session.request(
                    sent.method, fuzzed.url + sent.path, headers=sent.headers, data=sent.body, timeout=30
                )
            except requests.ConnectionError as exc:
                failures.append(f"#{number} {sent.describe()} -> connection error {exc}")
                continue
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(
                    f"#{number} {sent.describe()} -> {response.status_code} {response.text[:300]}"
                )
    print(f"{REQUESTS} requests, seed {SEED}, statuses {dict(sorted(statuses.items()))}")
    assert fuzzed.process.poll() is None, "the server died"
    assert failures == [], "\n".join(failures[:20])
    # The run reached the code behind the doors, not just the 4xx at them.
    assert statuses.get(200, 0) > REQUESTS // 20, statuses
    assert sum(n for s, n in statuses.items() if 400 <= s < 500) > REQUESTS // 5, statuses
