"""Drawing seeded cases: the one place that uses Hypothesis's private API, and its public fallback."""

from __future__ import annotations

import hypothesis
from hypothesis import strategies as st

from contract_tests import drawing
from contract_tests import strategies as gen
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
