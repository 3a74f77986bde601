"""Credits are checked and charged in one step: no overspending, and no charge for a 5xx answer."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest
import requests

from mock_server.config import Config
from mock_server.web.app import create_app
from mock_server.web.inprocess import client
from tests.conftest import key_registry, start_serve

OUT_OF_CREDITS = {
    "error": "Your team has run out of credits. Please upgrade your plan from"
    " https://app.apollo.io/#/settings/plans/upgrade.",
    "error_code": "INSUFFICIENT_CREDITS",
}


def thin_team(folder: Path, credits: float) -> Path:
    """A key registry with one paid key, `thin-key`, whose team has `credits` credits."""
    return key_registry(
        folder,
        {"key": "thin-key", "team": "thin", "plan": "professional", "credits": credits, "scopes": None},
    )


def spent(url: str) -> float:
    """Credits the `thin` team has spent, from the control API."""
    teams = requests.get(f"{url}/__admin/usage", timeout=10).json()["teams"]
    value: float = next(t for t in teams if t["team"] == "thin")["credits"]["spent"]
    return value


def bulk_of(count: int) -> dict[str, object]:
    """A bulk_match body of `count` people who all match (a .test domain: never thin)."""
    return {"details": [{"email": f"bulk{n}@credit.test"} for n in range(count)]}


def test_bulk_larger_than_the_credits_left_is_refused_and_charges_nothing(tmp_path: Path) -> None:
    server = start_serve("--keys", str(thin_team(tmp_path, 5)))
    try:
        answer = requests.post(
            f"{server.url}/api/v1/people/bulk_match", json=bulk_of(10), headers={"x-api-key": "thin-key"}
        )
        assert answer.status_code == 422
        assert answer.json() == OUT_OF_CREDITS
        assert spent(server.url) == 0
        fits = requests.post(
            f"{server.url}/api/v1/people/bulk_match", json=bulk_of(5), headers={"x-api-key": "thin-key"}
        )
        assert fits.status_code == 200 and fits.json()["credits_consumed"] == 5
        assert spent(server.url) == 5
    finally:
        server.stop()


def test_bulk_larger_than_the_credits_left_matches_nobody_in_no_match_mode(tmp_path: Path) -> None:
    server = start_serve("--keys", str(thin_team(tmp_path, 5)), env={"FAKEAPOLLO_OUT_OF_CREDITS": "no_match"})
    try:
        answer = requests.post(
            f"{server.url}/api/v1/people/bulk_match", json=bulk_of(10), headers={"x-api-key": "thin-key"}
        ).json()
        assert answer["matches"] == [None] * 10
        assert (answer["credits_consumed"], answer["missing_records"]) == (0, 10)
        assert spent(server.url) == 0
    finally:
        server.stop()


def test_concurrent_bursts_on_two_workers_never_spend_past_the_grant(tmp_path: Path) -> None:
    server = start_serve("--workers", "2", "--keys", str(thin_team(tmp_path, 50)))
    try:

        def match(n: int) -> int:
            with requests.Session() as session:  # a connection each: both workers answer some
                return session.post(
                    f"{server.url}/api/v1/people/match",
                    json={"email": f"burst{n}@credit.test"},
                    headers={"x-api-key": "thin-key"},
                    timeout=30,
                ).status_code

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(match, range(70)))
        assert statuses.count(200) == 50 and statuses.count(422) == 20
        assert spent(server.url) == 50
    finally:
        server.stop()


def test_an_answer_that_ends_in_a_500_is_not_charged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Config(keys=thin_team(tmp_path, 5)))
    service = app.extensions["fakeapollo"]

    def broken(**_: object) -> None:
        raise RuntimeError("the webhook outbox failed after the charge")

    monkeypatch.setattr(service.webhooks, "record", broken)
    with client(app, api_key="thin-key") as http:
        answer = http.post("/api/v1/people/match", json={"email": "x@credit.test"})
    assert answer.status_code == 500
    assert answer.json() == {"error": "Internal Server Error"}
    assert service.ledger.spent("thin") == 0 and service.ledger.spent("thin", "match") == 0
    service.close()
