"""What comes first: a request's key is checked before a large body is parsed or a forced outcome applied."""

from __future__ import annotations

import requests

MATCH = "/api/v1/people/match"


def test_a_large_body_without_a_key_is_refused_and_journaled_only_in_part(admin: str, base_url: str) -> None:
    body = '{"email": "ada@example.com", "padding": "' + "x" * 200_000 + '"}'
    response = requests.post(
        f"{base_url}{MATCH}", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 401
    assert response.text == "Invalid access credentials."
    entry = requests.get(f"{admin}/requests", timeout=10).json()["requests"][-1]
    assert entry["response"]["status"] == 401
    assert entry["body"] == body[:1024]


def test_a_large_body_with_a_key_is_answered(admin: str, base_url: str) -> None:
    body = '{"email": "ada@example.com", "padding": "' + "x" * 200_000 + '"}'
    response = requests.post(
        f"{base_url}{MATCH}",
        data=body,
        headers={"Content-Type": "application/json", "x-api-key": "test-key"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["person"]["email"] == "ada@example.com"


def test_a_forced_outcome_is_not_applied_before_authentication(admin: str, base_url: str) -> None:
    response = requests.post(
        f"{base_url}{MATCH}",
        json={"email": "ada@example.com"},
        headers={"X-Mock-Scenario": "timeout; seconds=20"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.text == "Invalid access credentials."
    requests.post(f"{admin}/scenarios", json={"outcome": "timeout", "params": {"seconds": 20}}, timeout=10)
    response = requests.post(f"{base_url}{MATCH}", json={"email": "ada@example.com"}, timeout=5)
    assert response.status_code == 401
    assert [s["used"] for s in requests.get(f"{admin}/scenarios", timeout=10).json()["scenarios"]] == [0]
