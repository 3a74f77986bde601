"""The fast path (views/fast.py): which requests it answers on the loop, and which it leaves to Flask."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from mock_server.app import create_app
from mock_server.httpserver import FastHandler, HttpRequest
from mock_server.views.fast import handler_for, query_params

MATCH = "/api/v1/people/match"


@pytest.fixture()
def app() -> Iterator[Flask]:
    """A fresh in-process emulator."""
    app = create_app()
    yield app
    app.extensions["fakeapollo"].close()


@pytest.fixture()
def fast(app: Flask) -> FastHandler:
    """The fast handler of `app`."""
    return handler_for(app)


def match_request(method: str = "POST", path: str = MATCH, **headers: str) -> HttpRequest:
    """A people/match request with the test key, as the server hands it over."""
    sent = {"content-type": "application/json", "x-api-key": "test-key", **headers}
    return HttpRequest(method, path, "", sent, b'{"email":"ada@example.com"}', "127.0.0.1")


def test_a_plain_match_is_answered_on_the_fast_path(fast: FastHandler) -> None:
    answered = fast(match_request())
    assert answered is not None and answered.status == 200
    assert answered.body.startswith(b'{"person":{"id":')


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("HEAD", MATCH),
        ("DELETE", MATCH),
        ("GET", "/api/v1/people/bulk_match"),
        ("GET", "/__admin/journal"),
        ("POST", MATCH + "/"),
    ],
)
def test_other_routes_and_methods_are_left_to_flask(fast: FastHandler, method: str, path: str) -> None:
    assert fast(match_request(method, path)) is None


def test_a_forced_outcome_header_is_left_to_flask(fast: FastHandler) -> None:
    assert fast(match_request(**{"x-mock-scenario": "slow; delay_ms=1"})) is None


def test_a_queued_scenario_sends_calls_to_flask_until_it_is_used_up(app: Flask, fast: FastHandler) -> None:
    client = app.test_client()
    client.post("/__admin/scenarios", json={"outcome": "no_match", "times": 1})
    assert fast(match_request()) is None
    assert client.post(MATCH, json={"email": "ada@example.com"}, headers={"x-api-key": "test-key"}).json == {
        "person": None
    }
    assert fast(match_request()) is not None


def test_wrapping_the_apps_wsgi_callable_turns_the_fast_path_off(app: Flask, fast: FastHandler) -> None:
    inner = app.wsgi_app
    app.wsgi_app = lambda environ, start_response: inner(environ, start_response)  # type: ignore[method-assign]
    assert fast(match_request()) is None


def test_query_parameters_keep_the_first_value_as_flask_does() -> None:
    parsed = query_params("email=a%40b.com&email=c@d.com&flag=&x=1+2")
    assert parsed == {"email": "a@b.com", "flag": "", "x": "1 2"}


def test_fast_answers_are_journaled_with_masked_keys_over_http(admin: str, base_url: str) -> None:
    sent = requests.post(
        f"{base_url}{MATCH}?reveal_personal_emails=true",
        json={"email": "ada@example.com"},
        headers={"x-api-key": "test-key"},
        timeout=10,
    )
    (entry,) = requests.get(f"{admin}/requests", params={"limit": 1}, timeout=10).json()["requests"]
    assert sent.status_code == entry["response"]["status"] == 200
    assert entry["path"] == MATCH and entry["method"] == "POST"
    assert entry["query"] == {"reveal_personal_emails": "true"}
    assert entry["body"] == {"email": "ada@example.com", "reveal_personal_emails": "true"}
    assert entry["headers"]["X-Api-Key"] == "t…y" and entry["api_key"] == "t…y"
    assert entry["credits_charged"] == 1
    assert entry["response"]["body"] == sent.json()
