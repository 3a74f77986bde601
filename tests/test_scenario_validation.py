"""Typos and bad values in scenarios are refused when made, naming the field and the valid choices."""

from __future__ import annotations

from typing import Any

import pytest
import requests

MATCH = "/api/v1/people/match"


def queue(admin: str, document: Any) -> requests.Response:
    """POST a scenario document to the control API."""
    return requests.post(f"{admin}/scenarios", json=document, timeout=10)


def queued(admin: str) -> list[Any]:
    """The scenarios the emulator holds."""
    scenarios: list[Any] = requests.get(f"{admin}/scenarios", timeout=10).json()["scenarios"]
    return scenarios


def test_a_misspelt_match_field_is_refused_naming_the_valid_ones(admin: str) -> None:
    response = queue(admin, {"outcome": "no_match", "match": {"pth": "/x"}})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Scenario field 'match.pth' is unknown (valid: path, api_key, params)",
        "field": "match.pth",
        "valid_fields": ["path", "api_key", "params"],
    }
    assert queued(admin) == []


def test_a_misspelt_top_level_field_is_refused(admin: str) -> None:
    response = queue(admin, {"outcome": "no_match", "time": 2})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "time"
    assert body["valid_fields"] == ["outcome", "params", "match", "times", "after", "responses"]


def test_a_match_parameter_no_request_has_is_refused(admin: str) -> None:
    response = queue(admin, {"outcome": "no_match", "match": {"params": {"emial": "a@b.co"}}})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "match.params.emial"
    assert "email" in body["valid_fields"] and "details" in body["valid_fields"]


def test_a_non_numeric_outcome_parameter_is_refused_with_its_range(admin: str) -> None:
    response = queue(admin, {"outcome": "slow", "params": {"delay_ms": "abc"}})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Scenario parameter 'delay_ms' must be a number from 0 to 30000 (milliseconds), got 'abc'",
        "field": "delay_ms",
        "minimum": 0,
        "maximum": 30000,
    }
    assert queued(admin) == []


def test_an_unknown_outcome_parameter_is_refused_naming_the_valid_ones(admin: str) -> None:
    response = queue(admin, {"outcome": "timeout", "params": {"secs": 3}})
    assert response.status_code == 400
    assert response.json() == {
        "error": "The outcome 'timeout' takes no parameter 'secs' (valid: seconds)",
        "field": "secs",
        "valid_parameters": ["seconds"],
    }


def test_an_outcome_without_parameters_takes_none(admin: str) -> None:
    response = queue(admin, {"outcome": "no_match", "params": {"delay_ms": 3}})
    assert response.status_code == 400
    assert response.json()["valid_parameters"] == []


@pytest.mark.parametrize(
    "header",
    [
        "slow; delay_ms=nan",
        "slow; delay_ms=inf",
        "slow; delay_ms=-1",
        "timeout; seconds=nan",
        "timeout; seconds=121",
    ],
)
def test_a_header_with_a_value_out_of_range_is_a_400(base_url: str, admin: str, header: str) -> None:
    response = requests.post(
        base_url + MATCH,
        json={"email": "ada@example.com"},
        headers={"x-api-key": "test-key", "X-Mock-Scenario": header},
        timeout=10,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("Scenario parameter '")
    assert "must be a number from 0 to" in body["error"]


def test_a_header_with_an_unknown_parameter_is_a_400(base_url: str, admin: str) -> None:
    response = requests.post(
        base_url + MATCH,
        json={"email": "ada@example.com"},
        headers={"x-api-key": "test-key", "X-Mock-Scenario": "slow; delay=300"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "The outcome 'slow' takes no parameter 'delay' (valid: delay_ms)",
        "field": "delay",
        "valid_parameters": ["delay_ms"],
    }


def test_webhook_late_with_nan_is_refused_and_charges_nothing(base_url: str, admin: str) -> None:
    before = requests.get(f"{admin}/usage", timeout=10).json()
    response = requests.post(
        base_url + MATCH,
        json={"email": "ada@example.com", "reveal_phone_number": True, "webhook_url": "http://127.0.0.1:9/"},
        headers={"x-api-key": "test-key", "X-Mock-Scenario": "webhook_late; delay_s=nan"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "'delay_s' must be a number from 0 to" in response.json()["error"]
    assert requests.get(f"{admin}/usage", timeout=10).json() == before
    assert requests.get(f"{admin}/webhooks", timeout=10).json()["deliveries"] == []


def test_a_queued_outcome_parameter_is_used(base_url: str, admin: str) -> None:
    response = queue(admin, {"outcome": "timeout", "params": {"seconds": "0.2"}, "times": 1})
    assert response.status_code == 201
    assert response.json()["params"] == {"seconds": 0.2}
    answer = requests.post(
        base_url + MATCH, json={"email": "ada@example.com"}, headers={"x-api-key": "test-key"}, timeout=10
    )
    assert answer.status_code == 504


@pytest.mark.parametrize(("given", "echoed"), [("300", 300), (300, 300), (" 2.5 ", 2.5), (0.0, 0)])
def test_a_queued_scenario_echoes_its_parameter_as_the_number_it_read(
    admin: str, given: Any, echoed: float
) -> None:
    response = queue(admin, {"outcome": "slow", "params": {"delay_ms": given}, "times": 1})
    assert response.status_code == 201
    assert response.json()["params"] == {"delay_ms": echoed}
    assert type(response.json()["params"]["delay_ms"]) is type(echoed)
    assert [scenario["params"] for scenario in queued(admin)] == [{"delay_ms": echoed}]
    requests.delete(f"{admin}/scenarios", timeout=10)


@pytest.mark.parametrize(("field", "longest"), [("path", 2_048), ("api_key", 200)])
def test_a_match_path_or_key_past_its_length_or_not_a_string_is_refused_and_nothing_is_queued(
    admin: str, base_url: str, field: str, longest: int
) -> None:
    error = {"error": f"Scenario 'match.{field}' must be a string of at most {longest} characters"}
    for value in ("x" * (longest + 1), 42):
        response = queue(admin, {"outcome": "no_match", "match": {field: value}})
        assert (response.status_code, response.json()) == (400, error)
    assert queued(admin) == []
    at_the_bound = queue(admin, {"outcome": "no_match", "match": {field: "x" * longest}})
    assert at_the_bound.status_code == 201
    assert len(queued(admin)) == 1
    match = requests.post(
        base_url + MATCH, json={"email": "ada@example.com"}, headers={"x-api-key": "test-key"}, timeout=10
    )
    assert match.status_code == 200 and match.json()["person"]["email"] == "ada@example.com"
