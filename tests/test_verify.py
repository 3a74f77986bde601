"""`fakeapollo verify`: probes against the emulator (standing in for Apollo), budgets and drift."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.priming import ControlClient, scenario_answer
from contract_tests.strategies import CannedResponse, json_response
from contract_tests.verify import (
    PROBES,
    Probe,
    check_answer,
    exit_status,
    header_drift,
    is_miss,
    render,
    verify_provider,
)
from mock_server.pytest_plugin import FakeApollo

ROOT = Path(__file__).resolve().parents[1]
ALL_CREDITS = sum(p.credits for p in PROBES)


def test_the_emulator_answers_every_probe_as_documented(fakeapollo: FakeApollo) -> None:
    results = verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=ALL_CREDITS)
    names = ["match", "no_match", "bad_key", "bulk", "phone_reveal", "unknown_email", "organization"]
    assert [r.probe.name for r in results] == names
    assert all(r.ok for r in results), render(fakeapollo.url, results)
    assert [r.status for r in results] == [200, 200, 401, 200, 400, 200, 200]
    assert not any(r.undocumented for r in results)


def test_it_refuses_to_start_over_budget(fakeapollo: FakeApollo) -> None:
    with pytest.raises(ValueError, match=f"up to {ALL_CREDITS} credits"):
        verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=ALL_CREDITS - 1)
    assert fakeapollo.requests() == []  # nothing was sent
    free = verify_provider(
        fakeapollo.url, fakeapollo.api_key, max_credits=0, probes=["bad_key", "phone_reveal"]
    )
    assert [r.probe.name for r in free] == ["bad_key", "phone_reveal"]


def scripted(fakeapollo: FakeApollo, key: str, answer: CannedResponse, *, register: bool = False) -> None:
    """The next request with `key` gets exactly `answer` (a `respond` scenario)."""
    control = ControlClient(fakeapollo.url)
    if register:
        control.add_key(key, "team-verify")
    scenario = {"match": {"api_key": key}, "outcome": "respond", "responses": [scenario_answer(answer)]}
    control.queue({**scenario, "times": 1})
    control.close()


def test_drift_is_reported_field_by_field(fakeapollo: FakeApollo) -> None:
    tim = {"id": "not-an-id", "first_name": "Tim", "brand_new_field": 1}
    scripted(fakeapollo, "test-key", json_response({"person": tim}, None))
    results = verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=1, probes=["match"])
    report = render(fakeapollo.url, results)
    assert not results[0].ok
    assert "drift: $.person.id: 'not-an-id' does not match" in report
    assert "$.person: 'last_name' is a required property" in report
    assert "undocumented: $.person" in report and "brand_new_field" in report


def test_a_wrong_status_is_drift(fakeapollo: FakeApollo) -> None:
    # The probe's made-up key is registered here, so the scripted answer applies to it.
    ok = CannedResponse(200, text="OK", content_type="text/plain")
    scripted(fakeapollo, "fakeapollo-verify-invalid-key", ok, register=True)
    results = verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=0, probes=["bad_key"])
    assert results[0].drift[0].startswith("HTTP 200, expected 401")


def test_the_command_line(fakeapollo: FakeApollo) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "mock_server", "verify", "--base-url", fakeapollo.url, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)

    ok = run("--api-key", "test-key", "--max-credits", str(ALL_CREDITS))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "7 probe(s) as documented, 0 drifted" in ok.stdout
    refused = run("--api-key", "test-key", "--max-credits", "1")
    assert refused.returncode == 2 and "refusing to start" in refused.stderr
    unreachable = subprocess.run(
        [
            sys.executable,
            "-m",
            "mock_server",
            "verify",
            "--base-url",
            "http://127.0.0.1:9",
            "--api-key",
            "k",
            "--max-credits",
            "0",
            "--probe",
            "bad_key",
            "--timeout",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    # Not reaching the provider is not drift: its own status and message.
    assert unreachable.returncode == 3, unreachable.stdout + unreachable.stderr
    assert "UNREACHABLE" in unreachable.stdout and "DRIFT" not in unreachable.stdout
    assert "could not reach http://127.0.0.1:9" in unreachable.stderr


EXAMPLES = ROOT / "tests" / "data" / "apollo_examples"


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("*people_match*.json")) + sorted(EXAMPLES.glob("*people_bulk_match*.json")),
    ids=lambda path: path.name,
)
def test_every_public_example_is_no_drift(path: Path) -> None:
    probe = next(p for p in PROBES if p.name == ("bulk" if "bulk" in path.name else "match"))
    schema_only = Probe(probe.name, probe.description, probe.path, probe.body, (200,), probe.schema, 0)
    result = check_answer(schema_only, 200, "application/json", path.read_text(encoding="utf-8"))
    assert result.drift == [] and result.ok


def test_a_stub_person_is_a_miss_not_drift() -> None:
    [no_match] = [p for p in PROBES if p.name == "no_match"]
    stub = {"person": {"id": "5f2a0c0e8e4d2b0001a1b2c3", "first_name": "", "last_name": "", "name": "",
                       "linkedin_url": None, "title": None, "organization_id": None, "state": None,
                       "city": None, "country": None, "match_confidence": "none"}}  # fmt: skip
    assert check_answer(no_match, 200, "application/json", json.dumps(stub)).ok
    assert is_miss(None) and is_miss(stub["person"]) and not is_miss({"name": "Tim Zheng"})


def test_not_reaching_the_provider_is_not_drift() -> None:
    results = verify_provider("http://127.0.0.1:9", "k", max_credits=0, probes=["bad_key"], timeout=2)
    assert results[0].drift == [] and results[0].unreachable is not None
    assert exit_status(results) == 3
    assert "could not reach the provider" in render("http://127.0.0.1:9", results)


def test_a_miss_or_a_complete_person_for_an_unknown_email_is_drift(fakeapollo: FakeApollo) -> None:
    scripted(fakeapollo, "test-key", json_response({"person": None}, None))
    [result] = verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=1, probes=["unknown_email"])
    assert "$.person: expected the thin person of an unknown email, got null" in result.drift
    thin = verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=1, probes=["unknown_email"])[0]
    assert thin.ok, thin.drift
    served = fakeapollo.requests()[-1]["response"]["body"]["person"]
    scripted(fakeapollo, "test-key", json_response({"person": {**served, "city": None}}, None))
    [located] = verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=1, probes=["unknown_email"])
    assert "$.person: key 'city' not in the thin person" in located.drift


def test_headers_that_differ_from_apollos_are_drift(fakeapollo: FakeApollo) -> None:
    # A 200 without Apollo's headers: plain application/json, no cache-control, etag or transaction id.
    scripted(fakeapollo, "test-key", json_response({"organization": {}}, None))
    [result] = verify_provider(fakeapollo.url, fakeapollo.api_key, max_credits=1, probes=["organization"])
    expected = "header content-type: 'application/json', expected 'application/json; charset=utf-8'"
    assert expected in result.drift
    assert any(item.startswith("header x-transaction-id: None") for item in result.drift)
    good = {
        "Content-Type": "application/json; charset=utf-8",
        "cache-control": "max-age=0, private, must-revalidate",
        "etag": 'W/"678b179b4bd302e0b7257396ec90bf05"',
        "x-transaction-id": "59d2171e-54b8-4c4d-be77-de022c8f4c21",
    }
    assert header_drift(200, good) == []  # the values recorded from Apollo on 2026-05-18
    assert header_drift(200, {**good, "etag": 'W/"6c-OxblOa69T/Qk1PFmW79T8xqB8BI"'}) != []
    assert header_drift(403, {}) == []  # only a 200's headers are recorded whole
