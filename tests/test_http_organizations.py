"""organizations/enrich by any identifier, GET or POST, and organizations/bulk_enrich, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_server.domain import data


def spent(admin: str, team: str = "team-test") -> float:
    """Credits `team` has spent so far."""
    usage = requests.get(f"{admin}/usage", timeout=10).json()
    [entry] = [t for t in usage["teams"] if t["team"] == team]
    credits: float = entry["credits"]["spent"]
    return credits


def enrich(api: requests.Session, base_url: str, method: str, params: dict[str, Any]) -> Any:
    """organizations/enrich with `params` in the query string (GET) or a JSON body (POST)."""
    url = f"{base_url}/api/v1/organizations/enrich"
    if method == "GET":
        response = api.get(url, params=params)
    else:
        response = api.post(url, json=params)
    assert response.status_code == 200, response.text
    data.validate("organization_enrich.response", response.json(), strict=True)
    return response.json()


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "params",
    [
        {"domain": "globex-example.com"},
        {"website": "https://www.globex-example.com/about"},
        {"name": "globex-example.com"},
        {"linkedin_url": "http://www.linkedin.com/company/globexexample"},
    ],
    ids=["domain", "website", "name", "linkedin_url"],
)
def test_each_identifier_finds_the_organization(
    api: requests.Session, base_url: str, method: str, params: dict[str, Any]
) -> None:
    expected = enrich(api, base_url, "GET", {"domain": "globex-example.com"})["organization"]
    if "linkedin_url" in params:
        params = {"linkedin_url": expected["linkedin_url"]}
    found = enrich(api, base_url, method, params)["organization"]
    assert found["id"] == expected["id"]
    assert found["primary_domain"] == "globex-example.com"


def test_company_name_finds_its_dot_com(api: requests.Session, base_url: str) -> None:
    by_name = enrich(api, base_url, "POST", {"name": "Initech Inc"})["organization"]
    assert by_name["primary_domain"] == "initech.com"


def test_no_identifier_gets_apollos_422(api: requests.Session, base_url: str) -> None:
    for response in (
        api.get(f"{base_url}/api/v1/organizations/enrich"),
        api.post(f"{base_url}/api/v1/organizations/enrich", json={}),
    ):
        assert response.status_code == 422
        assert response.json() == {"error": "Required parameter 'domain' missing"}


def test_unknown_organization_is_an_empty_object_and_free(
    api: requests.Session, base_url: str, admin: str
) -> None:
    assert enrich(api, base_url, "POST", {"domain": "nomatch.test"}) == {}
    assert spent(admin) == 0


def test_each_organization_found_costs_one_credit(api: requests.Session, base_url: str, admin: str) -> None:
    enrich(api, base_url, "GET", {"domain": "credits-example.com"})
    assert spent(admin) == 1


def test_bulk_enrich_by_domains_query(api: requests.Session, base_url: str, admin: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/organizations/bulk_enrich",
        params=[("domains[]", "apollo.io"), ("domains[]", "microsoft.com"), ("domains[]", "nomatch.test")],
    )
    assert response.status_code == 200
    body = response.json()
    data.validate("organizations_bulk_enrich.response", body, strict=True)
    assert [o["primary_domain"] for o in body["organizations"]] == ["apollo.io", "microsoft.com"]
    assert body["total_requested_domains"] == 3
    assert body["unique_enriched_records"] == 2
    assert body["missing_records"] == 1
    assert spent(admin) == 2


def test_bulk_enrich_details_win_over_domains(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/organizations/bulk_enrich",
        params={"domains[]": "ignored-example.com"},
        json={"details": [{"name": "Umbrella"}, {"website": "http://www.acme-example.com"}]},
    )
    body = response.json()
    assert response.status_code == 200
    assert [o["primary_domain"] for o in body["organizations"]] == ["umbrella.com", "acme-example.com"]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {},
            400,
            {
                "status": "failed",
                "error_code": "INVALID_REQUEST",
                "error_message": "invalid request, missing domains",
            },
        ),
        (
            {"details": [{"domain": f"d{i}.com"} for i in range(11)]},
            400,
            {
                "status": "failed",
                "error_code": "RECORD_LIMIT_EXCEEDED",
                "error_message": "domain count cannot be more than 10",
            },
        ),
        (
            {"details": ["apollo.io"]},
            422,
            {
                "status": "failed",
                "error_code": "UNKNOWN_ERROR",
                "error_message": "no implicit conversion of Symbol into Integer",
            },
        ),
    ],
    ids=["missing", "eleven", "not an object"],
)
def test_bulk_enrich_errors_are_apollos(
    api: requests.Session, base_url: str, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    response = api.post(f"{base_url}/api/v1/organizations/bulk_enrich", json=body)
    assert response.status_code == status
    assert response.json() == expected


def test_new_endpoints_are_in_the_openapi_document(base_url: str) -> None:
    paths = requests.get(f"{base_url}/openapi.json", timeout=10).json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/organizations/enrich"])
    assert "post" in paths["/api/v1/organizations/bulk_enrich"]
    assert "get" in paths["/api/v1/people/{id}"]


@pytest.mark.parametrize("name", ["株式会社ソニー", "🚀🚀"])
def test_a_name_without_ascii_letters_still_names_one_company(
    api: requests.Session, base_url: str, name: str
) -> None:
    first = enrich(api, base_url, "GET", {"name": name})["organization"]
    again = enrich(api, base_url, "POST", {"name": name})["organization"]
    assert first["id"] == again["id"]
    assert first["id"] != enrich(api, base_url, "GET", {"name": name + "x"})["organization"]["id"]
