"""A real third-party client's search-first function against fakeapollo, with only its base URL changed.

`apollo-leads` (PyPI, 0.1.0) looks a company up with Organization Search, lists its senior people
with People API Search by organization id, ranks them, and enriches the best by id.
"""

from __future__ import annotations

import apollo_leads
import pytest

from mock_server.pytest_plugin import FakeApollo


def test_apollo_leads_finds_the_decision_makers_of_a_company(
    fakeapollo: FakeApollo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apollo_leads, "BASE_URL", fakeapollo.api_url)
    contacts = apollo_leads.find_contacts("Brightpath Analytics", api_key=fakeapollo.api_key)
    assert 1 <= len(contacts) <= 3
    for contact in contacts:
        assert contact["company"] == "Brightpath Analytics"
        assert contact["email"] and contact["email"].endswith("@brightpath-analytics.com")
        assert contact["title"]
    # Each one is the person the emulator serves for that email.
    with fakeapollo.client() as client:
        for contact in contacts:
            person = client.get("/api/v1/people/match", params={"email": contact["email"]}).json()["person"]
            assert (person["name"], person["title"]) == (contact["name"], contact["title"])
    paths = [entry["path"] for entry in fakeapollo.requests()]
    assert paths[:2] == ["/api/v1/mixed_companies/search", "/api/v1/mixed_people/api_search"]


def test_apollo_leads_reports_a_bad_key_as_its_auth_error(
    fakeapollo: FakeApollo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apollo_leads, "BASE_URL", fakeapollo.api_url)
    with pytest.raises(apollo_leads.AuthError):
        apollo_leads.find_contacts("Brightpath Analytics", api_key="not-a-key")
