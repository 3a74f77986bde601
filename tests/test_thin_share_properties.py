"""Property tests: the thin share of never-seen emails and the nulls real answers have (docs/emulation.md)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.domain import data
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.generation import THIN_SHARE
from mock_server.domain.matching import Identity, normalize_email
from mock_server.domain.persons import render
from tests.test_recorded_answers import _recording

SEEDS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
PROFILE = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Strict validation is the costly part: the first persons of each shape are validated, all are counted.
VALIDATED_PER_SHAPE = 40
RECORDED_THIN = _recording("people_match_thin-person-unknown-email_nango_2026-05-18.json")["body"]["person"]


def _shape(record: dict[str, Any]) -> str:
    """Which of the shapes real answers have a generated person takes."""
    if record["name"] == "":
        return "thin"
    if record.get("email") is not None and "email_status" in record and record["email_status"] is None:
        return "null_status_beside_an_email"
    return "complete"


def _assert_thin(record: dict[str, Any], email: str) -> None:
    """The recorded thin person's keys, in its order, with its values but the id and the email."""
    assert list(record) == list(RECORDED_THIN)
    assert record["email"] == email
    assert {k: v for k, v in record.items() if k not in ("id", "email")} == {
        k: v for k, v in RECORDED_THIN.items() if k not in ("id", "email")
    }


def test_every_shape_occurs_at_its_documented_rate_and_validates() -> None:
    directory = PersonDirectory(0, [])
    emails = [f"person.{i}@company{i % 97}.example.org" for i in range(1_500)]
    shapes: Counter[str] = Counter()
    for email in emails:
        person = directory.find(Identity("email", email))
        assert person is not None
        document = {"person": render(person, reveal_personal_emails=False)}
        shape = _shape(document["person"])
        if shapes[shape] < VALIDATED_PER_SHAPE:
            data.validate("people_match.response", document, strict=True)
        if shape == "thin":
            _assert_thin(document["person"], email)
            assert person.unmatched
        shapes[shape] += 1
    # 1,500 draws: the thin share within five standard deviations of THIN_SHARE (deterministic for seed 0).
    expected = THIN_SHARE * len(emails)
    spread = 5 * (expected * (1 - THIN_SHARE)) ** 0.5
    assert expected - spread <= shapes["thin"] <= expected + spread, shapes
    # null email_status beside an email: 5% of complete persons that keep the key (people.py).
    assert 20 <= shapes["null_status_beside_an_email"] <= 140, shapes


@PROFILE
@given(email=st.emails(), seed=SEEDS, share=st.floats(min_value=0, max_value=1))
def test_the_share_is_seeded_monotonic_and_spares_test_domains(email: str, seed: int, share: float) -> None:
    identity = Identity("email", normalize_email(email))
    if identity.is_nomatch or identity.is_thin:
        return
    person = PersonDirectory(seed, [], thin_share=share).find(identity)
    again = PersonDirectory(seed, [], thin_share=share).find(identity)
    assert person is not None and again is not None
    assert render(person, reveal_personal_emails=True) == render(again, reveal_personal_emails=True)
    never = PersonDirectory(seed, [], thin_share=0).find(identity)
    always = PersonDirectory(seed, [], thin_share=1).find(identity)
    assert never is not None and always is not None
    assert not never.unmatched
    assert always.unmatched is identity.thin_by_chance
    if person.unmatched:
        # A larger share keeps every email a smaller one made thin.
        assert PersonDirectory(seed, [], thin_share=min(1.0, share + 0.25)).find(identity).unmatched  # type: ignore[union-attr]
        _assert_thin(render(person, reveal_personal_emails=False), identity.value)
    else:
        assert render(person, reveal_personal_emails=True) == render(never, reveal_personal_emails=True)
