"""Bodies Ruby's JSON.parse refuses (too deep, NaN, overflowing, unpaired surrogates): 400s, state intact."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server.domain.encoding import NotEncodable, dumps
from mock_server.domain.journal import Entry
from mock_server.domain.scenarios import Outcome, OutcomeName, Scenario
from mock_server.stores.sqlite_store import SqliteStore
from tests.conftest import start_serve

MATCH = "/api/v1/people/match"
KEY = {"x-api-key": "load-test-key"}
TOO_DEEP = {"error": "The request body is nested too deeply (more than 100 arrays and objects)"}
UNPAIRED = {
    "error": "The request body holds an unpaired surrogate (a \\ud800-\\udfff escape without its pair)"
}
NAN = {"error": "The request body is not valid JSON: NaN is not a JSON number"}
BIG = "18446744073709551616"  # 2**64: past orjson's integers, so the standard parser reads the body
HUGE = "1" + "0" * 400  # an integer past a double's range: Ruby reads it, orjson does not


def nested(depth: int) -> str:
    """A JSON value of `depth` nested arrays."""
    return "[" * depth + "]" * depth


def strict(text: bytes) -> Any:
    """Parse JSON as RFC 8259 has it: NaN and the infinities are refused."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def post(base_url: str, path: str, body: str, headers: dict[str, str] | None = None) -> requests.Response:
    """POST `body` as it is, as JSON."""
    return requests.post(
        base_url + path,
        data=body.encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        timeout=30,
    )


def assert_state_intact(base_url: str, admin: str) -> dict[str, Any]:
    """A normal match is still a 200, then the journal and the scenario list answer valid JSON."""
    match = requests.post(base_url + MATCH, json={"email": "ada@example.com"}, headers=KEY, timeout=30)
    assert match.status_code == 200 and match.json()["person"]["email"] == "ada@example.com"
    journal = requests.get(f"{admin}/requests", timeout=30)
    assert journal.status_code == 200
    document: dict[str, Any] = strict(journal.content)
    scenarios = requests.get(f"{admin}/scenarios", timeout=30)
    assert scenarios.status_code == 200
    strict(scenarios.content)
    return document


@pytest.mark.parametrize("depth", [101, 990, 5000])
@pytest.mark.parametrize("headers", [KEY, {}], ids=["key", "no-key"])
def test_a_body_nested_past_100_levels_is_refused_with_a_400(
    base_url: str, admin: str, depth: int, headers: dict[str, str]
) -> None:
    response = post(base_url, MATCH, '{"x":' + nested(depth - 1) + "}", headers)
    assert (response.status_code, response.json()) == (400, TOO_DEEP)
    journal = assert_state_intact(base_url, admin)
    assert [e["response"]["status"] for e in journal["requests"]] == [400, 200]


def test_a_body_nested_100_levels_is_read_and_one_level_more_is_refused(base_url: str, admin: str) -> None:
    read = post(base_url, MATCH, '{"email":"ada@example.com","x":' + nested(99) + "}", KEY)
    assert read.status_code == 200 and read.json()["person"]["email"] == "ada@example.com"
    refused = post(base_url, MATCH, '{"email":"ada@example.com","x":' + nested(100) + "}", KEY)
    assert (refused.status_code, refused.json()) == (400, TOO_DEEP)
    journal = assert_state_intact(base_url, admin)
    assert journal["requests"][0]["body"]["x"] == json.loads(nested(99))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("headers", [KEY, {}], ids=["key", "no-key"])
def test_nan_and_the_infinities_are_refused_with_a_400(
    base_url: str, admin: str, constant: str, headers: dict[str, str]
) -> None:
    response = post(base_url, MATCH, f'{{"x":[{constant},{BIG}]}}', headers)
    assert (response.status_code, response.json()) == (
        400,
        {"error": f"The request body is not valid JSON: {constant} is not a JSON number"},
    )
    journal = assert_state_intact(base_url, admin)
    assert [e["response"]["status"] for e in journal["requests"]] == [400, 200]


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e309"])
def test_a_number_that_overflows_a_float_is_refused_with_a_400(
    base_url: str, admin: str, number: str
) -> None:
    response = post(base_url, MATCH, f'{{"email":"ada@example.com","x":[{number},{BIG}]}}', KEY)
    assert (response.status_code, response.json()) == (
        400,
        {"error": f"The request body holds a number too large for a float: {number}"},
    )
    assert_state_intact(base_url, admin)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/mixed_companies/search", '{"organization_ids":"\\ud800"}'),
        ("/api/v1/mixed_people/api_search", '{"organization_ids":["\\udc00"]}'),
        ("/api/v1/contacts", '{"first_name":"Ada","label_names":["\\ud800"]}'),
        ("/api/v1/contacts/bulk_create", '{"contacts":[{"first_name":"Ada","label_names":["\\ud800x"]}]}'),
        (MATCH, '{"email":"ada@example.com","\\udbff":1}'),
        (MATCH, '{"email":"ada@example.com","x":["\\udc00\\ud800", ' + BIG + "]}"),
    ],
)
def test_an_unpaired_surrogate_is_refused_with_a_400(base_url: str, admin: str, path: str, body: str) -> None:
    response = post(base_url, path, body, KEY)
    assert (response.status_code, response.json()) == (400, UNPAIRED)
    assert_state_intact(base_url, admin)


def test_an_unpaired_surrogate_is_refused_and_a_pair_is_read_as_its_character(
    base_url: str, admin: str
) -> None:
    refused = post(base_url, "/api/v1/contacts", '{"first_name":"Ada","label_names":["\\ud83d"]}', KEY)
    assert (refused.status_code, refused.json()) == (400, UNPAIRED)
    read = post(base_url, "/api/v1/contacts", '{"first_name":"Ada \\ud83d\\ude00","label_names":["x"]}', KEY)
    assert read.status_code == 200
    assert read.json()["contact"]["first_name"] == "Ada \U0001f600"
    assert_state_intact(base_url, admin)


def test_a_contact_with_nan_is_refused_and_one_with_a_huge_integer_echoes_valid_json(
    base_url: str, admin: str
) -> None:
    refused = post(base_url, "/api/v1/contacts", f'{{"typed_custom_fields":{{"f":NaN,"g":{BIG}}}}}', KEY)
    assert (refused.status_code, refused.json()) == (400, NAN)
    body = f'{{"first_name":"Ada","typed_custom_fields":{{"f":{HUGE}}}}}'
    created = post(base_url, "/api/v1/contacts", body, KEY)
    assert created.status_code == 200
    assert strict(created.content)["contact"]["typed_custom_fields"] == {"f": int(HUGE)}
    searched = requests.post(base_url + "/api/v1/contacts/search", json={}, headers=KEY, timeout=30)
    assert searched.status_code == 200
    assert [c["typed_custom_fields"] for c in strict(searched.content)["contacts"]] == [{"f": int(HUGE)}]
    journal = assert_state_intact(base_url, admin)
    assert journal["requests"][1]["body"]["typed_custom_fields"] == {"f": int(HUGE)}


@pytest.mark.parametrize(
    ("scenario", "refusal"),
    [
        ('{"outcome":"no_match","match":{"params":{"email":' + nested(990) + "}}}", TOO_DEEP),
        ('{"outcome":"no_match","match":{"params":{"email":[NaN,' + BIG + "]}}}", NAN),
        ('{"outcome":"respond","responses":[{"status":200,"body":' + nested(990) + "}]}", TOO_DEEP),
    ],
    ids=["deep-email", "nan-email", "deep-respond"],
)
def test_a_scenario_holding_what_json_parse_refuses_is_not_queued(
    base_url: str, admin: str, scenario: str, refusal: dict[str, str]
) -> None:
    response = post(base_url, "/__admin/scenarios", scenario)
    assert (response.status_code, response.json()) == (400, refusal)
    assert requests.get(f"{admin}/scenarios", timeout=30).json() == {"scenarios": []}
    assert_state_intact(base_url, admin)


def test_a_deep_email_beside_a_queued_email_scenario_is_a_400_and_the_scenario_still_applies(
    base_url: str, admin: str
) -> None:
    queued = requests.post(
        f"{admin}/scenarios",
        json={"outcome": "no_match", "match": {"params": {"email": "ada@example.com"}}, "times": 1},
        timeout=30,
    )
    assert queued.status_code == 201
    response = post(base_url, MATCH, '{"email":' + nested(990) + "}", KEY)
    assert (response.status_code, response.json()) == (400, TOO_DEEP)
    forced = requests.post(base_url + MATCH, json={"email": "ada@example.com"}, headers=KEY, timeout=30)
    assert forced.status_code == 200 and forced.json()["person"] is None
    assert_state_intact(base_url, admin)


@pytest.mark.parametrize(
    "text", ["[NaN, " + BIG + "]", nested(990)], ids=["nan-beside-a-huge-integer", "nested-990"]
)
def test_a_scripted_answer_json_cannot_carry_leaves_the_journal_readable(
    base_url: str, admin: str, text: str
) -> None:
    queued = requests.post(
        f"{admin}/scenarios",
        json={
            "outcome": "respond",
            "responses": [{"status": 200, "headers": {"Content-Type": "application/json"}, "body": text}],
        },
        timeout=30,
    )
    assert queued.status_code == 201
    answered = requests.post(base_url + MATCH, json={"email": "ada@example.com"}, headers=KEY, timeout=30)
    assert (answered.status_code, answered.text) == (200, text)
    requests.delete(f"{admin}/scenarios", timeout=30).raise_for_status()
    journal = assert_state_intact(base_url, admin)
    shown = journal["requests"][0]
    assert (shown["path"], shown["response"]["status"], shown["response"]["body"]) == (MATCH, 200, text)


def test_a_stored_entry_json_cannot_carry_is_shown_with_a_note_and_the_journal_stays_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)  # an entry an older version kept: its body NaN beside a 65-bit integer
    store.journal.record(
        Entry(
            sequence=0,  # numbered by the store
            time=datetime(2026, 1, 1, tzinfo=UTC),
            method="POST",
            path=MATCH,
            query={},
            headers={},
            body={"x": [float("nan"), 2**64]},
            status=401,
            response_text="Invalid access credentials.",
            response_type="text/plain",
            duration_ms=1.0,
        )
    )
    store.close()
    server = start_serve("--state-file", str(path))
    try:
        admin = f"{server.url}/__admin"
        journal = assert_state_intact(server.url, admin)
        note = (
            "(not shown: the value cannot be encoded as JSON:"
            " Out of range float values are not JSON compliant)"
        )
        old, new = journal["requests"]
        assert (old["path"], old["body"], old["input"]) == (MATCH, note, note)
        assert old["response"]["body"] == "Invalid access credentials."
        assert new["body"] == {"email": "ada@example.com"}
    finally:
        server.stop()


def test_a_scenario_compares_params_nested_past_the_encoders_reach_as_different() -> None:
    deep: Any = "ada@example.com"
    for _ in range(5000):
        deep = [deep]
    scenario = Scenario(id="s1", outcome=Outcome(OutcomeName.NO_MATCH), params={"email": deep})
    assert not scenario.matches(MATCH, None, {"email": deep})
    assert not Scenario(id="s2", outcome=Outcome(OutcomeName.NO_MATCH), params={"email": ["x"]}).matches(
        MATCH, None, {"email": deep}
    )


@pytest.mark.parametrize(
    "value",
    [[float("nan"), 2**64], [float("inf"), 2**64], {"x": [-float("inf"), "\ud800", 2**64]}],
    ids=["nan", "infinity", "minus-infinity"],
)
def test_the_encoder_refuses_what_json_cannot_carry_instead_of_writing_it(value: Any) -> None:
    with pytest.raises(NotEncodable, match="cannot be encoded as JSON"):
        dumps(value)


def test_the_encoder_refuses_a_value_nested_past_its_reach() -> None:
    deep: Any = [2**64]
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(NotEncodable, match="nested too deeply"):
        dumps(deep)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/keys", '{"key":"nan-key","team":"t","plan":"basic","scopes":null,"credits":%s}'),
        ("PATCH", "/keys/test-key", '{"credits":%s}'),
        ("POST", "/clock/advance", '{"seconds":%s}'),
        ("POST", "/scenarios", '{"outcome":"no_match","match":{"params":{"email":[%s,' + BIG + "]}}}"),
    ],
    ids=["add-key", "change-key", "advance-clock", "scenario"],
)
def test_a_control_api_body_holding_nan_or_an_infinity_is_refused_before_any_field_is_read(
    base_url: str, admin: str, constant: str, method: str, path: str, body: str
) -> None:
    keys = requests.get(f"{admin}/keys", timeout=30).json()
    clock = requests.get(f"{admin}/clock", timeout=30).json()
    response = requests.request(
        method,
        admin + path,
        data=(body % constant).encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert (response.status_code, response.json()) == (
        400,
        {"error": f"The request body is not valid JSON: {constant} is not a JSON number"},
    )
    assert requests.get(f"{admin}/keys", timeout=30).json() == keys
    assert requests.get(f"{admin}/clock", timeout=30).json()["now"][:16] == clock["now"][:16]
    assert requests.get(f"{admin}/scenarios", timeout=30).json() == {"scenarios": []}
    assert_state_intact(base_url, admin)
