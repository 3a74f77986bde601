"""The README's example: force a 429 on the second call and check the client backed off."""

from datetime import datetime

import requests


def fetch_person(base_url, api_key, email, sleep, attempts=3):
    """A small client: looks a person up and honours Retry-After on a 429."""
    for _ in range(attempts):
        response = requests.post(
            f"{base_url}/api/v1/people/match", json={"email": email}, headers={"x-api-key": api_key}
        )
        if response.status_code == 429:
            sleep(int(response.headers["Retry-After"]))
            continue
        response.raise_for_status()
        return response.json()["person"]
    raise RuntimeError("still rate limited")


def test_client_backs_off_after_a_429(fakeapollo):
    fakeapollo.freeze()

    def sleep(seconds):
        fakeapollo.advance(seconds)  # no real waiting: move fakeapollo's clock instead

    with fakeapollo.scenario("rate_limited", after=1, times=1):  # the second call gets a 429
        first = fetch_person(fakeapollo.url, fakeapollo.api_key, "ada@example.com", sleep)
        second = fetch_person(fakeapollo.url, fakeapollo.api_key, "grace@example.com", sleep)

    assert first["email"] == "ada@example.com"
    assert second["email"] == "grace@example.com"
    calls = fakeapollo.requests(path="/api/v1/people/match")
    assert [call["response"]["status"] for call in calls] == [200, 429, 200]
    retry_after = int(calls[1]["response"]["headers"]["Retry-After"])
    waited = datetime.fromisoformat(calls[2]["time"]) - datetime.fromisoformat(calls[1]["time"])
    assert waited.total_seconds() >= retry_after
