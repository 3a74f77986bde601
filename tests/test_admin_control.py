"""The control API over real HTTP: reset, journal, clock and scenarios."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.conftest import start_serve


def match(base_url: str, email: str = "ada@example.com", **headers: str) -> requests.Response:
    """POST people/match with the paid test key."""
    return requests.post(
        f"{base_url}/api/v1/people/match",
        json={"email": email},
        headers={"x-api-key": "test-key", **headers},
        timeout=10,
    )


def test_reset_clears_journal_scenarios_and_clock(admin: str, base_url: str) -> None:
    match(base_url)
    requests.post(f"{admin}/scenarios", json={"outcome": "no_match"}, timeout=10)
    requests.post(f"{admin}/clock/advance", json={"seconds": 86_400}, timeout=10)
    response = requests.post(f"{admin}/reset", timeout=10)
    assert response.status_code == 200
    assert response.json()["reset"] is True
    assert requests.get(f"{admin}/requests", timeout=10).json()["requests"] == []
    assert requests.get(f"{admin}/scenarios", timeout=10).json() == {"scenarios": []}
    assert match(base_url).json()["person"] is not None


def test_journal_records_what_was_sent_and_answered(admin: str, base_url: str) -> None:
    sent = match(base_url, "journal@example.com")
    entries = requests.get(f"{admin}/requests", timeout=10).json()["requests"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/v1/people/match"
    assert entry["body"] == {"email": "journal@example.com"}
    assert entry["response"]["status"] == 200
    assert entry["response"]["body"] == sent.json()
    assert entry["headers"]["X-Api-Key"] == "t…y"
    assert entry["api_key"] == "t…y"
    assert entry["duration_ms"] >= 0
    assert entry["rate_limit"]["minute"] == {"limit": 1000, "usage": 1, "left": 999}
    assert entry["time"].endswith("Z")


def test_journal_never_shows_an_api_key_unmasked(admin: str, base_url: str) -> None:
    match(base_url)
    requests.post(
        f"{base_url}/api/v1/people/match", json={"email": "a@b.com", "api_key": "secret-body-key"}, timeout=10
    )
    requests.post(
        f"{admin}/scenarios", json={"outcome": "no_match", "match": {"api_key": "test-key"}}, timeout=10
    )
    text = (
        requests.get(f"{admin}/requests", timeout=10).text
        + requests.get(f"{admin}/scenarios", timeout=10).text
    )
    assert "test-key" not in text
    assert "secret-body-key" not in text
    assert "sec…key" in text and "t…y" in text


def test_journal_filters_and_limit(admin: str, base_url: str) -> None:
    match(base_url, "one@example.com")
    requests.post(f"{base_url}/api/v1/people/match", json={"email": "x@y.com"}, timeout=10)  # 401
    match(base_url, "two@example.com")
    requests.get(f"{base_url}/v1/organizations/enrich?domain=apollo.io", headers={"x-api-key": "test-key"})

    def listed(**params: object) -> list[dict[str, object]]:
        found: list[dict[str, object]] = requests.get(f"{admin}/requests", params=params, timeout=10).json()[
            "requests"
        ]
        return found

    assert [e["response"]["status"] for e in listed()] == [200, 401, 200, 200]
    assert len(listed(status=401)) == 1
    assert len(listed(path="/api/v1/people/match")) == 3
    assert len(listed(path="organizations/enrich")) == 1
    assert len(listed(api_key="test-key")) == 3
    newest = listed(limit=1)
    assert len(newest) == 1 and newest[0]["path"] == "/v1/organizations/enrich"
    assert listed(since="2999-01-01T00:00:00Z") == []
    assert len(listed(since=listed()[2]["time"])) >= 2
    assert requests.delete(f"{admin}/requests", timeout=10).json() == {"requests": []}
    assert listed() == []


def test_journal_filter_by_key_tells_apart_keys_with_the_same_mask(admin: str, base_url: str) -> None:
    twin = "tidy-key"  # masked "t…y", exactly as test-key is
    key = {"key": twin, "team": "twin", "plan": "professional", "credits": 5, "scopes": None}
    assert requests.post(f"{admin}/keys", json=key, timeout=10).status_code == 201
    match(base_url, "one@example.com")
    match(base_url, "two@example.com", **{"x-api-key": twin})
    match(base_url, "three@example.com")

    def emails(**params: str) -> list[str]:
        found = requests.get(f"{admin}/requests", params=params, timeout=10).json()["requests"]
        return [e["body"]["email"] for e in found]

    assert emails(api_key="test-key") == ["one@example.com", "three@example.com"]
    assert emails(api_key=twin) == ["two@example.com"]
    assert emails(api_key="t…y") == []  # a mask names no key
    # Only the start of the fingerprint that tells them apart leaves the store, beside the mask.
    text = requests.get(f"{admin}/requests", timeout=10).text
    entries = json.loads(text)["requests"]
    assert {e["api_key"] for e in entries} == {"t…y"}
    assert re.search("[0-9a-f]{64}", text) is None
    shown = [e["key_fingerprint"] for e in entries]
    assert all(re.fullmatch("[0-9a-f]{8}", f) for f in shown)
    assert shown[0] == shown[2] != shown[1]
    keys = requests.get(f"{admin}/keys", timeout=10).json()["keys"]
    assert sorted(k["fingerprint"] for k in keys if k["key"] == "t…y") == sorted(shown[:2])


def test_journal_marks_keys_the_registry_does_not_know(admin: str, base_url: str) -> None:
    assert match(base_url, "tim@apollo.io").status_code == 200
    assert match(base_url, "tim@apollo.io", **{"x-api-key": "tset-key"}).status_code == 401  # a typo
    requests.get(f"{base_url}/api/v1/no-such-route", timeout=10)  # no key at all
    entries = requests.get(f"{admin}/requests", timeout=10).json()["requests"]
    assert [(e["api_key"], e["key_known"], e["input"]) for e in entries] == [
        ("t…y", True, "email=tim@apollo.io"),
        ("t…y", False, "email=tim@apollo.io"),
        (None, None, ""),
    ]
    assert entries[0]["key_fingerprint"] != entries[1]["key_fingerprint"]
    # Known or not is read when the journal is listed: a key removed since shows as unknown.
    twin = {"key": "tset-key", "team": "twin", "plan": "professional", "credits": 5, "scopes": None}
    assert requests.post(f"{admin}/keys", json=twin, timeout=10).status_code == 201
    listed = requests.get(f"{admin}/requests", timeout=10).json()["requests"]
    assert [e["key_known"] for e in listed] == [True, True, None]
    requests.delete(f"{admin}/keys/tset-key", timeout=10)


def test_journal_shows_each_request_s_main_input(admin: str, base_url: str) -> None:
    headers = {"x-api-key": "test-key"}
    api = f"{base_url}/api/v1"
    requests.post(
        f"{api}/people/match",
        json={"reveal_personal_emails": True, "domain": "apollo.io", "name": "Tim Zheng", "api_key": "x"},
        headers=headers,
        timeout=10,
    )
    requests.get(f"{api}/organizations/enrich", params={"domain": "apollo.io"}, headers=headers, timeout=10)
    requests.get(f"{api}/people/5f2a3c9e8b7d6a5f4e3d2c1b", headers=headers, timeout=10)
    details = [{"email": f"p{i}@example.com"} for i in range(5)]
    requests.post(f"{api}/people/bulk_match", json={"details": details}, headers=headers, timeout=10)
    entries = requests.get(f"{admin}/requests", timeout=10).json()["requests"]
    assert [e["input"] for e in entries] == [
        "name=Tim Zheng domain=apollo.io",  # options and the key never (a 422 here: a key in the body)
        "domain=apollo.io",
        "person_id=5f2a3c9e8b7d6a5f4e3d2c1b",
        "details=[{email=p0@example.com}, {email=p1@example.com}, {email=p2@example.com}, …]",
    ]


def test_journal_bad_filters_get_400(admin: str) -> None:
    assert requests.get(f"{admin}/requests", params={"limit": "many"}, timeout=10).status_code == 400
    assert requests.get(f"{admin}/requests", params={"since": "yesterday"}, timeout=10).status_code == 400


def test_journal_holds_exactly_its_configured_size() -> None:
    server = start_serve("--journal-size", "7")
    try:
        for n in range(70):
            requests.post(
                f"{server.url}/api/v1/people/match",
                json={"email": f"ring{n}@example.com"},
                headers={"x-api-key": "test-key"},
                timeout=10,
            )
        entries = requests.get(f"{server.url}/__admin/requests", timeout=10).json()["requests"]
        assert len(entries) == 7
        assert [e["body"]["email"] for e in entries] == [f"ring{n}@example.com" for n in range(63, 70)]
    finally:
        server.stop()


def test_clock_can_be_frozen_set_and_advanced(admin: str) -> None:
    frozen = requests.post(f"{admin}/clock", json={"freeze": True}, timeout=10).json()
    assert frozen["frozen"] is True
    assert requests.get(f"{admin}/clock", timeout=10).json() == frozen
    at = requests.post(f"{admin}/clock", json={"now": "2026-03-01T12:00:00Z"}, timeout=10).json()
    assert at == {"now": "2026-03-01T12:00:00.000Z", "frozen": True}
    later = requests.post(f"{admin}/clock/advance", json={"seconds": 90.5}, timeout=10).json()
    assert later == {"now": "2026-03-01T12:01:30.500Z", "frozen": True}
    running = requests.post(f"{admin}/clock", json={"freeze": False}, timeout=10).json()
    assert running["frozen"] is False
    assert running["now"].startswith("2026-03-01T12:01:3")


def test_journal_timestamps_follow_the_clock(admin: str, base_url: str) -> None:
    requests.post(f"{admin}/clock", json={"freeze": True, "now": "2030-05-05T05:05:05Z"}, timeout=10)
    match(base_url)
    requests.post(f"{admin}/clock/advance", json={"seconds": 60}, timeout=10)
    match(base_url)
    times = [e["time"] for e in requests.get(f"{admin}/requests", timeout=10).json()["requests"]]
    assert times == ["2030-05-05T05:05:05.000Z", "2030-05-05T05:06:05.000Z"]


@pytest.mark.parametrize(
    "body",
    [{}, {"freeze": "yes"}, {"now": "tomorrow"}, {"now": 5}],
)
def test_bad_clock_requests_get_400(admin: str, body: dict[str, object]) -> None:
    response = requests.post(f"{admin}/clock", json=body, timeout=10)
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "ten"}, {"seconds": True}])
def test_bad_advance_gets_400(admin: str, body: dict[str, object]) -> None:
    assert requests.post(f"{admin}/clock/advance", json=body, timeout=10).status_code == 400


def test_scenarios_can_be_listed_and_deleted(admin: str) -> None:
    first = requests.post(f"{admin}/scenarios", json={"outcome": "no_match"}, timeout=10)
    second = requests.post(
        f"{admin}/scenarios",
        json={"outcome": "rate_limited", "times": 2, "match": {"path": "/api/v1/people/match"}},
        timeout=10,
    )
    assert first.status_code == 201 and second.status_code == 201
    listed = requests.get(f"{admin}/scenarios", timeout=10).json()["scenarios"]
    assert [s["id"] for s in listed] == [first.json()["id"], second.json()["id"]]
    assert listed[1]["times"] == 2 and listed[1]["outcome"] == "rate_limited"
    assert requests.delete(f"{admin}/scenarios/{first.json()['id']}", timeout=10).status_code == 200
    assert requests.delete(f"{admin}/scenarios/{first.json()['id']}", timeout=10).status_code == 404
    assert len(requests.get(f"{admin}/scenarios", timeout=10).json()["scenarios"]) == 1
    assert requests.delete(f"{admin}/scenarios", timeout=10).json() == {"scenarios": []}


def test_scenario_applies_its_times_then_goes(admin: str, base_url: str) -> None:
    requests.post(f"{admin}/scenarios", json={"outcome": "no_match", "times": 2}, timeout=10)
    answers = [match(base_url).json()["person"] for _ in range(3)]
    assert answers[0] is None and answers[1] is None and answers[2] is not None
    assert requests.get(f"{admin}/scenarios", timeout=10).json() == {"scenarios": []}


def test_scenario_without_times_lasts_until_deleted(admin: str, base_url: str) -> None:
    requests.post(f"{admin}/scenarios", json={"outcome": "no_match"}, timeout=10)
    assert all(match(base_url).json()["person"] is None for _ in range(5))


def test_scenario_can_let_calls_through_first(admin: str, base_url: str) -> None:
    requests.post(f"{admin}/scenarios", json={"outcome": "rate_limited", "after": 2, "times": 1}, timeout=10)
    assert [match(base_url).status_code for _ in range(4)] == [200, 200, 429, 200]


def test_scenario_matches_path_key_and_params(admin: str, base_url: str) -> None:
    requests.post(
        f"{admin}/scenarios",
        json={
            "outcome": "no_match",
            "match": {
                "path": "api/v1/people/match",
                "api_key": "test-key",
                "params": {"email": "Target@X.com"},
            },
        },
        timeout=10,
    )
    assert match(base_url, "other@x.com").json()["person"] is not None
    assert match(base_url, "target@x.com").json()["person"] is None
    other_route = requests.post(
        f"{base_url}/api/v1/people/bulk_match",
        json={"details": [{"email": "target@x.com"}], "email": "target@x.com"},
        headers={"x-api-key": "test-key"},
        timeout=10,
    )
    assert other_route.json()["matches"][0] is not None


@pytest.mark.parametrize(
    "body", [[], {"outcome": "explode"}, {"outcome": "no_match", "times": 0}, {"match": 3}]
)
def test_bad_scenarios_get_400(admin: str, body: object) -> None:
    response = requests.post(f"{admin}/scenarios", json=body, timeout=10)
    assert response.status_code == 400
    assert "error" in response.json()


def test_unknown_outcome_lists_the_valid_ones(admin: str, base_url: str) -> None:
    by_admin = requests.post(f"{admin}/scenarios", json={"outcome": "explode"}, timeout=10).json()
    by_header = match(base_url, **{"X-Mock-Scenario": "explode"})
    assert by_header.status_code == 400
    for body in (by_admin, by_header.json()):
        assert "explode" in body["error"]
        assert "rate_limited" in body["valid_outcomes"] and "connection_reset" in body["valid_outcomes"]
