"""The `respond` scenario outcome over real HTTP: exact scripted answers in order, checked when queued."""

from __future__ import annotations

import requests

MATCH = "/api/v1/people/match"


def _queue(admin: str, document: dict[str, object]) -> requests.Response:
    return requests.post(f"{admin}/scenarios", json=document, timeout=10)


def _call(base_url: str, key: str = "test-key") -> requests.Response:
    return requests.post(
        f"{base_url}{MATCH}", json={"email": "ada@example.com"}, headers={"x-api-key": key}, timeout=10
    )


def test_respond_answers_the_scripted_responses_in_order_and_repeats_the_last(
    admin: str, base_url: str
) -> None:
    queued = _queue(
        admin,
        {
            "match": {"path": "/api/v1/people/match"},
            "outcome": "respond",
            "responses": [
                {
                    "status": 429,
                    "headers": {"Retry-After": "1", "X-Custom": "a b"},
                    "body": {"error": "slow"},
                },
                {"status": 200, "body": "plain words"},
            ],
            "times": 3,
        },
    )
    assert queued.status_code == 201
    assert queued.json()["responses"][0]["status"] == 429
    first, second, third = (_call(base_url) for _ in range(3))
    assert (first.status_code, first.json(), first.headers["Retry-After"]) == (429, {"error": "slow"}, "1")
    assert first.headers["X-Custom"] == "a b"
    assert first.headers["Content-Type"] == "application/json"
    assert "x-rate-limit-minute" not in first.headers
    assert (second.status_code, second.text) == (200, "plain words")
    assert second.headers["Content-Type"].startswith("text/plain")
    assert (third.status_code, third.text) == (200, "plain words")
    assert _call(base_url).json()["person"]["email"] == "ada@example.com"  # used up: the emulator again
    journal = requests.get(f"{admin}/requests", timeout=10).json()
    assert [e["scenario"] for e in journal["requests"]][-4:] == ["respond", "respond", "respond", None]


def test_respond_honours_a_content_type_header_and_matches_only_its_key(admin: str, base_url: str) -> None:
    _queue(
        admin,
        {
            "match": {"api_key": "test-key"},
            "outcome": "respond",
            "responses": [{"status": 503, "headers": {"Content-Type": "text/html"}, "body": "<p>down</p>"}],
        },
    )
    response = _call(base_url)
    assert (response.status_code, response.headers["Content-Type"], response.text) == (
        503,
        "text/html",
        "<p>down</p>",
    )
    assert _call(base_url, "load-test-key").status_code == 200


def test_respond_is_given_only_to_an_authenticated_request(admin: str, base_url: str) -> None:
    _queue(admin, {"outcome": "respond", "responses": [{"status": 200, "body": {"ok": True}}]})
    response = _call(base_url, "not-a-key")
    assert response.status_code == 401
    assert response.text == "Invalid access credentials."
    assert _call(base_url).json() == {"ok": True}


def test_respond_refuses_header_values_with_line_breaks(admin: str, base_url: str) -> None:
    response = _queue(
        admin,
        {"outcome": "respond", "responses": [{"status": 200, "headers": {"X-A": "1\r\nSet-Cookie: x=1"}}]},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Scenario 'responses[0].headers.X-A' must not hold CR, LF or other control characters"
    }
    assert requests.get(f"{admin}/scenarios", timeout=10).json() == {"scenarios": []}


def test_respond_refuses_a_bad_header_name(admin: str, base_url: str) -> None:
    response = _queue(admin, {"outcome": "respond", "responses": [{"headers": {"X A:": "1"}}]})
    assert response.status_code == 400
    assert response.json()["error"].startswith(
        "Scenario 'responses[0].headers' has an invalid header name 'X A:'"
    )


def test_respond_refuses_a_status_out_of_range(admin: str, base_url: str) -> None:
    for status in (99, 100, 101, 199, 600, "200", True):
        response = _queue(admin, {"outcome": "respond", "responses": [{"status": status}]})
        assert response.status_code == 400
        assert response.json() == {
            "error": "Scenario 'responses[0].status' must be an integer from 200 to 599"
        }


def test_a_204_or_304_answer_is_scripted_without_a_body(admin: str, base_url: str) -> None:
    for status in (204, 304):
        refused = _queue(admin, {"outcome": "respond", "responses": [{"status": status, "body": {"a": 1}}]})
        assert refused.status_code == 400
        assert refused.json() == {
            "error": f"Scenario 'responses[0].body' must be left out: a {status} answer has no body"
        }
    assert (
        _queue(admin, {"outcome": "respond", "responses": [{"status": 204}], "times": 1}).status_code == 201
    )
    # The answer ends at its headers, and the connection's next answer is read whole.
    with requests.Session() as session:
        session.headers["x-api-key"] = "test-key"
        first = session.post(f"{base_url}/api/v1/people/match", json={"email": "a.b@acme.com"}, timeout=10)
        second = session.post(f"{base_url}/api/v1/people/match", json={"email": "a.b@acme.com"}, timeout=10)
    assert (first.status_code, first.content) == (204, b"")
    assert second.status_code == 200 and second.json()["person"]["email"] == "a.b@acme.com"


def test_respond_refuses_framing_headers_and_oversized_values(admin: str, base_url: str) -> None:
    response = _queue(admin, {"outcome": "respond", "responses": [{"headers": {"Content-Length": "5"}}]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Scenario 'responses[0].headers.Content-Length' is set by the server and cannot be scripted"
    }
    response = _queue(admin, {"outcome": "respond", "responses": [{"headers": {"X-Big": "a" * 8193}}]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Scenario 'responses[0].headers.X-Big' must be a string of at most 8192 characters"
    }


def test_respond_needs_responses_and_other_outcomes_refuse_them(admin: str, base_url: str) -> None:
    response = _queue(admin, {"outcome": "respond"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Scenario 'responses' must be a non-empty list for the outcome 'respond'"
    }
    response = _queue(admin, {"outcome": "slow", "responses": [{"status": 200}]})
    assert response.status_code == 400
    assert response.json() == {"error": "Scenario 'responses' is only for the outcome 'respond'"}


def test_respond_cannot_be_asked_for_by_header(admin: str, base_url: str) -> None:
    response = requests.post(
        f"{base_url}{MATCH}",
        json={"email": "ada@example.com"},
        headers={"x-api-key": "test-key", "X-Mock-Scenario": "respond"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "The outcome 'respond' needs its responses: queue it with POST /__admin/scenarios"
    }


def test_respond_matches_bulk_details_whatever_the_order_of_their_keys(admin: str, base_url: str) -> None:
    asked = [{"first_name": "Ada", "last_name": "Lovelace", "domain": "example.com"}]
    queued = _queue(
        admin,
        {
            "match": {"path": "/api/v1/people/bulk_match", "params": {"details": asked}},
            "outcome": "respond",
            "responses": [{"status": 200, "body": {"matched": "by details"}}],
        },
    )
    assert queued.status_code == 201

    def bulk(details: list[dict[str, str]]) -> requests.Response:
        return requests.post(
            f"{base_url}/api/v1/people/bulk_match",
            json={"details": details},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )

    reordered = [{"domain": "example.com", "last_name": "Lovelace", "first_name": "Ada"}]
    assert bulk(reordered).json() == {"matched": "by details"}
    other = bulk([{"domain": "example.com", "last_name": "Byron", "first_name": "Ada"}])
    assert other.status_code == 200 and other.json() != {"matched": "by details"}
