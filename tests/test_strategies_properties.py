"""Everything the contract strategies generate validates against fakeapollo's schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests import strategies as gen
from contract_tests.drawing import draw
from contract_tests.strategies import schema
from mock_server.domain.data import validate

FAST = settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=4, deadline=None, database=None, suppress_health_check=list(HealthCheck))

DOCUMENTS = [
    ("people_match.response", gen.match_responses, FAST),
    ("people_match.response", gen.partial_responses, FAST),
    ("people_match.response", gen.no_match_responses, FAST),
    ("people_bulk_match.response", gen.bulk_responses, SLOW),
    ("webhook_phone.payload", gen.phone_webhook_payloads, FAST),
    ("webhook_waterfall.payload", gen.waterfall_webhook_payloads, FAST),
    ("people_match.request", gen.match_params, FAST),
    ("person", gen.partial_persons, FAST),
    ("person", lambda: gen.persons("bare"), FAST),
    ("person", lambda: gen.persons("longest"), SLOW),
    ("person", gen.stub_persons, FAST),
    ("people_match.request", lambda: st.sampled_from(gen.AWKWARD_PARAMS), FAST),
    ("people_bulk_match.request", lambda: gen.bulk_details().map(lambda d: {"details": d}), FAST),
]


@pytest.mark.parametrize(
    ("schema", "strategy", "config"), DOCUMENTS, ids=lambda v: getattr(v, "__name__", "")
)
def test_generated_documents_validate(schema: str, strategy: Any, config: settings) -> None:
    @config
    @given(strategy())
    def check(document: Any) -> None:
        validate(schema, document)
        json.dumps(document)  # wire-ready

    check()


@FAST
@given(st.one_of(gen.error_responses(), gen.bulk_error_responses()))
def test_error_answers_are_apollo_error_bodies(response: gen.CannedResponse) -> None:
    if response.schema is not None:
        validate(response.schema, response.text if response.text is not None else response.document)
    if response.status == 429:
        assert response.headers["Retry-After"] in ("0", str(gen.RETRY_AFTER_SECONDS))
    if response.status == 200:  # the truncated body
        with pytest.raises(ValueError):
            json.loads(response.body())
    assert response.status in (200, 400, 401, 403, 422, 429, 500, 502, 503, 504)


@FAST
@given(
    st.sampled_from(gen.RETRY_AFTER_FORMS).flatmap(
        lambda f: st.tuples(st.just(f), gen.rate_limited_responses(retry_after=f))
    )
)
def test_retry_after_comes_in_every_form(drawn: tuple[str, gen.CannedResponse]) -> None:
    form, response = drawn
    served = response.at(1_800_000_000.2)
    if form == "absent":
        assert "Retry-After" not in served.headers
    elif form == "date":
        assert served.headers["Retry-After"] == "Fri, 15 Jan 2027 08:00:03 GMT"  # a whole second, 2 s on
    else:
        assert served.headers["Retry-After"] == form


@SLOW
@given(st.integers(1, 10).flatmap(lambda n: st.tuples(st.just(n), gen.bulk_responses(n))))
def test_bulk_answers_are_positional_with_counters_true_or_zero(drawn: tuple[int, dict[str, Any]]) -> None:
    size, body = drawn
    assert len(body["matches"]) == size == body["total_requested_enrichments"]
    ids = [m["id"] for m in body["matches"] if m is not None]
    assert len(ids) == len(set(ids))
    if "missing_records" in body:
        counters = (body["unique_enriched_records"], body["missing_records"])
        # Apollo's OpenAPI allows counters at zero beside matched persons (docs/apollo-facts.md 5).
        assert counters in ((len(ids), body["matches"].count(None)), (0, 0)), counters


@FAST
@given(gen.duplicated_deliveries())
def test_duplicated_deliveries_repeat_payloads(deliveries: gen.Deliveries) -> None:
    assert len(deliveries.delivered) > len(deliveries.unique)
    assert all(p in deliveries.unique for p in deliveries.delivered)


def test_realistic_values_have_their_meaning() -> None:
    @FAST
    @given(gen.persons())
    def check(person: dict[str, Any]) -> None:
        assert len(person["id"]) == 24
        assert person.get("organization", {}) is not None  # complete: left out at times, never null
        if person.get("email"):
            assert "@" in person["email"]
        for phone in person.get("phone_numbers", []):
            assert phone["sanitized_number"].startswith("+")

    check()


def test_partial_persons_have_holes() -> None:
    seen = {"null": False, "missing": False, "extra": False}
    documented = set(gen.definition("person")["properties"])

    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(gen.partial_persons())
    def check(person: dict[str, Any]) -> None:
        seen["null"] |= any(v is None for v in person.values())
        seen["missing"] |= "organization" not in person
        seen["extra"] |= bool(set(person) - documented)

    check()
    assert all(seen.values()), seen


def test_optional_keys_are_sometimes_absent_and_partial_persons_always_miss_one() -> None:
    documented = gen.definition("person")["properties"]
    optional = set(documented) - set(gen.definition("person")["required"])
    complete = draw(gen.persons(), 25, 0)
    absent = set().union(*(optional - set(p) for p in complete))
    present = set().union(*(optional & set(p) for p in complete))
    assert len(absent) > len(optional) / 2, sorted(optional - absent)
    assert present == optional, sorted(optional - present)
    assert all(optional - set(p) for p in draw(gen.partial_persons(), 10, 0))


SCRIPTS = {"accents": "øëñœłễ", "right-to-left": "אבגדהוזחטיכלמנסעפצקרשתمحدلعيرةبا", "emoji": "🚀📈✨"}


def test_complete_persons_carry_every_script() -> None:
    text = json.dumps(draw(gen.persons(), 10, 0), ensure_ascii=False)
    assert {name for name, probe in SCRIPTS.items() if any(c in text for c in probe)} == set(SCRIPTS)


def test_stub_persons_are_marked_as_no_match() -> None:
    @FAST
    @given(gen.stub_persons())
    def check(person: dict[str, Any]) -> None:
        assert person["match_confidence"] == "none"
        assert person["name"] == ""
        assert isinstance(person["organization"], dict)

    check()


def test_a_schema_change_flows_into_the_strategies(monkeypatch: pytest.MonkeyPatch) -> None:
    person = json.loads(json.dumps(gen.definition("person")))
    person["properties"]["new_required_field"] = {"type": "boolean"}
    person["required"] = [*person["required"], "new_required_field"]
    monkeypatch.setitem(schema._definitions(), "person", person)

    @FAST
    @given(gen.persons("partial"))
    def check(document: dict[str, Any]) -> None:
        assert isinstance(document["new_required_field"], bool)

    check()
