"""Drawing seeded cases: the one place that uses Hypothesis's private API, and its public fallback."""

from __future__ import annotations

import time
from collections.abc import Callable

import hypothesis
from hypothesis import strategies as st

from contract_tests import drawing
from contract_tests import strategies as gen
from contract_tests.cases import Case, Property
from mock_server.domain.data import violations


def test_hypothesis_private_api_is_what_drawing_relies_on() -> None:
    problems = drawing.private_api_problems()
    assert not problems, (
        f"Hypothesis {hypothesis.__version__} changed the private API contract_tests/drawing.py uses "
        f"(draw_one falls back on the slower @given path): {problems}"
    )


def test_the_same_seed_draws_the_same_case() -> None:
    persons = gen.persons("partial")
    assert drawing.draw_one(persons, "7:x") == drawing.draw_one(persons, "7:x")
    assert drawing.draw_one(persons, "7:x") != drawing.draw_one(persons, "7:y")


def test_a_filter_that_rejects_draws_is_retried_from_the_next_seed() -> None:
    odd = st.integers(0, 1000).filter(lambda n: n % 2 == 1)
    assert all(drawing.draw_one(odd, f"s{i}") % 2 == 1 for i in range(20))


def test_the_public_fallback_draws_valid_documents_reproducibly() -> None:
    first = drawing._draw_public(gen.match_responses(), "3:match:0")
    assert not violations("people_match.response", first)
    assert drawing._draw_public(gen.match_responses(), "3:match:0") == first


def _counting_property(name: str, drawn: list[tuple[str, int]]) -> Property:
    """A cheap property whose cases record, as they are drawn, which property drew them."""

    def case(number: int) -> Case:
        drawn.append((name, number))
        return Case("people_match", {"operation": "people_match", "params": {"id": str(number)}}, [])

    return Property(name, name, lambda: st.integers(0, 10**6).map(case), lambda case, obs: [])


def _wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def test_the_feed_draws_each_next_case_while_the_client_runs_the_one_before() -> None:
    drawn: list[tuple[str, int]] = []
    first, second = _counting_property("first", drawn), _counting_property("second", drawn)
    feed = drawing.CaseFeed([(first, 2), (second, 2)], seed=1)
    try:
        assert _wait_for(lambda: len(drawn) == 1)  # the first case at once (during the pre-flight)
        cases = feed.cases(0)
        got = [next(cases)]
        time.sleep(0.05)
        assert len(drawn) == 1  # nothing more until a client runs
        feed.client_started()
        got.append(next(cases))
        feed.client_started()  # the client runs the first property's last case: the next is drawn
        assert _wait_for(lambda: len(drawn) == 3) and drawn[2][0] == "second"
        assert next(cases, None) is None
        assert [c.request for c in got] == [c.request for c in drawing.draw_cases(first, 2, 1)]
        assert [next(feed.cases(1)).request] == [next(drawing.draw_cases(second, 1, 1)).request]
    finally:
        feed.close()


def test_a_property_left_early_skips_its_cases_and_the_next_property_still_comes() -> None:
    drawn: list[tuple[str, int]] = []
    first, second = _counting_property("first", drawn), _counting_property("second", drawn)
    feed = drawing.CaseFeed([(first, 5), (second, 1)], seed=2)
    try:
        cases = feed.cases(0)
        next(cases)
        feed.client_started()
        assert _wait_for(lambda: len(drawn) == 2)  # one case ahead, then no more
        cases.close()  # the first property failed: its other cases are not wanted
        following = next(feed.cases(1))
        assert following.request == next(drawing.draw_cases(second, 1, 2)).request
        assert [name for name, _ in drawn] == ["first", "first", "second"]
    finally:
        feed.close()
