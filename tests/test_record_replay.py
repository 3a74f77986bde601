"""A scrubbed recording replayed by `serve --fixtures`: the user's own inputs, never written in clear."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server.domain.data import load_fixture_persons
from tests.conftest import key_registry, start_serve
from tests.recording_helpers import UPSTREAM_KEYS, files_containing, recorder
from tests.webhook_helpers import emulator

pytestmark = pytest.mark.slow

INPUTS = [{"email": "ada@example.com"}, {"email": "tim@apollo.io"}]
TIM_BUNDLED_ID = next(p["id"] for p in load_fixture_persons() if p.get("email") == "tim@apollo.io")


def _match(url: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(
        f"{url}/api/v1/people/match", json=body, headers={"x-api-key": "test-key"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    person: dict[str, Any] = answer.json()["person"]
    return person


def test_a_scrubbed_recording_answers_the_inputs_it_recorded(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with (
        emulator(keys=key_registry(tmp_path, UPSTREAM_KEYS)) as upstream,
        recorder(upstream.url, out, scrub=True) as rec,
    ):
        real = [
            requests.post(
                f"{rec.url}/api/v1/people/match", json=body, headers={"x-api-key": "k"}, timeout=10
            ).json()["person"]
            for body in INPUTS
        ]
    recorded = {p["id"]: p for p in load_fixture_persons(out / "persons")}
    assert len(recorded) == 2 and TIM_BUNDLED_ID not in recorded
    assert files_containing(out, "ada@example.com") == files_containing(out, "tim@apollo.io") == []
    assert all(files_containing(out, person["id"]) == [] for person in real)

    served = start_serve("--fixtures", str(out / "persons"))  # finds rec/scrub.key beside rec/persons
    try:
        ada, tim = (_match(served.url, body) for body in INPUTS)
        bundled_tim = _match(served.url, {"id": TIM_BUNDLED_ID})
    finally:
        served.stop()
    assert {ada["id"], tim["id"]} == set(recorded)
    assert ada["email"] == recorded[ada["id"]]["email"] != "ada@example.com"
    assert tim["first_name"] == recorded[tim["id"]]["first_name"] != "Tim"
    # Tim's real id is one of the identities the recording saw: it answers the recorded Tim too
    # (the user's persons win), never a generated stranger.
    assert bundled_tim == tim

    # Without the key (the persons copied elsewhere, as from git), the tags match nothing.
    keyless = tmp_path / "from-git" / "persons"
    shutil.copytree(out / "persons", keyless)
    served = start_serve("--fixtures", str(keyless))
    try:
        assert _match(served.url, INPUTS[0])["id"] not in recorded
        # ... unless the key is given.
        served.stop()
        served = start_serve("--fixtures", str(keyless), "--scrub-key-file", str(out / "scrub.key"))
        assert _match(served.url, INPUTS[0])["id"] == ada["id"]
    finally:
        served.stop()
