"""Webhooks cannot be turned against the emulator, other teams or outside hosts (issue 13)."""

from __future__ import annotations

from pathlib import Path

import requests

from mock_server.config import Config
from tests.conftest import key_registry, start_serve
from tests.webhook_helpers import TEAM, WITH_MOBILE, Emulator, emulator, receiver


def test_webhook_late_with_a_delay_that_is_not_a_number_creates_no_delivery() -> None:
    with emulator() as emu, receiver() as hook:
        answer = emu.match(WITH_MOBILE, hook.url, headers={"X-Mock-Scenario": "webhook_late; delay_s=nan"})
        assert answer.status_code == 400
        assert "delay_s" in answer.json()["error"]
        assert emu.deliveries() == []
        assert emu.service.ledger.spent(TEAM) == 0


def two_teams(folder: Path) -> Path:
    """A key registry with a key for team `alpha` and one for team `beta`."""
    return key_registry(
        folder,
        {"key": "alpha-key", "team": "alpha", "plan": "professional", "credits": None, "scopes": None},
        {"key": "beta-key", "team": "beta", "plan": "professional", "credits": None, "scopes": None},
    )


def test_a_webhook_result_is_readable_only_by_the_team_that_asked(tmp_path: Path) -> None:
    with emulator(keys=two_teams(tmp_path)) as emu, receiver() as hook:
        emu.http.headers["x-api-key"] = "alpha-key"
        request_id = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        emu.http.post(f"{emu.url}/__admin/webhooks/flush")
        hook.wait_for(1)
        assert emu.poll(request_id).status_code == 200
        emu.http.headers["x-api-key"] = "beta-key"
        for prefix in ("/api/v1", "/v1"):
            other = emu.poll(request_id, prefix=prefix)
            assert other.status_code == 404
            assert other.json() == {"error_code": "request_id_unknown"}


def first_request_id(emu: Emulator) -> int:
    """The request id of the first match an emulator answers."""
    answer = emu.http.post(f"{emu.url}/api/v1/people/match", json={"email": "id@example.com"})
    request_id: int = answer.json()["request_id"]
    return request_id


def test_request_ids_differ_between_runs_unless_a_seed_is_asked_for() -> None:
    with emulator() as first, emulator() as second:
        assert first_request_id(first) != first_request_id(second)
    with emulator(request_id_seed=3) as first, emulator(request_id_seed=3) as second:
        assert first_request_id(first) == first_request_id(second)
    assert Config.from_env({"FAKEAPOLLO_SEED": "4"}).request_id_seed == 4
    assert Config.from_env({}).request_id_seed is None


def test_serve_with_seed_gives_the_same_request_ids_every_run() -> None:
    ids = []
    for _ in range(2):
        server = start_serve("--seed", "3")
        try:
            ids.append(
                requests.post(
                    f"{server.url}/api/v1/people/match",
                    json={"email": "id@example.com"},
                    headers={"x-api-key": "test-key"},
                    timeout=10,
                ).json()["request_id"]
            )
        finally:
            server.stop()
    assert ids[0] == ids[1]
