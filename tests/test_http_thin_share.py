"""The thin share of never-seen emails over HTTP: its default, its flag and variable (docs/emulation.md)."""

from __future__ import annotations

from typing import Any

import requests

from mock_server.domain import data
from tests.conftest import start_serve

EMAILS = [f"someone.{i}@thin-share-{i % 7}.example.org" for i in range(80)]
HEADERS = {"x-api-key": "test-key"}


def _people(base_url: str) -> list[dict[str, Any]]:
    people = []
    for email in EMAILS:
        response = requests.post(
            f"{base_url}/api/v1/people/match", json={"email": email}, headers=HEADERS, timeout=10
        )
        assert response.status_code == 200, response.text
        data.validate("people_match.response", response.json(), strict=True)
        people.append(response.json()["person"])
    return people


def _is_thin(person: dict[str, Any]) -> bool:
    return person["name"] == "" and person["first_name"] is None and person["last_name"] is None


def test_a_share_of_never_seen_emails_gets_the_thin_person_uncharged(base_url: str, admin: str) -> None:
    people = _people(base_url)
    thin = [p for p in people if _is_thin(p)]
    # The default 10% of 80 emails (the draw is fixed by the seed, so this never flakes).
    assert 2 <= len(thin) <= 20, len(thin)
    for person in thin:
        assert person["email_status"] is None and person["organization_id"] is None
        for absent in ("organization", "city", "state", "country", "match_confidence"):
            assert absent not in person
    assert all("organization" in p or p["organization_id"] is None for p in people if not _is_thin(p))
    # Apollo charges no credit for the person it had no one for.
    usage = requests.get(f"{admin}/usage", timeout=10).json()["teams"]
    spent = next(t for t in usage if t["team"] == "team-test")["credits"]["spent"]
    assert spent == len(people) - len(thin)


def test_the_share_is_a_flag_and_a_variable() -> None:
    always = start_serve("--thin-share", "1")
    never = start_serve(env={"FAKEAPOLLO_THIN_SHARE": "0"})
    try:
        assert all(_is_thin(p) for p in _people(always.url))
        assert not any(_is_thin(p) for p in _people(never.url))
    finally:
        always.stop()
        never.stop()
