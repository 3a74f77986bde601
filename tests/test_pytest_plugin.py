"""The pytest plugin's fixtures, run in a throwaway project with pytester."""

from __future__ import annotations

import json

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
    result = pytester.runpytest("-p", "no:cacheprovider")
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
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*fakeapollo -- *", "*emulator for one test*"])
    result.stdout.fnmatch_lines(["*fakeapollo_server*", "*live fakeapollo on a free loopback port*"])


def test_readme_backoff_example_passes(pytester: pytest.Pytester) -> None:
    from tests.conftest import ROOT

    example = (ROOT / "examples" / "test_backoff_readme.py").read_text()
    assert example.strip() in (ROOT / "README.md").read_text(), "README must show the example verbatim"
    pytester.makepyfile(test_backoff=example)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_fixture_controls_clock_scenarios_and_journal(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def call(fakeapollo, email="a@example.com"):
            return fakeapollo.client().post("/api/v1/people/match", json={"email": email})

        def test_scenario_context_manager(fakeapollo):
            with fakeapollo.scenario("no_match") as scenario:
                assert call(fakeapollo).json() == {"person": None}
                assert scenario.id
            assert call(fakeapollo).json()["person"] is not None

        def test_scenario_keeps_match_and_outcome_parameters_apart(fakeapollo):
            import pytest
            from mock_server.domain.errors import InvalidControlRequest

            with fakeapollo.scenario(
                "slow", match_params={"email": "b@example.com"}, outcome_params={"delay_ms": 1}
            ):
                assert call(fakeapollo).json()["person"] is not None
            with fakeapollo.scenario("no_match", match_params={"email": "b@example.com"}):
                assert call(fakeapollo, "b@example.com").json() == {"person": None}
                assert call(fakeapollo).json()["person"] is not None
            with pytest.raises(InvalidControlRequest, match="takes no parameter 'delay'"):
                fakeapollo.scenario("slow", outcome_params={"delay": 300})

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
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_fakeapollo_options_configure_the_sessions_server(pytester: pytest.Pytester) -> None:
    from tests.conftest import ROOT

    tim = json.loads((ROOT / "fixtures" / "persons" / "tim-zheng.json").read_text(encoding="utf-8"))
    persons = pytester.mkdir("persons")
    mine = {**tim, "id": "0123456789abcdef01234567", "email": "mine@acme.test", "first_name": "Mine"}
    (persons / "mine.json").write_text(json.dumps(mine), encoding="utf-8")
    key = {"key": "my-own-key", "team": "t", "plan": "professional", "credits": 5, "scopes": None}
    keys = {"keys": [key]}
    (pytester.path / "keys.json").write_text(json.dumps(keys), encoding="utf-8")
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def fakeapollo_options():
            return {"seed": 7, "fixtures": "persons", "keys": "keys.json", "webhook_delay": "0",
                    "admin_token": "s3cret"}
        """
    )
    pytester.makepyfile(
        """
        import requests

        def match(fakeapollo, email, key):
            return requests.post(fakeapollo.api_url + "/people/match", json={"email": email},
                                 headers={"x-api-key": key})

        def test_options(fakeapollo):
            assert match(fakeapollo, "mine@acme.test", "my-own-key").json()["person"]["first_name"] == "Mine"
            assert match(fakeapollo, "tim@apollo.io", "my-own-key").json()["person"]["name"] == "Tim Zheng"
            assert match(fakeapollo, "a@example.com", "test-key").status_code == 401
            assert fakeapollo.service.config.seed == 7
            assert fakeapollo.service.config.request_id_seed == 7
            assert fakeapollo.admin_token == "s3cret"
            assert requests.get(fakeapollo.url + "/__admin/clock").status_code == 401
            authorized = {"Authorization": "Bearer s3cret"}
            assert requests.get(fakeapollo.url + "/__admin/clock", headers=authorized).status_code == 200
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_mistyped_option_stops_the_run_once_with_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def fakeapollo_options():
            return {"sed": 7}
        """
    )
    pytester.makepyfile("\n".join(f"def test_{i}(fakeapollo):\n    pass\n" for i in range(5)))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str()
    assert output.count("fakeapollo_options: 'sed' is not a setting; did you mean 'seed'?") == 1
    result.stdout.fnmatch_lines(["*no tests ran*"])  # not "5 errors": the run stopped at the first
    result.assert_outcomes()


def test_an_option_out_of_its_range_stops_the_run_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def fakeapollo_options():
            return {"port": 70000}
        """
    )
    pytester.makepyfile("def test_a(fakeapollo):\n    pass\n\ndef test_b(fakeapollo):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*fakeapollo_options: --port must be a whole number from 0 to 65535*"])
    result.assert_outcomes()


def test_handle_lists_and_flushes_webhook_deliveries(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        import requests

        received = []

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        def test_flush(fakeapollo):
            server = HTTPServer(("127.0.0.1", 0), Receiver)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
            fakeapollo.freeze()
            answer = requests.post(fakeapollo.api_url + "/people/match",
                                   json={"email": "ada@example.com", "reveal_phone_number": True,
                                         "webhook_url": hook},
                                   headers={"x-api-key": fakeapollo.api_key}).json()
            (pending,) = fakeapollo.deliveries()
            assert pending["status"] == "pending" and pending["attempts"] == []
            (sent,) = fakeapollo.flush()
            server.shutdown()
            assert sent["status"] == "delivered"
            assert [a["status"] for a in sent["attempts"]] == [200]
            assert fakeapollo.deliveries(status="delivered") == [sent]
            assert fakeapollo.deliveries(request_id=str(answer["request_id"])) == [sent]
            assert "request_id" not in received[0]  # as in Apollo's phone payload
            assert [p["id"] for p in received[0]["people"]] == [answer["person"]["id"]]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_an_unforced_server_error_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def boom(*args, **kwargs):
            raise RuntimeError("emulator bug")

        def call(fakeapollo):
            return fakeapollo.client().post("/api/v1/people/match", json={"email": "a@example.com"})

        def test_unforced(fakeapollo, monkeypatch):
            monkeypatch.setattr(fakeapollo.service.directory, "find", boom)
            assert call(fakeapollo).status_code == 500

        @pytest.mark.fakeapollo_allow_5xx
        def test_allowed(fakeapollo, monkeypatch):
            monkeypatch.setattr(fakeapollo.service.directory, "find", boom)
            assert call(fakeapollo).status_code == 500

        def test_forced(fakeapollo):
            with fakeapollo.scenario("server_error"):
                assert call(fakeapollo).status_code == 500
            assert fakeapollo.client().get(
                "/api/v1/people/match", headers={"X-Mock-Scenario": "service_unavailable"}
            ).status_code == 503
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unforced*",
            "*fakeapollo answered 1 unforced 5xx: POST /api/v1/people/match -> 500*",
        ]
    )
