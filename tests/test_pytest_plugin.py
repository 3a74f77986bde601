"""The pytest plugin's fixtures, run in a throwaway project with pytester."""

from __future__ import annotations

import pytest


def test_fakeapollo_fixture_serves_a_live_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_match(fakeapollo):
            response = requests.post(
                fakeapollo.api_url + "/people/match",
                json={"email": "ada@example.com"},
                headers={"x-api-key": fakeapollo.api_key},
            )
            assert response.status_code == 200
            assert response.json()["person"]["email"] == "ada@example.com"
            assert fakeapollo.url + "/api/v1" == fakeapollo.api_url
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_state_is_reset_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def _reveal(fakeapollo):
            requests.post(
                fakeapollo.api_url + "/people/match",
                json={"email": "a@example.com", "reveal_phone_number": True,
                      "webhook_url": "http://127.0.0.1:9/h"},
                headers={"x-api-key": fakeapollo.api_key},
            )
            return fakeapollo.service.store.deliveries()

        def test_first(fakeapollo):
            assert len(_reveal(fakeapollo)) == 1

        def test_second(fakeapollo):
            assert len(_reveal(fakeapollo)) == 1
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*fakeapollo -- *", "*emulator for one test*"])
    result.stdout.fnmatch_lines(["*fakeapollo_server*", "*live fakeapollo on a free loopback port*"])
