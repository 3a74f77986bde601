"""Each deliberately broken client is caught by the property meant to catch it, at several seeds."""

from __future__ import annotations

import importlib
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from contract_tests import AdapterDriver, ContractServer, Report, contract_report, run_contract
from contract_tests.drivers import client_time_zone
from mock_server.pytest_plugin import FakeApollo

BROKEN = Path(__file__).resolve().parents[1] / "examples" / "clients" / "broken"
sys.path.insert(0, str(BROKEN))
sys.path.insert(0, str(BROKEN.parent))

#: The property docs/contract-testing.md names for each broken client.
CAUGHT_BY = {
    "crash_on_null_person": "no_match",
    "keyerror_missing_organization": "partial",
    "retries_429_immediately": "rate_limited",
    "retries_401_forever": "unauthorized",
    "api_key_in_body": "valid_requests",
    "misaligned_bulk": "bulk",
    "ascii_folded_names": "match",
    "client_error_as_no_match": "client_error",
    "bulk_error_as_nulls": "bulk_errors",
    "short_read_timeout": "timeouts",
    "hand_built_query": "valid_requests",
    "latest_webhook_wins": "idempotent_webhooks",
    "int_retry_after": "rate_limited",
    "indexes_absent_key": "partial",
    "stub_as_match": "no_match",
    "local_time_retry_after": "rate_limited",
    "reset_escapes": "server_error",
    "verified_from_any_status": "match",
    "trusts_bulk_counters": "bulk",
    "dedupes_bulk_by_name": "bulk",
    "first_person_only_webhook": "idempotent_webhooks",
    "webhook_keyed_by_request_id": "idempotent_webhooks",
    "float_request_id": "request_ids",
    "crashes_on_thin_person": "partial",
    "no_read_timeout": "timeouts",
    "first_page_only": "search_then_enrich",
}
SEEDS = (0, 1, 2)


def test_every_broken_example_is_listed() -> None:
    assert {p.stem for p in BROKEN.glob("*.py") if not p.stem.startswith("_")} == set(CAUGHT_BY)


def reports(module: str, prop: str, seeds: tuple[int, ...] = SEEDS, **options: Any) -> list[Report]:
    """Run one property against a broken client at each seed, side by side, on an emulator of its own.

    Each case has its own key, so the seeds' runs do not meet. A runaway client keeps a server
    thread parked on its held request after its case: its own emulator keeps that away from the
    session's. The time zone is set around all the runs, so one run's end does not take it from
    another still running.
    """
    adapter = importlib.import_module(module).Adapter

    def run(seed: int) -> Report:
        return run_contract(AdapterDriver(adapter, 5), server=server, seed=seed, properties=[prop], **options)

    with ContractServer.start() as server, client_time_zone(), ThreadPoolExecutor(len(seeds)) as pool:
        return list(pool.map(run, seeds))


@pytest.mark.slow
@pytest.mark.parametrize(("module", "prop"), sorted(CAUGHT_BY.items()))
def test_broken_client_is_caught_by_its_property_at_every_seed(module: str, prop: str) -> None:
    for report in reports(module, prop, examples=3, shrink_runs=0):
        assert report.failed == [prop], report.render()
        failure = report.results[0].failure
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
    assert "the field: person.organization = " in report.render()


def test_a_bulk_failure_is_shrunk_to_fewer_entries(fakeapollo: FakeApollo) -> None:
    adapter = importlib.import_module("misaligned_bulk").Adapter
    report = contract_report(fakeapollo, adapter, examples=3, properties=["bulk"], timeout=5)
    failure = report.results[0].failure
    assert failure is not None and failure.shrink_runs > 0
    assert len(failure.case.request["details"]) <= 2, failure.case.request
    assert len(failure.case.responses[0].document["matches"]) == len(failure.case.request["details"])


def test_a_wrong_value_names_the_field(fakeapollo: FakeApollo) -> None:
    adapter = importlib.import_module("ascii_folded_names").Adapter
    report = contract_report(fakeapollo, adapter, examples=1, properties=["match"], timeout=5)
    text = report.render()
    assert re.search(r"person\.(name|title): Apollo answered \1 = \"[^\"]*ø", text), text
    assert re.search(r"the field: person\.(name|title) = ", text), text


def test_too_many_retries_name_the_rule() -> None:
    from python_client import ApolloClient, adapter_for

    class RetriesRateLimitForever(ApolloClient):
        def retry_delay(self, response: Any, attempt: int) -> float | None:
            if response is not None and response.status_code == 429:
                return 0.0
            return super().retry_delay(response, attempt)

    with ContractServer.start() as server:
        driver = AdapterDriver(adapter_for(RetriesRateLimitForever), 5)
        report = run_contract(driver, server=server, examples=2, properties=["bulk_errors"], shrink_runs=0)
    assert report.failed == ["bulk_errors"]
    text = report.render()
    assert "requests for one call: more than 3 retries (the rule: retry a 429" in text, text


def test_runaway_client_is_cut_off_quickly(fakeapollo: FakeApollo) -> None:
    adapter = importlib.import_module("retries_401_forever").Adapter
    report = contract_report(fakeapollo, adapter, examples=1, properties=["unauthorized"], timeout=30)
    result = report.results[0]
    assert result.status == "failed"
    assert result.seconds < 5
    assert "runaway" in report.render()


def test_case_requests_are_journaled_by_the_server(fakeapollo: FakeApollo) -> None:
    adapter = importlib.import_module("python_client").PythonClientAdapter()
    report = contract_report(fakeapollo, adapter, examples=2, properties=["match"])
    assert report.ok
    entries = fakeapollo.requests(path="people/match")
    assert len(entries) == 2
    assert {e["scenario"] for e in entries} == {"respond"}  # the case's answers, queued as scenarios
