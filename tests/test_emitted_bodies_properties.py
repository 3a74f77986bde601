"""Property test: every body the emulator emits, over hundreds of generated requests, fits the schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.domain.data import validate
from mock_server.web.app import create_app
from mock_server.web.inprocess import client as inprocess_client

DOMAINS = ["example.com", "nomatch.test", "partial.test", "eu.test", "apollo.io", "gmail.com", "acme.co.uk"]
KEYS = ["test-key", "free-plan-key", "load-test-key", "no-such-key"]
BOOLEAN = st.sampled_from([True, False, "true", "false"])
WEBHOOK = st.sampled_from([None, "http://127.0.0.1:9/hook", "http%3A%2F%2F127.0.0.1%3A9%2Fhook", "nope"])
OUTCOMES = st.sampled_from(
    [
        None,
        "match",
        "no_match",
        "partial",
        "unauthorized",
        "forbidden",
        "rate_limited",
        "invalid_request",
        "server_error",
    ]
)


@st.composite
def emails(draw: st.DrawFn) -> str:
    """An email at a domain that exercises a test input or a generated person."""
    local = draw(st.from_regex(r"[a-z][a-z0-9.]{0,12}[a-z0-9]", fullmatch=True))
    return f"{local}@{draw(st.sampled_from(DOMAINS))}"


@st.composite
def person_params(draw: st.DrawFn) -> dict[str, Any]:
    """Identifying parameters of one person: an email, a name and domain, a name alone, or junk."""
    kind = draw(st.sampled_from(["email", "name_domain", "name_only", "organization", "nothing"]))
    params: dict[str, Any] = {}
    if kind == "email":
        params["email"] = draw(emails())
    elif kind in ("name_domain", "organization"):
        params["first_name"] = draw(st.sampled_from(["Ada", "Zoë", "José", "Li", "O'Brien"]))
        params["last_name"] = draw(st.sampled_from(["Lovelace", "Müller", "García", "Ng"]))
        if kind == "name_domain":
            params["domain"] = draw(st.sampled_from(DOMAINS))
        else:
            params["organization_name"] = draw(st.sampled_from(["Acme", "Northwind Analytics", "Apollo"]))
    elif kind == "name_only":
        params["name"] = "Ada Lovelace"
    return params


@st.composite
def flags(draw: st.DrawFn) -> dict[str, Any]:
    """Reveal and waterfall flags, with or without a webhook URL."""
    chosen = {
        name: draw(BOOLEAN)
        for name in (
            "reveal_personal_emails",
            "reveal_phone_number",
            "run_waterfall_email",
            "run_waterfall_phone",
        )
        if draw(st.booleans())
    }
    webhook = draw(WEBHOOK)
    if webhook is not None:
        chosen["webhook_url"] = webhook
    return chosen


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """An in-process emulator (sockets add nothing to what is emitted)."""
    app = create_app()
    with inprocess_client(app) as client:
        yield client
    app.extensions["fakeapollo"].close()


def check(response: Any, success_schema: str) -> None:
    """The body fits its schema: strictly (documented keys only) for a success, else the error schema."""
    is_json = response.headers["content-type"].startswith("application/json")
    assert response.status_code < 500 or response.status_code == 500 and is_json
    if response.status_code == 200:
        validate(success_schema, response.json(), strict=True)
    elif is_json:
        validate("error.response", response.json(), strict=True)
    else:
        assert response.status_code == 401
        validate("error.response", response.text, strict=True)


PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(params=person_params(), extra=flags(), key=st.sampled_from(KEYS), outcome=OUTCOMES)
def test_people_match_bodies_fit_the_schemas(
    client: httpx.Client, params: dict[str, Any], extra: dict[str, Any], key: str, outcome: str | None
) -> None:
    headers = {"x-api-key": key, **({"X-Mock-Scenario": outcome} if outcome else {})}
    check(
        client.post("/api/v1/people/match", json={**params, **extra}, headers=headers),
        "people_match.response",
    )


@PROPERTY
@given(
    details=st.lists(person_params(), min_size=0, max_size=12),
    extra=flags(),
    key=st.sampled_from(KEYS),
    outcome=OUTCOMES,
)
def test_bulk_match_bodies_fit_the_schemas(
    client: httpx.Client, details: list[dict[str, Any]], extra: dict[str, Any], key: str, outcome: str | None
) -> None:
    headers = {"x-api-key": key, **({"X-Mock-Scenario": outcome} if outcome else {})}
    response = client.post("/api/v1/people/bulk_match", json={"details": details, **extra}, headers=headers)
    check(response, "people_bulk_match.response")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(domain=st.sampled_from([*DOMAINS, "", "https://www.Example.org/path"]), key=st.sampled_from(KEYS))
def test_organization_bodies_fit_the_schemas(client: httpx.Client, domain: str, key: str) -> None:
    response = client.get(
        "/api/v1/organizations/enrich", params={"domain": domain}, headers={"x-api-key": key}
    )
    check(response, "organization_enrich.response")


def test_usage_stats_body_fits_the_schema(client: httpx.Client) -> None:
    check(
        client.post("/api/v1/usage_stats/api_usage_stats", headers={"x-api-key": "test-key"}),
        "api_usage_stats.response",
    )
