"""Credits, usage stats and the key registry over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.conftest import key_registry, start_serve


def team_usage(admin: str, team: str) -> dict[str, object]:
    """One team's entry in /__admin/usage."""
    teams = requests.get(f"{admin}/usage", timeout=10).json()["teams"]
    found: dict[str, object] = next(t for t in teams if t["team"] == team)
    return found


def post(base_url: str, path: str, body: object, key: str = "test-key") -> requests.Response:
    """POST an Apollo route with a key."""
    return requests.post(f"{base_url}/api/v1/{path}", json=body, headers={"x-api-key": key}, timeout=10)


def test_credits_for_match_no_match_and_bulk_add_up(admin: str, base_url: str) -> None:
    post(base_url, "people/match", {"email": "paid@credit.test"})  # a .test domain: never thin
    post(base_url, "people/match", {"email": "free@nomatch.test"})
    post(base_url, "people/match", {"name": "Just A Name"})
    bulk = post(
        base_url,
        "people/bulk_match",
        {"details": [{"email": "b1@credit.test"}, {"email": "x@nomatch.test"}, {"email": "b2@credit.test"}]},
    ).json()
    assert bulk["credits_consumed"] == 2
    credits = team_usage(admin, "team-test")["credits"]
    assert credits == {"granted": 10000, "spent": 3, "left": 9997, "by_reason": {"match": 3, "phone": 0}}
    charged = [e["credits_charged"] for e in requests.get(f"{admin}/requests", timeout=10).json()["requests"]]
    assert charged == [1, 0, 0, 2]


def test_usage_stats_answers_in_apollos_shape(admin: str, base_url: str) -> None:
    post(base_url, "people/match", {"email": "u@example.com"})
    post(base_url, "people/match", {"email": "v@example.com"})
    response = post(base_url, "usage_stats/api_usage_stats", {})
    assert response.status_code == 200
    stats = response.json()
    assert stats['["api/v1/people", "match"]'] == {
        "day": {"limit": None, "consumed": 0, "left_over": None},
        "hour": {"limit": None, "consumed": 0, "left_over": None},
        "minute": {"limit": 1000, "consumed": 2, "left_over": 998},
    }
    assert stats['["api/v1/people", "bulk_match"]']["minute"]["limit"] == 500
    from mock_server.domain.data import validate

    validate("api_usage_stats.response", stats, strict=True)


def test_team_out_of_credits_gets_the_documented_answer(tmp_path: Path) -> None:
    keys = key_registry(
        tmp_path, {"key": "thin-key", "team": "thin", "plan": "professional", "credits": 2, "scopes": None}
    )
    server = start_serve("--keys", str(keys))
    try:
        answers = [
            post(server.url, "people/match", {"email": f"c{n}@example.com"}, "thin-key") for n in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 422]
        assert answers[2].json() == {
            "error": "Your team has run out of credits. Please upgrade your plan from"
            " https://app.apollo.io/#/settings/plans/upgrade.",
            "error_code": "INSUFFICIENT_CREDITS",
        }
        usage = requests.get(f"{server.url}/__admin/usage", timeout=10).json()["teams"][0]["credits"]
        assert usage["spent"] == 2 and usage["left"] == 0
    finally:
        server.stop()


def test_out_of_credits_can_answer_no_match_instead(tmp_path: Path) -> None:
    keys = key_registry(
        tmp_path, {"key": "thin-key", "team": "thin", "plan": "professional", "credits": 1, "scopes": None}
    )
    server = start_serve("--keys", str(keys), env={"FAKEAPOLLO_OUT_OF_CREDITS": "no_match"})
    try:
        first = post(server.url, "people/match", {"email": "c1@example.com"}, "thin-key")
        second = post(server.url, "people/match", {"email": "c2@example.com"}, "thin-key")
        assert first.json()["person"] is not None
        assert second.status_code == 200 and second.json() == {"person": None}
    finally:
        server.stop()


def test_key_outside_its_scope_gets_403(tmp_path: Path) -> None:
    keys = key_registry(
        tmp_path,
        {
            "key": "org-only",
            "team": "t",
            "plan": "professional",
            "credits": None,
            "scopes": ["api/v1/organizations/enrich"],
        },
    )
    server = start_serve("--keys", str(keys))
    try:
        refused = post(server.url, "people/match", {"email": "a@example.com"}, "org-only")
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "This API key is not authorized to access api/v1/people/match. Request an API key from"
            " your administrator that includes this endpoint in its configured scope.",
            "error_code": "API_INACCESSIBLE",
        }
        allowed = requests.get(
            f"{server.url}/api/v1/organizations/enrich",
            params={"domain": "a.com"},
            headers={"x-api-key": "org-only"},
        )
        assert allowed.status_code == 200
    finally:
        server.stop()


def test_keys_can_be_added_changed_and_removed_at_run_time(admin: str, base_url: str) -> None:
    new_key = {
        "key": "runtime-key-1234",
        "team": "runtime",
        "plan": "professional",
        "credits": 5,
        "scopes": None,
    }
    added = requests.post(f"{admin}/keys", json=new_key, timeout=10)
    assert added.status_code == 201
    assert added.json()["key"] == "run…234"
    assert post(base_url, "people/match", {"email": "r@example.com"}, "runtime-key-1234").status_code == 200
    listed = requests.get(f"{admin}/keys", timeout=10).json()["keys"]
    assert "runtime-key-1234" not in json.dumps(listed)
    assert "run…234" in [k["key"] for k in listed]
    scoped = {"scopes": ["api/v1/organizations/enrich"]}
    changed = requests.patch(f"{admin}/keys/runtime-key-1234", json=scoped, timeout=10)
    assert changed.status_code == 200 and changed.json()["scopes"] == ["api/v1/organizations/enrich"]
    assert post(base_url, "people/match", {"email": "r@example.com"}, "runtime-key-1234").status_code == 403
    assert requests.delete(f"{admin}/keys/runtime-key-1234", timeout=10).status_code == 200
    assert post(base_url, "people/match", {"email": "r@example.com"}, "runtime-key-1234").status_code == 401
    assert requests.delete(f"{admin}/keys/runtime-key-1234", timeout=10).status_code == 404


def test_reset_restores_the_start_up_keys(admin: str, base_url: str) -> None:
    requests.delete(f"{admin}/keys/test-key", timeout=10)
    assert post(base_url, "people/match", {"email": "r@example.com"}).status_code == 401
    requests.post(f"{admin}/reset", timeout=10)
    assert post(base_url, "people/match", {"email": "r@example.com"}).status_code == 200


@pytest.mark.parametrize(
    "entry",
    [{"key": "k"}, {"key": "k", "team": "t", "plan": "platinum", "credits": 1, "scopes": None}, [1, 2]],
)
def test_invalid_keys_get_400(admin: str, entry: object) -> None:
    response = requests.post(f"{admin}/keys", json=entry, timeout=10)
    assert response.status_code == 400
    assert "error" in response.json()


def test_state_is_shared_by_four_workers() -> None:
    server = start_serve("--workers", "4")
    try:
        email = "chain@workers.example"
        first = post(server.url, "people/match", {"email": email}).json()["person"]
        for _ in range(8):  # requests land on different worker processes
            assert post(server.url, "people/match", {"id": first["id"]}).json()["person"] == first
        requests.post(f"{server.url}/__admin/scenarios", json={"outcome": "no_match", "times": 3}, timeout=10)
        answers = [post(server.url, "people/match", {"email": email}).json()["person"] for _ in range(5)]
        assert answers.count(None) == 3
        entries = requests.get(f"{server.url}/__admin/requests", timeout=10).json()["requests"]
        assert len(entries) == 14
        credits = requests.get(f"{server.url}/__admin/usage", timeout=10).json()["teams"]
        assert next(t for t in credits if t["team"] == "team-test")["credits"]["spent"] == 11
    finally:
        server.stop()


def test_adding_a_key_that_exists_is_409_and_changes_nothing(admin: str) -> None:
    before = requests.get(f"{admin}/keys", timeout=10).json()
    entry = {"key": "test-key", "team": "thief", "plan": "custom", "credits": 0, "scopes": None}
    response = requests.post(f"{admin}/keys", json=entry, timeout=10)
    assert response.status_code == 409
    assert response.json() == {"error": "This key exists already; change it with PATCH /__admin/keys/{key}"}
    assert requests.get(f"{admin}/keys", timeout=10).json() == before


# NaN and the infinities are refused before any field is read (tests/test_hostile_json_values.py).
@pytest.mark.parametrize("credits", [b"1e300", b"-1e300"])
def test_key_credits_must_be_finite_and_in_range(admin: str, credits: bytes) -> None:
    before = requests.get(f"{admin}/keys", timeout=10).json()
    body = b'{"key": "nan-key", "team": "t", "plan": "basic", "scopes": null, "credits": %s}' % credits
    added = requests.post(
        f"{admin}/keys", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    changed = requests.patch(
        f"{admin}/keys/test-key",
        data=b'{"credits": %s}' % credits,
        headers={"Content-Type": "application/json"},
    )
    for response in (added, changed):
        assert response.status_code == 400
        assert response.json()["error"].startswith("Invalid key: ")
        assert "credits" in response.json()["error"]
    assert requests.get(f"{admin}/keys", timeout=10).json() == before
