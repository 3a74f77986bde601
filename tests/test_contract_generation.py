"""Contract cases: fixed extremes first, and case i depends only on (seed, property, i)."""

from __future__ import annotations

import json

import pytest

from contract_tests import PROPERTIES, drawing, property_named
from contract_tests import strategies as gen
from contract_tests.case_cache import CACHE_VARIABLE
from contract_tests.drawing import draw_cases
from contract_tests.misses import THIN_PERSON, miss_rule


def _fingerprints(name: str, count: int, seed: int, fresh: pytest.MonkeyPatch | None = None) -> list[str]:
    """The cases' requests and answers as text; drawn afresh (no cache of any kind) given `fresh`."""
    if fresh is not None:
        fresh.setattr(drawing, "_DRAWN", {})
        fresh.delenv(CACHE_VARIABLE, raising=False)
    cases = draw_cases(property_named(name), count, seed)
    return [
        json.dumps(
            [c.request, [[r.status, r.document, r.text] for r in c.responses]], sort_keys=True, default=str
        )
        for c in cases
    ]


@pytest.mark.parametrize("name", [p.name for p in PROPERTIES if p.name != "idempotent_webhooks"])
def test_more_examples_only_add_cases(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    few = _fingerprints(name, 1, seed=7)
    assert _fingerprints(name, 2, seed=7, fresh=monkeypatch)[:1] == few
    assert _fingerprints(name, 1, seed=8) != few or name in (
        "unauthorized",
        "forbidden",
        "client_error",
        "valid_requests",
    )


def test_partial_starts_with_the_thin_person_then_the_bare_one_then_every_key_null() -> None:
    thin, first, second = list(draw_cases(property_named("partial"), 3, seed=123))
    assert miss_rule(thin.responses[0].document["person"]) is THIN_PERSON
    required = set(gen.definition("person")["required"])
    bare = first.responses[0].document["person"]
    assert set(bare) == required and "organization" not in bare
    nulled = second.responses[0].document["person"]
    assert nulled["organization"] is None
    assert all(nulled[key] is None for key in set(nulled) - required)  # every nullable key, as null
    assert len(nulled) > len(required) + 5


def test_rate_limited_tries_every_retry_after_form_first() -> None:
    cases = list(draw_cases(property_named("rate_limited"), 5, seed=99))
    forms = []
    for case in cases:
        answer = case.responses[0]
        forms.append(
            "date" if answer.retry_after_date is not None else answer.headers.get("Retry-After", "absent")
        )
    assert forms == ["absent", "date", "3600", "0", "1"]


def test_valid_requests_starts_with_the_most_awkward_parameters() -> None:
    first = next(iter(draw_cases(property_named("valid_requests"), 1, seed=5)))
    assert first.request["params"] == gen.AWKWARD_PARAMS[0]
    assert "&" in first.request["params"]["webhook_url"]


def test_no_match_tries_the_stub_person_at_every_seed() -> None:
    for seed in range(3):
        cases = list(draw_cases(property_named("no_match"), 2, seed))
        assert cases[1].responses[0].document["person"]["match_confidence"] == "none"


def test_case_keys_stay_apart_under_the_journals_mask() -> None:
    from contract_tests.runner import _case_key
    from mock_server.domain.journal import mask_secret

    masks = {mask_secret(_case_key("abc123", n)) for n in range(200)}
    assert len(masks) == 200
