"""Apollo's 200 answers: persons, matches, misses (null and stub persons) and bulk bodies."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from contract_tests.strategies.schema import Style, definition, from_schema
from contract_tests.strategies.values import apollo_ids, emails, request_ids
from mock_server.domain.documents import PersonDocument
from mock_server.domain.generation.people import thin_person

WATERFALL_ACCEPTED = (
    "Waterfall enrichment request accepted. Results will be sent to the provided webhook URL."
)


def persons(style: Style = "complete") -> st.SearchStrategy[dict[str, Any]]:
    """Persons as people/match returns them under `person`."""
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(definition("person"), style, name="person")
    return strategy


def partial_persons() -> st.SearchStrategy[dict[str, Any]]:
    """Persons full of Apollo's holes (nulls, missing keys, empty arrays, odd strings)."""
    return persons("partial")


def _optional_waterfall() -> st.SearchStrategy[dict[str, Any]]:
    accepted = from_schema(definition("waterfall_status"), "complete", name="waterfall")
    return st.one_of(st.just({}), accepted.map(lambda w: {"waterfall": w}))


def match_responses(style: Style = "complete") -> st.SearchStrategy[dict[str, Any]]:
    """people/match 200 bodies with a person: `{"person": {...}, "request_id": ...}`."""
    return st.builds(
        lambda person, request_id, waterfall: {"person": person, **waterfall, "request_id": request_id},
        persons(style),
        request_ids(),
        _optional_waterfall(),
    )


def partial_responses() -> st.SearchStrategy[dict[str, Any]]:
    """people/match 200 bodies whose person is partial."""
    return match_responses("partial")


def stub_persons() -> st.SearchStrategy[dict[str, Any]]:
    """A miss answered as a stub person: `name: ""`, `match_confidence: "none"`, an organization.

    Apollo's bulk docs mark a waterfall miss with `match_confidence: "none"` (docs/apollo-facts.md 2.1);
    a public pull request (SkillfulAgents/SuperAgent #1114)
    reports a live single-person miss answered this way.
    """

    def stub(person: dict[str, Any], organization: Any) -> dict[str, Any]:
        names: dict[str, Any] = {key: "" for key in ("first_name", "last_name", "name") if key in person}
        extra = {"organization": organization} if isinstance(organization, dict) else {}
        if extra and "organization_id" in person:
            extra["organization_id"] = organization.get("id", person["organization_id"])
        return {**person, **names, "name": "", **extra, "match_confidence": "none"}

    return st.builds(stub, persons("bare"), _person_field("organization", "complete"))


def thin_persons() -> st.SearchStrategy[PersonDocument]:
    """The thin person Apollo creates for an email it has no one for, as the emulator serves it.

    No name (`""`, first and last null), the email echoed, no organization or location keys, no
    `match_confidence` (docs/apollo-facts.md 2.2, from a real recording).
    """
    return st.builds(
        lambda seed, email: thin_person(seed, email, set()).record, st.integers(0, 2**31), emails()
    )


def _person_field(key: str, style: Style) -> st.SearchStrategy[Any]:
    return from_schema(definition("person")["properties"][key], style, name=key)


def no_match_responses() -> st.SearchStrategy[dict[str, Any]]:
    """people/match 200 bodies for a miss: `{"person": null}`, or sometimes a stub person.

    The null form sometimes carries extra top-level keys; the stub is marked `match_confidence: "none"`.
    """
    return st.one_of(
        st.just({"person": None}),
        request_ids().map(lambda r: {"person": None, "request_id": r}),
        _optional_waterfall().map(lambda w: {"person": None, **w}),
        st.builds(lambda p, r: {"person": p, "request_id": r}, stub_persons(), request_ids()),
    )


#: How a bulk answer's counters relate to its matches: true to them, or all zero while `matches`
#: holds persons, which Apollo's OpenAPI allows (docs/apollo-facts.md 5); clients must trust `matches`.
COUNTERS = ("true", "true", "zero")


def bulk_responses(
    size: int | None = None, style: Style = "complete", counters: str | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """bulk_match 200 bodies: positional matches, any mix of persons and nulls, either variant.

    Persons are drawn as a small pool and placed with fresh, distinct ids: generating ten large
    persons per body would be slow, and alignment is about ids and nulls. The counters are true to
    the matches or zero (`COUNTERS`; `counters` picks one).
    """
    sizes = st.just(size) if size is not None else st.integers(1, 10)
    return sizes.flatmap(
        lambda n: st.builds(
            _bulk_body,
            st.lists(persons(style), min_size=1, max_size=2),
            st.lists(st.one_of(st.none(), st.integers(0, 1)), min_size=n, max_size=n),
            st.lists(apollo_ids(), min_size=n, max_size=n, unique=True),
            request_ids(),
            st.sampled_from(["standard", "standard", "waterfall"]),
            st.booleans(),
            st.just(counters) if counters is not None else st.sampled_from(COUNTERS),
        )
    )


def _bulk_body(
    pool: list[dict[str, Any]],
    picks: list[int | None],
    ids: list[str],
    request_id: int,
    variant: str,
    fractional: bool,
    counters: str = "true",
) -> dict[str, Any]:
    matches: list[dict[str, Any] | None] = [
        None if pick is None else {**pool[pick % len(pool)], "id": ids[index]}
        for index, pick in enumerate(picks)
    ]
    return bulk_body(matches, request_id, variant, fractional, counters)


def bulk_body(
    matches: list[dict[str, Any] | None],
    request_id: int,
    variant: str = "standard",
    fractional: bool = False,
    counters: str = "true",
) -> dict[str, Any]:
    """A bulk_match 200 body around `matches` (standard or waterfall; counters true or zero)."""
    hits = 0 if counters == "zero" else sum(1 for m in matches if m is not None)
    body: dict[str, Any] = {
        "status": "success",
        "error_code": None,
        "error_message": None,
        "total_requested_enrichments": len(matches),
    }
    if variant == "waterfall":
        body["matches"] = matches
        body["waterfall"] = {
            "status": "accepted",
            "message": WATERFALL_ACCEPTED,
        }
    else:
        body["unique_enriched_records"] = hits
        body["missing_records"] = 0 if counters == "zero" else len(matches) - hits
        body["credits_consumed"] = round(hits * 1.01, 2) if fractional else hits
        body["matches"] = matches
    body["request_id"] = request_id
    return body
