"""Each deliberately broken client is caught by the property meant to catch it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from contract_tests import contract_report
from mock_server.pytest_plugin import FakeApollo

BROKEN = Path(__file__).resolve().parents[1] / "examples" / "clients" / "broken"
sys.path.insert(0, str(BROKEN))

CAUGHT_BY = {
    "crash_on_null_person": "no_match",
    "keyerror_missing_organization": "partial",
    "retries_429_immediately": "rate_limited",
    "retries_401_forever": "unauthorized",
    "api_key_in_body": "valid_requests",
    "misaligned_bulk": "bulk",
}


def test_every_broken_example_is_listed() -> None:
    assert {p.stem for p in BROKEN.glob("*.py") if not p.stem.startswith("_")} == set(CAUGHT_BY)


@pytest.mark.parametrize(("module", "prop"), sorted(CAUGHT_BY.items()))
def test_broken_client_is_caught_by_its_property(fakeapollo: FakeApollo, module: str, prop: str) -> None:
    adapter = importlib.import_module(module).Adapter
    report = contract_report(fakeapollo, adapter, examples=5, properties=["match", prop], timeout=5)
    assert report.failed == [prop], report.render()
    failure = report.results[1].failure
    assert failure is not None and failure.problems
    assert f"FAILED {prop}" in report.render()


def test_a_failure_is_shrunk_to_a_small_case(fakeapollo: FakeApollo) -> None:
    adapter = importlib.import_module("keyerror_missing_organization").Adapter
    report = contract_report(fakeapollo, adapter, examples=5, properties=["partial"])
    failure = report.results[0].failure
    assert failure is not None
    person = failure.case.responses[-1].document["person"]
    assert "organization" not in person or person["organization"] is None
    assert len(person) <= 12, person  # the required keys, nearly all null
    assert "KeyError" in (failure.observation.crash or "") or "TypeError" in (failure.observation.crash or "")


def test_runaway_client_is_cut_off_quickly(fakeapollo: FakeApollo) -> None:
    adapter = importlib.import_module("retries_401_forever").Adapter
    report = contract_report(fakeapollo, adapter, examples=1, properties=["unauthorized"], timeout=30)
    result = report.results[0]
    assert result.status == "failed"
    assert result.seconds < 5
    assert "runaway" in report.render()


def test_primed_requests_are_journaled(fakeapollo: FakeApollo) -> None:
    sys.path.insert(0, str(BROKEN.parent))
    adapter = importlib.import_module("python_client").PythonClientAdapter()
    report = contract_report(fakeapollo, adapter, examples=2, properties=["match"])
    assert report.ok
    entries = fakeapollo.requests(path="people/match")
    assert len(entries) == 2
    assert {e["scenario"] for e in entries} == {"primed"}
