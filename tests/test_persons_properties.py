"""Property tests: any email and seed give a schema-valid, deterministic person."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.domain import data
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.matching import Identity, MatchQuery, normalize_email, resolve
from mock_server.domain.persons import render

SEEDS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(email=st.emails(), seed=SEEDS, reveal=st.booleans())
def test_any_email_gives_a_schema_valid_person(email: str, seed: int, reveal: bool) -> None:
    identity = resolve(MatchQuery(email=email))
    assert identity == Identity("email", normalize_email(email))
    person = PersonDirectory(seed, []).find(identity)
    if identity.is_nomatch:
        assert person is None
        return
    assert person is not None
    assert person.record["email"] == identity.value
    document = {"person": render(person, reveal_personal_emails=reveal)}
    data.validate("people_match.response", document)
    data.validate("people_match.response", document, strict=True)
    if person.record.get("organization") is not None and identity.domain:
        organization = PersonDirectory(seed, []).organization_for_domain(identity.domain)
        if person.record["organization"]["primary_domain"] == identity.domain:
            assert organization is not None
            data.validate("organization_enrich.response", {"organization": organization}, strict=True)


@PROFILE
@given(email=st.emails(), seed=SEEDS)
def test_generation_is_a_pure_function_of_seed_and_identity(email: str, seed: int) -> None:
    identity = Identity("email", normalize_email(email))
    first = PersonDirectory(seed, []).find(identity)
    # A directory that has served other people first must still answer the same.
    busy = PersonDirectory(seed, [])
    busy.find(Identity("email", "someone.else@" + (identity.domain or "example.com")))
    second = busy.find(identity)
    if first is None or second is None:
        assert first is None and second is None
        return
    assert json.dumps(render(first, reveal_personal_emails=True)) == json.dumps(
        render(second, reveal_personal_emails=True)
    )
    assert first.phone_numbers == second.phone_numbers
    assert busy.find(Identity("id", second.id)) is second


@PROFILE
@given(
    first=st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != ""),
    last=st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != ""),
    seed=SEEDS,
)
def test_any_name_with_a_domain_gives_a_valid_person(first: str, last: str, seed: int) -> None:
    identity = resolve(MatchQuery(first_name=first, last_name=last, domain="example.com"))
    assert identity is not None
    person = PersonDirectory(seed, []).find(identity)
    assert person is not None
    data.validate(
        "people_match.response", {"person": render(person, reveal_personal_emails=True)}, strict=True
    )
