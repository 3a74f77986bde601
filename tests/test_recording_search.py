"""`fakeapollo record` records the search flow: every exchange kept, free calls not counted, no drift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import key_registry
from tests.recording_helpers import UPSTREAM_KEYS, recorder
from tests.webhook_helpers import Emulator, emulator

pytestmark = pytest.mark.slow


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Emulator]:
    """A fakeapollo that knows only the recorder's real key."""
    with emulator(keys=key_registry(tmp_path, UPSTREAM_KEYS)) as handle:
        yield handle


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    answer = requests.request(method, url, json=body, headers={"x-api-key": "any-client-key"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_search_enrich_and_contact_are_recorded_and_only_the_enrichment_is_counted(
    upstream: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    with recorder(upstream.url, out, max_credits=5) as rec:
        api = rec.url + "/api/v1"
        people = _call(
            "POST", api + "/mixed_people/api_search", {"q_organization_domains_list": ["rec.example"]}
        )
        person = _call("POST", api + "/people/match", {"id": people["people"][0]["id"]})["person"]
        contact = _call("POST", api + "/contacts", {"email": person["email"]})["contact"]
        _call("PATCH", api + f"/contacts/{contact['id']}", {"title": "Recorded"})
        exchanges = rec.exchanges()
    assert [(e["request"]["method"], e["request"]["path"]) for e in exchanges] == [
        ("POST", "/api/v1/mixed_people/api_search"),
        ("POST", "/api/v1/people/match"),
        ("POST", "/api/v1/contacts"),
        ("PATCH", f"/api/v1/contacts/{contact['id']}"),
    ]
    assert json.loads((out / "credits.json").read_text())["spent"] == 1.0
    drift = (out / "drift.md").read_text() if (out / "drift.md").exists() else ""
    assert "without a schema" not in drift and "contacts" not in drift and "api_search" not in drift
