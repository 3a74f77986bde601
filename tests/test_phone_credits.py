"""Phone credits over real HTTP: charged when the numbers are delivered, never past the team's grant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ServeProcess, key_registry, start_serve
from tests.webhook_helpers import WITH_MOBILE, Receiver

NO_CREDITS = "not delivered: the team's credits do not cover the phone numbers"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServeProcess]:
    """`fakeapollo serve` with a team of 5 credits and one of 20, its clock frozen."""
    keys = key_registry(
        tmp_path,
        {"key": "five-credits-key", "team": "team-five", "plan": "basic", "credits": 5, "scopes": None},
        {"key": "twenty-credits-key", "team": "team-twenty", "plan": "basic", "credits": 20, "scopes": None},
    )
    server = start_serve("--keys", str(keys), "--webhook-delay", "10")
    try:
        assert requests.post(f"{server.url}/__admin/clock", json={"freeze": True}, timeout=10).ok
        yield server
    finally:
        server.stop()


def reveal(server: ServeProcess, key: str, url: str) -> requests.Response:
    """people/match for a person with a mobile, revealing the phone to `url`."""
    body = {"email": WITH_MOBILE, "reveal_phone_number": True, "webhook_url": url}
    return requests.post(
        f"{server.url}/api/v1/people/match", json=body, headers={"x-api-key": key}, timeout=10
    )


def credits_of(server: ServeProcess, team: str) -> dict[str, Any]:
    """The team's row of GET /__admin/usage."""
    teams = requests.get(f"{server.url}/__admin/usage", timeout=10).json()["teams"]
    found: dict[str, Any] = next(t["credits"] for t in teams if t["team"] == team)
    return found


def test_five_phone_reveals_on_five_credits_never_spend_past_the_grant(served: ServeProcess) -> None:
    hook = Receiver()
    try:
        sent = [reveal(served, "five-credits-key", hook.url) for _ in range(5)]
        assert [r.status_code for r in sent] == [200] * 5
        advanced = requests.post(f"{served.url}/__admin/clock/advance", json={"seconds": 10}, timeout=30)
        assert advanced.status_code == 200
        assert credits_of(served, "team-five") == {
            "granted": 5,
            "spent": 5,
            "left": 0,
            "by_reason": {"match": 5, "phone": 0},
        }
        assert hook.bodies == []
        deliveries = requests.get(f"{served.url}/__admin/webhooks", timeout=10).json()["deliveries"]
        assert [(d["status"], d["failure_reason"], d["charged"]) for d in deliveries] == [
            ("failed", NO_CREDITS, False)
        ] * 5
        polled = requests.get(
            f"{served.url}/api/v1/webhook_result/{sent[0].json()['request_id']}",
            headers={"x-api-key": "five-credits-key"},
            timeout=10,
        )
        assert polled.status_code == 200
        assert polled.json()["webhook_status"] == "failed"
        assert polled.json()["failure_reason"] == NO_CREDITS
    finally:
        hook.close()


def test_phone_credits_are_charged_while_the_grant_covers_them(served: ServeProcess) -> None:
    hook = Receiver()
    try:
        assert [reveal(served, "twenty-credits-key", hook.url).status_code for _ in range(5)] == [200] * 5
        requests.post(f"{served.url}/__admin/clock/advance", json={"seconds": 10}, timeout=30)
        # 5 matches leave 15; one mobile (8) fits, a second would reach 21.
        assert credits_of(served, "team-twenty") == {
            "granted": 20,
            "spent": 13,
            "left": 7,
            "by_reason": {"match": 5, "phone": 8},
        }
        assert len(hook.bodies) == 1
        deliveries = requests.get(f"{served.url}/__admin/webhooks", timeout=10).json()["deliveries"]
        assert sorted(d["status"] for d in deliveries) == ["delivered"] + ["failed"] * 4
    finally:
        hook.close()


def test_a_failed_attempt_gives_its_phone_credits_back(served: ServeProcess) -> None:
    hook = Receiver(statuses=[500] * 10)
    try:
        assert reveal(served, "twenty-credits-key", hook.url).status_code == 200
        requests.post(f"{served.url}/__admin/clock/advance", json={"seconds": 10}, timeout=30)
        hook.wait_for(1)
        assert credits_of(served, "team-twenty")["by_reason"] == {"match": 1, "phone": 0}
    finally:
        hook.close()
