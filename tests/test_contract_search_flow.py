"""search_then_enrich: its cases are Apollo's shapes, and it catches clients that get the flow wrong."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from contract_tests import AdapterDriver, ContractServer, Report, contract_report, run_contract
from contract_tests.contract import property_named
from contract_tests.drawing import draw_cases
from contract_tests.search_flow import MATCH_ROUTE, SEARCH_ROUTE, thin_record
from mock_server.domain.data import violations
from mock_server.pytest_plugin import FakeApollo

CLIENTS = Path(__file__).resolve().parents[1] / "examples" / "clients"
sys.path.insert(0, str(CLIENTS / "broken"))
sys.path.insert(0, str(CLIENTS))

from python_client import ApolloClient, Person, adapter_for  # noqa: E402

PROPERTY = "search_then_enrich"


def _report(fakeapollo: FakeApollo, client: type[ApolloClient]) -> Report:
    """One seed, up to 3 cases, no shrinking, on the session's emulator."""
    options: dict[str, Any] = {"examples": 3, "properties": [PROPERTY], "shrink_runs": 0, "timeout": 5}
    report: Report = contract_report(fakeapollo, adapter_for(client), **options)
    return report


def test_every_page_and_enrichment_served_validates_against_apollos_schemas() -> None:
    for seed in (0,):
        for case in draw_cases(property_named(PROPERTY), 6, seed):
            for where, answers in case.routes:
                schema = (
                    "mixed_people_api_search.response"
                    if where["path"] == SEARCH_ROUTE
                    else "people_match.response"
                )
                for answer in answers:
                    assert answer.status == 200 and answer.schema == schema
                    assert violations(schema, answer.document) == [], answer.document


def test_the_first_case_has_two_full_pages_an_overstated_total_and_a_miss_last() -> None:
    case = next(iter(draw_cases(property_named(PROPERTY), 1, seed=3)))
    pages = [
        answer.document
        for where, answers in case.routes
        if where["path"] == SEARCH_ROUTE
        for answer in answers
    ]
    assert [len(page["people"]) for page in pages] == [2, 2, 0]
    assert pages[0]["total_entries"] > 4
    enrichments = {
        where["params"]["id"]: answers[0].document
        for where, answers in case.routes
        if where["path"] == MATCH_ROUTE
    }
    found = [record["id"] for page in pages for record in page["people"]]
    assert list(enrichments) == found
    last = enrichments[found[-1]]["person"]
    assert last is None or last["match_confidence"] == "none"
    first = enrichments[found[0]]["person"]
    assert pages[0]["people"][0] == thin_record(first)  # the search record is the enriched person's


class StopsOnlyAtTotalEntries(ApolloClient):
    """Trusts total_entries alone: keeps asking for pages after an empty one."""

    def search_people(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self.post("/mixed_people/api_search", {**params, "page": page})
            found += data["people"]
            if len(found) >= data["total_entries"]:
                return found
            page += 1


class DropsMisses(ApolloClient):
    """Leaves the misses out, so the list no longer lines up with the search."""

    def search_then_enrich(self, params: dict[str, Any]) -> list[Person | None]:
        return [p for p in super().search_then_enrich(params) if p is not None]


class EnrichesTwice(ApolloClient):
    """Enriches everyone once to count them and again to report them."""

    def search_then_enrich(self, params: dict[str, Any]) -> list[Person | None]:
        found = self.search_people(params)
        for record in found:
            self.people_match(id=record["id"])
        return [self.people_match(id=record["id"]) for record in found]


def test_a_client_that_trusts_total_entries_past_an_empty_page_is_cut_off() -> None:
    # A runaway's held request parks a server thread: an emulator of its own keeps it from the session's.
    with ContractServer.start() as server:
        driver = AdapterDriver(adapter_for(StopsOnlyAtTotalEntries), 5)
        report = run_contract(driver, server=server, examples=1, properties=[PROPERTY], shrink_runs=0)
    assert report.failed == [PROPERTY], report.render()
    assert "(runaway)" in report.render()


def test_a_client_that_drops_misses_or_enriches_twice_fails(fakeapollo: FakeApollo) -> None:
    dropped = _report(fakeapollo, DropsMisses)
    assert "one entry per person found, in search order, null for a miss" in dropped.render()
    twice = _report(fakeapollo, EnrichesTwice)
    assert "was enriched 2 times: once is enough" in twice.render()


def test_a_searched_persons_wrong_value_is_named(fakeapollo: FakeApollo) -> None:
    folded = importlib.import_module("ascii_folded_names").AsciiFoldedNames
    report = _report(fakeapollo, folded)
    assert report.failed == [PROPERTY]
    assert "people[0].name: Apollo answered" in report.render() or "people[0].title" in report.render()
