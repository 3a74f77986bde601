"""The whole flow offline: search people, enrich them, save them as contacts; over HTTP and in-process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from mock_server.pytest_plugin import FakeApollo
from mock_server.web.openapi import build_openapi

OTHER_TEAM_KEY = "load-test-key"  # team-load; the plugin's default key is team-test's


class Http:
    """A client over a real socket, with one team's key."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one call; the answer, or the failure."""
        answer = requests.request(
            method, self.base + path, headers={"x-api-key": self.key}, timeout=30, **kwargs
        )
        return answer

    def post(self, path: str, **kwargs: Any) -> Any:
        """POST `path`."""
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET `path`."""
        return self.request("GET", path, **kwargs)


def _flow(team: Any, other: Any) -> None:
    """Search at a company → enrich by id → create a contact → enrich again shows it, to one team only."""
    found = team.post(
        "/mixed_people/api_search",
        json={
            "q_organization_domains_list": ["flow-example.com"],
            "person_titles": ["engineer"],
            "per_page": 3,
        },
    )
    assert found.status_code == 200
    body = found.json()
    assert set(body) == {"total_entries", "people"} and body["people"]
    thin = body["people"][0]
    assert "email" not in thin and "last_name" not in thin

    person = team.post("/people/match", json={"id": thin["id"]}).json()["person"]
    assert (person["id"], person["first_name"], person["title"]) == (
        thin["id"],
        thin["first_name"],
        thin["title"],
    )
    assert (
        "contact_id" not in person
        or person["contact_id"] is None
        or person["contact"]["person_id"] == person["id"]
    )

    created = team.post(
        "/contacts",
        json={
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "email": person["email"],
            "title": person["title"],
        },
    )
    assert created.status_code == 200
    contact = created.json()["contact"]
    assert contact["person_id"] == person["id"] and contact["source_display_name"] == "Created from API"

    again = team.post("/people/match", json={"id": thin["id"]}).json()["person"]
    assert again["contact_id"] == contact["id"] == again["contact"]["id"]
    by_email = team.get("/people/match", params={"email": person["email"]}).json()["person"]
    assert by_email["contact_id"] == contact["id"]
    elsewhere = other.post("/people/match", json={"id": thin["id"]}).json()["person"]
    assert elsewhere["id"] == person["id"] and elsewhere.get("contact_id") != contact["id"]

    listed = team.post("/contacts/search", json={"q_keywords": person["last_name"]}).json()
    assert [c["id"] for c in listed["contacts"]] == [contact["id"]]
    assert other.post("/contacts/search", json={}).json()["contacts"] == []
    shown = team.get(f"/contacts/{contact['id']}").json()["contact"]
    assert shown["disable_flag"] is True and shown["id"] == contact["id"]
    assert other.get(f"/contacts/{contact['id']}").status_code == 422


def test_search_enrich_and_save_a_contact_over_http(fakeapollo: FakeApollo) -> None:
    _flow(Http(fakeapollo.api_url, fakeapollo.api_key), Http(fakeapollo.api_url, OTHER_TEAM_KEY))


def test_search_enrich_and_save_a_contact_in_process(fakeapollo: FakeApollo) -> None:
    with fakeapollo.client() as team, fakeapollo.server.client(OTHER_TEAM_KEY) as other:
        _flow(_Prefixed(team), _Prefixed(other))


class _Prefixed:
    """An in-process httpx client whose paths are relative to /api/v1."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST `path` under /api/v1."""
        return self.client.post("/api/v1" + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET `path` under /api/v1."""
        return self.client.get("/api/v1" + path, **kwargs)


def test_array_filters_in_the_query_string_work_like_a_body(fakeapollo: FakeApollo) -> None:
    team = Http(fakeapollo.api_url, fakeapollo.api_key)
    query = "person_titles[]=sales&person_titles[]=marketing&person_seniorities[]=manager&per_page=5"
    by_query = team.post("/mixed_people/api_search?" + query).json()
    by_body = team.post(
        "/mixed_people/api_search",
        json={"person_titles": ["sales", "marketing"], "person_seniorities": ["manager"], "per_page": 5},
    ).json()
    assert by_query == by_body and by_query["total_entries"] > 0


def test_company_search_then_people_at_it_then_job_postings(fakeapollo: FakeApollo) -> None:
    team = Http(fakeapollo.api_url, fakeapollo.api_key)
    companies = team.post(
        "/mixed_companies/search", json={"q_organization_name": "Brightpath Analytics", "per_page": 1}
    )
    assert companies.status_code == 200
    organization = companies.json()["organizations"][0]
    assert companies.json()["pagination"]["per_page"] == 1
    people = team.post("/mixed_people/api_search", json={"organization_ids": [organization["id"]]}).json()
    assert people["people"] and {p["organization"]["name"] for p in people["people"]} == {
        organization["name"]
    }
    shown = team.get(f"/organizations/{organization['id']}").json()["organization"]
    assert shown["primary_domain"] == organization["primary_domain"]
    jobs = team.get(f"/organizations/{organization['id']}/job_postings")
    assert jobs.status_code == 200 and "organization_job_postings" in jobs.json()
    missing = team.get("/organizations/not-an-organization")
    assert (missing.status_code, missing.json()) == (
        422,
        {"error": "Parameters misconfigured. not-an-organization is not a valid ID"},
    )
    assert team.get("/auth/health").json() == {"healthy": True, "is_logged_in": True}


def test_forced_outcomes_and_the_journal_cover_the_new_endpoints(fakeapollo: FakeApollo) -> None:
    team = Http(fakeapollo.api_url, fakeapollo.api_key)
    headers = {"x-api-key": fakeapollo.api_key, "X-Mock-Scenario": "rate_limited"}
    limited = requests.post(fakeapollo.api_url + "/contacts/search", json={}, headers=headers, timeout=30)
    assert limited.status_code == 429
    assert "api/v1/contacts/search" in limited.json()["message"]
    headers["X-Mock-Scenario"] = "no_match"
    empty = requests.post(
        fakeapollo.api_url + "/mixed_people/api_search", json={}, headers=headers, timeout=30
    )
    assert empty.json() == {"total_entries": 0, "people": []}
    team.post("/accounts", json={"name": "Journaled Co"})
    paths = [entry["path"] for entry in fakeapollo.requests()]
    assert "/api/v1/accounts" in paths and "/api/v1/mixed_people/api_search" in paths
    usage = team.post("/usage_stats/api_usage_stats").json()
    assert usage['["api/v1/accounts", "create"]']["minute"]["consumed"] == 1


def test_a_patch_and_a_get_share_a_path_but_not_an_endpoint(fakeapollo: FakeApollo) -> None:
    team = Http(fakeapollo.api_url, fakeapollo.api_key)
    account = team.post("/accounts", json={"name": "Shared Path Co", "domain": "shared-path.com"}).json()[
        "account"
    ]
    updated = team.request("PATCH", f"/accounts/{account['id']}", json={"name": "Renamed"})
    assert updated.json()["account"]["name"] == "Renamed"
    assert team.get(f"/accounts/{account['id']}").json()["account"]["name"] == "Renamed"
    refused = team.request("DELETE", f"/accounts/{account['id']}")
    assert (
        refused.status_code == 405
        and "PATCH" in refused.headers["Allow"]
        and "GET" in refused.headers["Allow"]
    )
    paths = build_openapi()["paths"]
    assert set(paths["/api/v1/accounts/{account_id}"]) >= {"get", "patch"}


@pytest.mark.parametrize("key", [None, "no-such-key"])
def test_the_new_endpoints_want_a_key(fakeapollo: FakeApollo, key: str | None) -> None:
    headers = {"x-api-key": key} if key else {}
    answer = requests.post(
        fakeapollo.api_url + "/mixed_people/api_search", json={}, headers=headers, timeout=30
    )
    assert answer.status_code == 401


def test_the_readme_flow_example_runs_as_written(fakeapollo: FakeApollo) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "mixed_people/api_search" in b]
    namespace: dict[str, Any] = {}
    exec(compile(block.replace("http://127.0.0.1:8765", fakeapollo.url), "README.md", "exec"), namespace)
    assert namespace["again"]["contact"]["id"] == namespace["contact"]["id"]
