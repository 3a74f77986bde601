"""Real recorded answers of the search, contact and account endpoints validate strictly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain import data

RECORDED = Path(__file__).parent / "data" / "recorded"
#: Each recorded answer of an endpoint this emulator serves besides enrichment, and its schema.
RECORDINGS = {
    "mixed_people_api_search_5-people_nango_2026-05-18.json": "mixed_people_api_search.response",
    "mixed_companies_search_q-name-apollo_nango_2026-05-18.json": "mixed_companies_search.response",
    "mixed_companies_search_10-orgs_getleads_2024-04-19.json": "mixed_companies_search.response",
    "mixed_companies_search_2-orgs_getleads_2024-04-26.json": "mixed_companies_search.response",
    "contacts_search_3-contacts_nango_2026-05-18.json": "contacts_search.response",
    "contacts_create_nango_2026-05-18.json": "contacts_create.response",
    "contacts_show_nango_2026-05-18.json": "contacts_show.response",
    "accounts_search_5-accounts_nango_2026-05-18.json": "accounts_search.response",
    "accounts_create_nango_2026-05-18.json": "accounts_create.response",
}


def recorded_body(name: str) -> Any:
    """The answer body a recording holds."""
    return json.loads((RECORDED / name).read_text())["body"]


@pytest.mark.parametrize("recording", sorted(RECORDINGS))
def test_a_real_recorded_answer_validates_strictly(recording: str) -> None:
    assert data.violations(RECORDINGS[recording], recorded_body(recording), strict=True) == []


def test_every_recording_of_these_endpoints_is_checked() -> None:
    prefixes = ("mixed_people_api_search", "mixed_companies_search", "contacts_", "accounts_")
    successes = {
        p.name
        for p in RECORDED.glob("*.json")
        if p.name.startswith(prefixes)
        and json.loads(p.read_text())["status"] in (200, None)
        and isinstance(recorded_body(p.name), dict)
    }
    assert successes == set(RECORDINGS)
