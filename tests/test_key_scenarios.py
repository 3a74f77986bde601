"""A key added with its scenarios in one control call, and removed with them, over real HTTP."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import request

from contract_tests.runner import ContractServer, check_adapter
from mock_server.web.app import create_app
from tests.test_credits_and_keys import post

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "clients"))

from python_client import PythonClientAdapter  # noqa: E402

KEY = "kscn-contract-abc-1-wxyz"
ENTRY = {"key": KEY, "team": "cases", "plan": "custom", "credits": None, "scopes": None}
LIMITED = {"status": 429, "headers": {"Retry-After": "1"}, "body": {"message": "slow down"}}
RESPOND = {
    "outcome": "respond",
    "responses": [LIMITED, {"status": 200, "body": {"person": None}}],
    "times": 2,
}


def state(admin: str) -> tuple[Any, Any]:
    """The key registry and the scenario queue, as the control API lists them."""
    keys = requests.get(f"{admin}/keys", timeout=10).json()
    return keys, requests.get(f"{admin}/scenarios", timeout=10).json()


def test_a_key_added_with_its_scenarios_is_served_them_and_others_are_not(admin: str, base_url: str) -> None:
    added = requests.post(f"{admin}/keys", json={**ENTRY, "scenarios": [RESPOND]}, timeout=10)
    assert added.status_code == 201
    body = added.json()
    assert body["key"] == "kscn…wxyz" and KEY not in added.text
    queued = requests.get(f"{admin}/scenarios", timeout=10).json()["scenarios"]
    assert [s["id"] for s in queued] == body["scenarios"]
    assert queued[0]["match"]["api_key"] == "kscn…wxyz"
    assert post(base_url, "people/match", {"email": "a@b.com"}).status_code == 200  # another key
    first = post(base_url, "people/match", {"email": "a@b.com"}, KEY)
    assert (first.status_code, first.json()) == (429, {"message": "slow down"})
    assert post(base_url, "people/match", {"email": "a@b.com"}, KEY).json() == {"person": None}


def test_a_key_removed_with_its_scenarios_takes_only_its_own(admin: str) -> None:
    other = requests.post(f"{admin}/scenarios", json={"outcome": "no_match"}, timeout=10).json()["id"]
    ids = requests.post(f"{admin}/keys", json={**ENTRY, "scenarios": [RESPOND, RESPOND]}, timeout=10).json()
    removed = requests.delete(f"{admin}/keys/{KEY}", params={"scenarios": "true"}, timeout=10)
    assert removed.status_code == 200
    assert removed.json() == {"deleted": "kscn…wxyz", "scenarios": ids["scenarios"]}
    left = requests.get(f"{admin}/scenarios", timeout=10).json()["scenarios"]
    assert [s["id"] for s in left] == [other]


@pytest.mark.parametrize(
    ("scenarios", "error"),
    [
        ({"outcome": "no_match"}, "'scenarios' must be a list of at most 20 scenarios"),
        ([RESPOND] * 21, "'scenarios' must be a list of at most 20 scenarios"),
        ([RESPOND, "no_match"], "'scenarios[1]' must be a scenario object, its 'match' an object"),
        (
            [{"outcome": "no_match", "match": [1]}],
            "'scenarios[0]' must be a scenario object, its 'match' an object",
        ),
        (
            [{"outcome": "no_match", "match": {"api_key": "test-key"}}],
            "'scenarios[0]': 'match.api_key' must be the key added, or left out",
        ),
        ([RESPOND, {"outcome": "slow", "params": {"delay_ms": 10**9}}], "'scenarios[1]': "),
        (
            [{"outcome": "respond", "responses": [{"status": 200, "headers": {"Bad Name": "x"}}]}],
            "'scenarios[0]': ",
        ),
        ([{"outcome": "explode"}], "'scenarios[0]': "),
    ],
)
def test_a_key_with_a_scenario_that_is_not_valid_gets_400_and_changes_nothing(
    admin: str, scenarios: object, error: str
) -> None:
    before = state(admin)
    answer = requests.post(f"{admin}/keys", json={**ENTRY, "scenarios": scenarios}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)
    assert state(admin) == before


def test_an_existing_key_with_scenarios_gets_409_and_queues_nothing(admin: str) -> None:
    before = state(admin)
    entry = {**ENTRY, "key": "test-key", "scenarios": [RESPOND]}
    answer = requests.post(f"{admin}/keys", json=entry, timeout=10)
    assert answer.status_code == 409
    assert answer.json() == {"error": "This key exists already; change it with PATCH /__admin/keys/{key}"}
    assert state(admin) == before


def test_removing_a_key_with_a_flag_that_is_not_a_boolean_gets_400_and_keeps_it(admin: str) -> None:
    before = state(admin)
    answer = requests.delete(f"{admin}/keys/test-key", params={"scenarios": "yes"}, timeout=10)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "'scenarios' must be true or false, got 'yes'"},
    )
    assert state(admin) == before


def test_a_key_that_is_not_valid_with_scenarios_gets_the_keys_own_400(admin: str) -> None:
    before = state(admin)
    answer = requests.post(f"{admin}/keys", json={**ENTRY, "key": 5, "scenarios": [RESPOND]}, timeout=10)
    assert answer.status_code == 400
    assert answer.json() == {"error": "Invalid key: $.keys[0].key: 5 is not of type 'string'"}
    assert state(admin) == before


def test_the_contract_runs_on_an_emulator_whose_keys_take_no_scenarios() -> None:
    app = create_app()
    refused: list[str] = []

    @app.before_request
    def like_an_older_fakeapollo() -> Any:
        body = request.get_json(silent=True)
        if request.method == "POST" and request.path == "/__admin/keys" and "scenarios" in (body or {}):
            refused.append(request.path)
            return {"error": "Invalid key: $.keys[0]: 'scenarios' was unexpected"}, 400
        return None

    with ContractServer.start(app) as server:
        report = check_adapter(PythonClientAdapter(), server=server, properties=["no_match"], examples=3)
        assert report.ok, report.render()
        assert refused == ["/__admin/keys"]  # tried once, then a key and its scenarios one call each
        assert server.control.call("GET", "/scenarios") == {"scenarios": []}
