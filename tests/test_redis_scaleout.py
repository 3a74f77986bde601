"""Two separate `fakeapollo serve` processes on one real Redis behave as one emulator."""

from __future__ import annotations

import hashlib
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import LIMITED, Pair, key_registry, spread, start_serve
from webhook_helpers import Receiver, receiver

pytestmark = pytest.mark.slow


def assert_exactly_the_minute_limit(answers: list[requests.Response]) -> None:
    """100 of the calls answered, the rest refused with Apollo's 429."""
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: 100, 429: len(answers) - 100}
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error_details"] == {"code": "USAGE.RATE_LIMIT.API_RATE_LIMIT_EXCEEDED"}
    assert refused.headers["x-minute-usage"] == "100"


def test_fifty_clients_over_two_processes_get_exactly_the_minute_limit(pair: Pair) -> None:
    pair.admin(0, "POST", "/clock", json={"freeze": True})  # one window for the whole test
    assert_exactly_the_minute_limit(
        spread(pair.urls, "limited-key", [f"client{n}@limits.example" for n in range(200)])
    )


def test_worker_processes_on_one_redis_count_as_one(redis_url: str, tmp_path: Path) -> None:
    keys = key_registry(tmp_path, LIMITED)
    prefix = ["--store-prefix", f"workers-{uuid.uuid4().hex[:12]}"]
    server = start_serve("--workers", "2", "--store", redis_url, *prefix, "--keys", str(keys))
    try:
        requests.post(f"{server.url}/__admin/clock", json={"freeze": True}, timeout=30).raise_for_status()
        assert_exactly_the_minute_limit(
            spread([server.url], "limited-key", [f"worker{n}@limits.example" for n in range(160)])
        )
    finally:
        server.stop()


def test_a_team_with_fifty_credits_spends_exactly_fifty_over_two_processes(pair: Pair) -> None:
    answers = spread(pair.urls, "fifty-key", [f"buyer{n}@credits.test" for n in range(120)])
    matched = [a for a in answers if a.status_code == 200 and a.json()["person"] is not None]
    refused = [a for a in answers if a.status_code == 422]
    assert len(matched) == 50
    assert len(refused) == 70
    assert refused[0].json()["error_code"] == "INSUFFICIENT_CREDITS"
    usage = {team["team"]: team for team in pair.admin(1, "GET", "/usage")["teams"]}
    assert usage["team-fifty"]["credits"]["spent"] == 50


def test_a_request_journaled_by_one_process_is_listed_by_the_other(pair: Pair) -> None:
    answer = pair.post(0, "/api/v1/people/match", "test-key", {"email": "journal@scaleout.example"})
    assert answer.status_code == 200
    listed = pair.admin(1, "GET", "/requests", params={"path": "/api/v1/people/match"})["requests"]
    assert [entry["body"] for entry in listed] == [{"email": "journal@scaleout.example"}]
    assert listed[0]["response"]["body"]["person"]["email"] == "journal@scaleout.example"


def test_a_person_served_by_one_process_is_found_by_id_and_hash_on_the_other(pair: Pair) -> None:
    email = "chain@scaleout.test"
    person = pair.post(0, "/api/v1/people/match", "test-key", {"email": email}).json()["person"]
    by_id = pair.post(1, "/api/v1/people/match", "test-key", {"id": person["id"]}).json()["person"]
    digest = hashlib.md5(email.encode()).hexdigest()  # noqa: S324 - Apollo's hashed_email is MD5
    by_hash = pair.post(1, "/api/v1/people/match", "test-key", {"hashed_email": digest}).json()["person"]
    assert by_id == by_hash == person


def test_a_clock_advanced_on_one_process_is_advanced_on_the_other(pair: Pair) -> None:
    pair.admin(1, "POST", "/clock", json={"freeze": True})
    pair.admin(0, "POST", "/clock", json={"now": "2026-03-01T12:00:00Z"})
    pair.admin(0, "POST", "/clock/advance", json={"seconds": 90})
    assert pair.admin(1, "GET", "/clock") == {"now": "2026-03-01T12:01:30.000Z", "frozen": True}
    pair.admin(1, "POST", "/reset")
    assert pair.admin(0, "GET", "/clock")["frozen"] is False
    assert pair.admin(0, "GET", "/requests")["requests"] == []


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    """A webhook receiver for one test."""
    with receiver() as handle:
        yield handle


def acknowledged(hooks: Receiver) -> Counter[str]:
    """How many times each request id's webhook was received and answered."""
    return Counter(str(body["request_id"]) for body in hooks.bodies)


def request_phones(pair: Pair, url: str, count: int, on: list[int]) -> list[str]:
    """`count` people/match calls asking for phones by webhook, spread over servers `on`; request ids."""
    ids = []
    for n in range(count):
        answer = pair.post(
            on[n % len(on)],
            "/api/v1/people/match",
            "hooks-key",
            {"email": f"phone{n}@hooks.test", "reveal_phone_number": True, "webhook_url": url},
        )
        assert answer.status_code == 200, answer.text
        ids.append(str(answer.json()["request_id"]))
    return ids


@pytest.mark.serve_flags("--webhook-delay", "0")
def test_twenty_webhooks_requested_across_both_processes_arrive_exactly_once(
    pair: Pair, hooks: Receiver
) -> None:
    ids = request_phones(pair, hooks.url, 20, on=[0, 1])
    hooks.wait_for(20, timeout=60)
    for index in (0, 1):  # anything still pending would go now
        pair.admin(index, "POST", "/webhooks/flush")
    deliveries = pair.admin(0, "GET", "/webhooks")["deliveries"]
    assert sorted(acknowledged(hooks)) == sorted(ids)
    assert set(acknowledged(hooks).values()) == {1}
    assert [d["status"] for d in deliveries] == ["delivered"] * 20
    assert all(len(d["attempts"]) == 1 for d in deliveries)


@pytest.mark.serve_flags("--webhook-delay", "0", "--webhook-duplicate-rate", "1")
def test_configured_duplicates_arrive_twice_and_no_more_across_both_processes(
    pair: Pair, hooks: Receiver
) -> None:
    ids = request_phones(pair, hooks.url, 10, on=[0, 1])
    hooks.wait_for(20, timeout=60)
    for index in (0, 1):
        pair.admin(index, "POST", "/webhooks/flush")
    assert sorted(acknowledged(hooks)) == sorted(ids)
    assert set(acknowledged(hooks).values()) == {2}


@pytest.mark.serve_flags("--webhook-delay", "5", "--store-lease", "1")
def test_deliveries_claimed_by_a_killed_process_arrive_once_from_the_other(
    pair: Pair, hooks: Receiver
) -> None:
    hooks.hold_first = True
    pair.admin(0, "POST", "/clock", json={"freeze": True})
    ids = request_phones(pair, hooks.url, 10, on=[0])

    # The advance makes all ten due; process 0 claims them (one batch) before it answers, sends the
    # first, which the receiver holds, and is killed while holding the other nine unsent.
    def advance() -> None:
        try:
            requests.post(f"{pair.urls[0]}/__admin/clock/advance", json={"seconds": 10}, timeout=60)
        except requests.ConnectionError:
            pass  # killed before it could answer: expected

    threading.Thread(target=advance, daemon=True).start()
    deadline = time.monotonic() + 30
    while not hooks.held and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(hooks.held) == 1
    held = pair.admin(1, "GET", "/webhooks")["deliveries"]
    assert [d["status"] for d in held] == ["in_flight"] * 10
    pair.servers[0].stop(signal.SIGKILL)
    hooks.release.set()
    # Process 1 takes the claims over once their lease (1 s) runs out; flushing asks it to look.
    deadline = time.monotonic() + 60
    while len(hooks.bodies) < 10 and time.monotonic() < deadline:
        pair.admin(1, "POST", "/webhooks/flush")
        time.sleep(0.2)
    hooks.wait_for(10, timeout=30)
    assert str(hooks.held[0]["request_id"]) in ids
    assert sorted(acknowledged(hooks)) == sorted(ids)
    assert set(acknowledged(hooks).values()) == {1}
    assert [d["status"] for d in pair.admin(1, "GET", "/webhooks")["deliveries"]] == ["delivered"] * 10
