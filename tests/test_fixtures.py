"""The canned persons and the default key registry, and how data.py loads them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain import data

PERSONS = data.fixtures_dir() / "persons"
EXAMPLES = Path(__file__).parent / "data" / "apollo_examples"


def _fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PERSONS / name).read_text(encoding="utf-8"))
    return document


def _write(folder: Path, name: str, document: Any) -> None:
    (folder / name).write_text(json.dumps(document), encoding="utf-8")


def test_data_folders_are_those_of_the_checkout() -> None:
    repo = Path(__file__).resolve().parents[1]
    assert data.schemas_dir() == repo / "schemas"
    assert data.fixtures_dir() == repo / "fixtures"


@pytest.mark.parametrize("path", sorted(PERSONS.glob("*.json")), ids=lambda path: path.name)
def test_person_fixture_is_an_apollo_person_with_only_documented_keys(path: Path) -> None:
    data.validate("person", json.loads(path.read_text(encoding="utf-8")), strict=True)


@pytest.mark.parametrize("path", sorted(PERSONS.glob("*.json")), ids=lambda path: path.name)
def test_person_fixture_is_a_valid_people_match_answer(path: Path) -> None:
    person = json.loads(path.read_text(encoding="utf-8"))
    data.validate("people_match.response", {"person": person, "request_id": 1}, strict=True)


def test_fixtures_include_the_documented_and_made_up_people() -> None:
    names = {path.name for path in PERSONS.glob("*.json")}
    assert {"tim-zheng.json", "priya-raman.json", "casey-brennan.json", "katrin-vogel.json"} <= names


def test_tim_zheng_is_apollo_documented_example_person() -> None:
    tim = _fixture("tim-zheng.json")
    assert tim["email"] == "tim@apollo.io"
    assert tim["name"] == "Tim Zheng"
    assert tim["organization"]["primary_domain"] == "apollo.io"


def test_tim_zheng_matches_the_reference_page_apart_from_repaired_emoji() -> None:
    page = EXAMPLES / "current_people_match_reference_page.json"
    reference = json.loads(page.read_text(encoding="utf-8"))["person"]
    tim = _fixture("tim-zheng.json")
    assert tim.keys() == reference.keys()
    assert tim["id"] == reference["id"]
    assert tim["employment_history"] == reference["employment_history"]
    assert tim["organization"].keys() == reference["organization"].keys()
    # The stored page shows the contact's emoji as Mac Roman mojibake; the fixture has them
    # decoded, as in examples/people_match_200_with_waterfall.json.
    assert tim["contact"]["title"] == reference["contact"]["title"].encode("mac_roman").decode()


def test_complete_profile_has_organization_and_history() -> None:
    priya = _fixture("priya-raman.json")
    assert priya["email_status"] == "verified"
    assert priya["organization"]["id"] == priya["organization_id"]
    assert len(priya["employment_history"]) >= 2
    assert priya["email"].endswith(".example")


def test_partial_profile_has_no_email_and_no_organization() -> None:
    casey = _fixture("casey-brennan.json")
    assert casey["email"] is None
    assert casey["email_status"] == "unavailable"
    assert casey["organization"] is None
    assert casey["organization_id"] is None
    assert casey["employment_history"] == []


def test_eu_profile_lives_in_germany() -> None:
    katrin = _fixture("katrin-vogel.json")
    assert katrin["country"] == "Germany"
    assert katrin["organization"]["country"] == "Germany"
    assert katrin["email"].endswith(".example")


def test_made_up_people_use_made_up_domains() -> None:
    for name in ("priya-raman.json", "katrin-vogel.json"):
        person = _fixture(name)
        assert person["organization"]["primary_domain"].endswith(".example")


def test_load_fixture_persons_returns_every_person_sorted_by_file_name() -> None:
    persons = data.load_fixture_persons()
    files = sorted(path.name for path in PERSONS.glob("*.json"))
    assert [p["id"] for p in persons] == [_fixture(name)["id"] for name in files]


def test_fixture_persons_are_indexable_without_collisions() -> None:
    persons = data.load_fixture_persons()
    emails = [p["email"] for p in persons if p["email"]]
    keys = [p["id"] for p in persons] + emails + [p["linkedin_url"] for p in persons]
    keys += [hashlib.md5(e.encode()).hexdigest() for e in emails]
    keys += [hashlib.sha256(e.encode()).hexdigest() for e in emails]
    assert len(keys) == len(set(keys))


def test_loaded_persons_are_copies() -> None:
    first = data.load_fixture_persons()
    first[0]["name"] = "changed"
    assert data.load_fixture_persons()[0]["name"] != "changed"


def test_load_fixture_persons_reads_a_given_folder(tmp_path: Path) -> None:
    tim = _fixture("tim-zheng.json")
    _write(tmp_path, "b.json", tim)
    _write(tmp_path, "a.json", _fixture("casey-brennan.json"))
    names = [p["name"] for p in data.load_fixture_persons(tmp_path)]
    assert names == ["Casey Brennan", "Tim Zheng"]


def test_invalid_person_fixture_is_reported_with_its_file(tmp_path: Path) -> None:
    _write(tmp_path, "bad.json", {**_fixture("tim-zheng.json"), "id": 42})
    with pytest.raises(data.SchemaViolation) as caught:
        data.load_fixture_persons(tmp_path)
    assert "bad.json" in str(caught.value)
    assert ("$.id", "42 is not of type 'string'") in caught.value.violations


def test_person_fixture_that_is_not_json_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json"):
        data.load_fixture_persons(tmp_path)


def test_two_fixtures_with_one_id_are_refused(tmp_path: Path) -> None:
    tim = _fixture("tim-zheng.json")
    _write(tmp_path, "a.json", tim)
    _write(tmp_path, "b.json", {**tim, "email": "other@apollo.io"})
    with pytest.raises(ValueError, match="id"):
        data.load_fixture_persons(tmp_path)


def test_missing_fixture_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a folder"):
        data.load_fixture_persons(tmp_path / "nowhere")


def test_default_key_registry_is_the_documented_one() -> None:
    assert data.load_key_registry() == {
        "keys": [
            {
                "key": "test-key",
                "team": "team-test",
                "plan": "professional",
                "credits": 10000,
                "scopes": None,
            },
            {"key": "free-plan-key", "team": "team-free", "plan": "free", "credits": 50, "scopes": None},
            {
                "key": "load-test-key",
                "team": "team-load",
                "plan": "custom",
                "credits": None,
                "limits": {"minute": None, "hour": None, "day": None},
                "scopes": None,
            },
        ]
    }


def test_key_registry_file_validates() -> None:
    document = json.loads((data.fixtures_dir() / "keys.json").read_text(encoding="utf-8"))
    data.validate("key_registry", document)


def test_key_registry_with_unknown_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps({"keys": [{"key": "k", "team": "t", "plan": "gold", "credits": 1, "scopes": None}]})
    )
    with pytest.raises(data.SchemaViolation, match="keys.json") as caught:
        data.load_key_registry(path)
    assert caught.value.violations[0][0] == "$.keys[0].plan"


def test_key_registry_with_duplicate_keys_is_refused(tmp_path: Path) -> None:
    entry = {"key": "k", "team": "t", "plan": "basic", "credits": 1, "scopes": None}
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [entry, {**entry, "team": "u"}]}))
    with pytest.raises(data.SchemaViolation) as caught:
        data.load_key_registry(path)
    assert caught.value.violations == [("$.keys[1].key", "duplicate of $.keys[0].key")]


def test_key_registry_with_scopes_is_accepted(tmp_path: Path) -> None:
    entry = {
        "key": "k",
        "team": "t",
        "plan": "basic",
        "credits": 1,
        "scopes": ["api/v1/people/match", "api/v1/organizations/enrich"],
    }
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [entry]}))
    assert data.load_key_registry(path)["keys"][0]["scopes"] == entry["scopes"]


def _served_name(config: Any, email: str) -> Any:
    from mock_server.web.app import create_app
    from mock_server.web.inprocess import client

    app = create_app(config)
    try:
        with client(app, api_key="test-key") as http:
            answer = http.post("/api/v1/people/match", json={"email": email})
        return answer.json()["person"]["name"]
    finally:
        app.extensions["fakeapollo"].close()


def test_a_fixtures_folder_adds_to_the_bundled_persons(tmp_path: Path) -> None:
    from mock_server.config import Config

    mine = {**_fixture("tim-zheng.json"), "id": "0123456789abcdef01234567", "email": "me@acme.test",
            "name": "Me Myself"}
    _write(tmp_path, "me.json", mine)
    config = Config(fixtures=tmp_path)
    assert _served_name(config, "me@acme.test") == "Me Myself"
    assert _served_name(config, "tim@apollo.io") == "Tim Zheng"


def test_no_bundled_fixtures_leaves_them_out(tmp_path: Path) -> None:
    from mock_server.config import Config

    mine = {**_fixture("tim-zheng.json"), "id": "0123456789abcdef01234567", "email": "me@acme.test"}
    _write(tmp_path, "me.json", mine)
    assert _served_name(Config(fixtures=tmp_path, bundled_fixtures=False), "tim@apollo.io") != "Tim Zheng"


def test_a_users_fixture_wins_over_a_bundled_one_with_its_email(tmp_path: Path) -> None:
    from mock_server.config import Config

    _write(tmp_path, "tim.json", {**_fixture("tim-zheng.json"), "name": "Tim Override"})
    assert _served_name(Config(fixtures=tmp_path), "tim@apollo.io") == "Tim Override"


@pytest.mark.slow
def test_serve_flags_add_or_replace_the_bundled_fixtures(tmp_path: Path) -> None:
    import requests

    from tests.conftest import start_serve

    _write(tmp_path, "me.json", {**_fixture("tim-zheng.json"), "id": "0123456789abcdef01234567",
                                 "email": "me@acme.test", "name": "Me Myself"})

    def name(url: str, email: str) -> Any:
        answer = requests.post(
            url + "/api/v1/people/match", json={"email": email}, headers={"x-api-key": "test-key"}, timeout=10
        )
        return answer.json()["person"]["name"]

    for flags, bundled in (((), True), (("--no-bundled-fixtures",), False)):
        server = start_serve("--fixtures", str(tmp_path), *flags)
        try:
            assert name(server.url, "me@acme.test") == "Me Myself"
            assert (name(server.url, "tim@apollo.io") == "Tim Zheng") is bundled
        finally:
            server.stop()
