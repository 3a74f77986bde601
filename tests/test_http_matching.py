"""people/match behaviour over real HTTP: who matches, how, and what comes back."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from tests.conftest import ROOT, start_serve

NO_MATCH = {"person": None}
WEBHOOK_ERROR = {"error": "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"}
WATERFALL_ACCEPTED = {
    "status": "accepted",
    "message": "Waterfall enrichment request accepted. Results will be sent to the provided webhook URL.",
}


def match(api: requests.Session, base_url: str, **params: object) -> requests.Response:
    """POST people/match with a JSON body."""
    return api.post(f"{base_url}/api/v1/people/match", json=params)


def test_documented_example_person_is_returned_for_tim(api: requests.Session, base_url: str) -> None:
    fixture = json.loads((ROOT / "fixtures" / "persons" / "tim-zheng.json").read_text())
    body = match(api, base_url, email="tim@apollo.io").json()
    assert body["person"] == fixture


def test_name_only_returns_null_person(api: requests.Session, base_url: str) -> None:
    assert match(api, base_url, first_name="Ada", last_name="Lovelace").json() == NO_MATCH
    assert match(api, base_url, name="Ada Lovelace").json() == NO_MATCH


def test_no_identifier_returns_null_person(api: requests.Session, base_url: str) -> None:
    response = api.post(f"{base_url}/api/v1/people/match")
    assert response.status_code == 200
    assert response.json() == NO_MATCH


def test_nomatch_test_domain_never_matches(api: requests.Session, base_url: str) -> None:
    assert match(api, base_url, email="anyone@nomatch.test").json() == NO_MATCH
    assert match(api, base_url, name="Ada Lovelace", domain="nomatch.test").json() == NO_MATCH


def test_partial_test_domain_returns_a_partial_person(api: requests.Session, base_url: str) -> None:
    person = match(api, base_url, email="someone@partial.test").json()["person"]
    assert person is not None
    assert person["email"] is None or person["organization"] is None or person["employment_history"] == []


def test_eu_test_domain_returns_a_person_in_the_eu(api: requests.Session, base_url: str) -> None:
    eu = {
        "Austria",
        "Belgium",
        "Bulgaria",
        "Croatia",
        "Cyprus",
        "Czech Republic",
        "Czechia",
        "Denmark",
        "Estonia",
        "Finland",
        "France",
        "Germany",
        "Greece",
        "Hungary",
        "Ireland",
        "Italy",
        "Latvia",
        "Lithuania",
        "Luxembourg",
        "Malta",
        "Netherlands",
        "Poland",
        "Portugal",
        "Romania",
        "Slovakia",
        "Slovenia",
        "Spain",
        "Sweden",
    }
    for local in ("a", "b", "c"):
        person = match(api, base_url, email=f"{local}@eu.test").json()["person"]
        assert person["country"] in eu


def test_email_is_normalised(api: requests.Session, base_url: str) -> None:
    plain = match(api, base_url, email="ada@example.com").json()["person"]
    shouty = match(api, base_url, email="  ADA@Example.COM ").json()["person"]
    assert plain == shouty


def test_name_and_domain_find_the_person_of_that_email(api: requests.Session, base_url: str) -> None:
    by_email = match(api, base_url, email="ada.lovelace@analytical.example").json()["person"]
    by_name = match(
        api, base_url, first_name="Ada", last_name="Lovelace", domain="https://www.Analytical.example/"
    ).json()["person"]
    assert by_name == by_email


def test_person_is_the_same_whichever_identifier_finds_it(api: requests.Session, base_url: str) -> None:
    email = "chain.person@identity.test"  # a .test domain: never thin
    first = match(api, base_url, email=email).json()["person"]
    by_id = match(api, base_url, id=first["id"]).json()["person"]
    by_linkedin = match(api, base_url, linkedin_url=by_id["linkedin_url"]).json()["person"]
    by_hash = match(api, base_url, hashed_email=hashlib.sha256(email.encode()).hexdigest()).json()["person"]
    by_md5 = match(api, base_url, hashed_email=hashlib.md5(email.encode()).hexdigest()).json()["person"]
    assert first == by_id == by_linkedin == by_hash == by_md5


def test_same_seed_gives_byte_identical_person_in_another_process(base_url: str) -> None:
    headers = {"x-api-key": "test-key", "Content-Type": "application/json"}
    payload = json.dumps({"email": "determinism@seed.example"})
    here = requests.post(f"{base_url}/api/v1/people/match", data=payload, headers=headers)
    other = start_serve("--seed", "0")
    reseeded = start_serve("--seed", "7")
    try:
        there = requests.post(f"{other.url}/api/v1/people/match", data=payload, headers=headers)
        different = requests.post(f"{reseeded.url}/api/v1/people/match", data=payload, headers=headers)
    finally:
        other.stop()
        reseeded.stop()
    person_here = json.dumps(here.json()["person"]).encode()
    assert person_here == json.dumps(there.json()["person"]).encode()
    assert here.json()["person"]["id"] != different.json()["person"]["id"]


def test_match_carries_a_signed_64_bit_request_id(api: requests.Session, base_url: str) -> None:
    body = match(api, base_url, email="ada@example.com").json()
    assert isinstance(body["request_id"], int)
    assert -(2**63) <= body["request_id"] < 2**63


def test_personal_emails_are_revealed_only_when_asked(api: requests.Session, base_url: str) -> None:
    revealed = []
    for n in range(10):
        email = f"reveal.me.{n}@example.com"
        hidden = match(api, base_url, email=email).json()["person"]
        shown = match(api, base_url, email=email, reveal_personal_emails=True).json()["person"]
        assert "personal_emails" not in hidden
        assert {k: v for k, v in shown.items() if k != "personal_emails"} == hidden
        revealed.extend(shown.get("personal_emails", []))
    assert revealed, "some of ten generated persons should have personal emails"
    assert all("@" in address for address in revealed)


def test_personal_emails_are_never_revealed_in_gdpr_regions(api: requests.Session, base_url: str) -> None:
    person = match(api, base_url, email="privacy@eu.test", reveal_personal_emails=True).json()["person"]
    assert not person.get("personal_emails")


@pytest.mark.parametrize("flag", ["reveal_phone_number", "run_waterfall_email", "run_waterfall_phone"])
def test_flag_without_webhook_url_gets_400(api: requests.Session, base_url: str, flag: str) -> None:
    response = match(api, base_url, email="ada@example.com", **{flag: True})
    assert response.status_code == 400
    assert response.json() == {"error": f"Please add a valid 'webhook_url' parameter when using '{flag}'"}


def test_reveal_phone_without_webhook_url_gets_apollos_exact_body(
    api: requests.Session, base_url: str
) -> None:
    response = match(api, base_url, email="ada@example.com", reveal_phone_number="true")
    assert response.status_code == 400
    assert response.json() == WEBHOOK_ERROR


def test_invalid_webhook_url_counts_as_missing(api: requests.Session, base_url: str) -> None:
    response = match(
        api, base_url, email="ada@example.com", reveal_phone_number=True, webhook_url="not a url"
    )
    assert response.status_code == 400
    assert response.json() == WEBHOOK_ERROR


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http%3A%2F%2F127.0.0.1%3A9%2Fhook"])
def test_phone_reveal_with_webhook_url_is_accepted(api: requests.Session, base_url: str, url: str) -> None:
    response = match(api, base_url, email="ada@example.com", reveal_phone_number=True, webhook_url=url)
    assert response.status_code == 200
    assert response.json()["person"]["email"] == "ada@example.com"


def test_waterfall_request_carries_the_waterfall_status(api: requests.Session, base_url: str) -> None:
    body = match(
        api, base_url, email="ada@example.com", run_waterfall_email=True, webhook_url="http://127.0.0.1:9/h"
    ).json()
    assert body["waterfall"] == WATERFALL_ACCEPTED
    assert list(body) == ["person", "waterfall", "request_id"]


def test_accepted_phone_reveal_is_recorded_as_a_pending_delivery(fakeapollo: object) -> None:
    from mock_server.pytest_plugin import FakeApollo

    assert isinstance(fakeapollo, FakeApollo)
    response = requests.post(
        f"{fakeapollo.api_url}/people/match",
        json={"email": "ada@example.com", "reveal_phone_number": True, "webhook_url": "http://127.0.0.1:9/h"},
        headers={"x-api-key": fakeapollo.api_key},
    )
    deliveries = fakeapollo.service.store.deliveries()
    assert len(deliveries) == 1
    assert deliveries[0].request_id == response.json()["request_id"]
    assert deliveries[0].request_type == "phone"
    assert deliveries[0].status == "pending"
    assert deliveries[0].person_ids == [response.json()["person"]["id"]]


def test_unicode_and_emoji_names_match(api: requests.Session, base_url: str) -> None:
    response = match(api, base_url, first_name="Zoë 🚀", last_name="Ångström", domain="unicode.example")
    assert response.status_code == 200
    assert response.json()["person"]["email"].endswith("@unicode.example")
