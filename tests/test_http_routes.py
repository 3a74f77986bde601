"""Routes, prefixes, methods and parameter merging over real HTTP."""

from __future__ import annotations

import pytest
import requests


@pytest.mark.parametrize("prefix", ["/api/v1", "/v1"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_people_match_answers_under_both_prefixes_and_methods(
    api: requests.Session, base_url: str, prefix: str, method: str
) -> None:
    response = api.request(method, f"{base_url}{prefix}/people/match", params={"email": "ada@example.com"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["person"]["email"] == "ada@example.com"


@pytest.mark.parametrize("prefix", ["/api/v1", "/v1"])
def test_bulk_match_and_organization_enrich_answer_under_both_prefixes(
    api: requests.Session, base_url: str, prefix: str
) -> None:
    bulk = api.post(f"{base_url}{prefix}/people/bulk_match", json={"details": [{"email": "ada@example.com"}]})
    assert bulk.status_code == 200
    organization = api.get(f"{base_url}{prefix}/organizations/enrich", params={"domain": "apollo.io"})
    assert organization.status_code == 200
    assert organization.json()["organization"]["primary_domain"] == "apollo.io"


def test_same_person_under_both_prefixes(api: requests.Session, base_url: str) -> None:
    one = api.post(f"{base_url}/api/v1/people/match", json={"email": "grace@example.org"}).json()
    two = api.post(f"{base_url}/v1/people/match", json={"email": "grace@example.org"}).json()
    assert one["person"] == two["person"]


def test_unknown_path_gets_json_404(api: requests.Session, base_url: str) -> None:
    response = api.get(f"{base_url}/api/v1/people/nowhere")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert "error" in response.json()


def test_wrong_method_gets_json_405(api: requests.Session, base_url: str) -> None:
    response = api.get(f"{base_url}/api/v1/people/bulk_match")
    assert response.status_code == 405
    body = response.json()
    assert body["error"] == "Method Not Allowed"
    assert "POST" in body["allowed_methods"]
    assert "POST" in response.headers["Allow"]


def test_openapi_document_is_served(base_url: str) -> None:
    response = requests.get(f"{base_url}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert any(path.endswith("/people/match") for path in document["paths"])


def test_body_wins_over_query_string(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/match",
        params={"email": "query@example.com"},
        json={"email": "body@example.com"},
    )
    assert response.json()["person"]["email"] == "body@example.com"


def test_query_and_body_parameters_are_merged(api: requests.Session, base_url: str) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/match",
        params={"reveal_phone_number": "true"},
        json={"email": "ada@example.com"},
    )
    assert response.status_code == 400  # the query flag was read: it now needs a webhook_url


@pytest.mark.parametrize("value", [True, "true", "TRUE", " true "])
def test_booleans_arrive_as_json_or_strings(api: requests.Session, base_url: str, value: object) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/match", json={"email": "ada@example.com", "reveal_phone_number": value}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("value", [False, "false", "False"])
def test_false_booleans_are_false(api: requests.Session, base_url: str, value: object) -> None:
    response = api.post(
        f"{base_url}/api/v1/people/match", json={"email": "ada@example.com", "reveal_phone_number": value}
    )
    assert response.status_code == 200
