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


def test_readme_backoff_example_passes(pytester: pytest.Pytester) -> None:
    from tests.conftest import ROOT

    example = (ROOT / "examples" / "test_backoff_readme.py").read_text()
    assert example.strip() in (ROOT / "README.md").read_text(), "README must show the example verbatim"
    pytester.makepyfile(test_backoff=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_fixture_controls_clock_scenarios_and_journal(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def call(fakeapollo, email="a@example.com"):
            return fakeapollo.client().post("/api/v1/people/match", json={"email": email})

        def test_scenario_context_manager(fakeapollo):
            with fakeapollo.scenario("no_match") as scenario:
                assert call(fakeapollo).get_json() == {"person": None}
                assert scenario.id
            assert call(fakeapollo).get_json()["person"] is not None

        def test_clock(fakeapollo):
            start = fakeapollo.freeze()
            assert (fakeapollo.advance(90) - start).total_seconds() == 90
            fakeapollo.unfreeze()

        def test_journal_and_reset(fakeapollo):
            call(fakeapollo, "one@example.com")
            call(fakeapollo, "two@example.com")
            entries = fakeapollo.requests()
            assert [e["body"]["email"] for e in entries] == ["one@example.com", "two@example.com"]
            assert fakeapollo.requests(limit=1)[0]["body"]["email"] == "two@example.com"
            fakeapollo.reset()
            assert fakeapollo.requests() == []

        def test_state_was_reset_between_tests(fakeapollo):
            assert fakeapollo.requests() == []
            assert not fakeapollo.service.clock.frozen
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
