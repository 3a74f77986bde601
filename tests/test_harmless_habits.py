"""Harmless habits pass the contract at seeds 0-2, and each run shows the habit at work.

Each habit client (examples/clients/habits/) is the good example client plus one habit a real
integration has: `reveal_personal_emails: false` always, a percent-encoded `webhook_url`, an
identical bulk detail asked once. The properties run are those that look at what was sent.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from contract_tests import AdapterDriver, ContractServer, run_contract

HABITS = Path(__file__).resolve().parents[1] / "examples" / "clients" / "habits"
sys.path.insert(0, str(HABITS))
sys.path.insert(0, str(HABITS.parent))

SEEDS = (0, 1, 2)
#: For each habit, the properties that judge what it changes in the requests, and the cases each
#: runs: enough to reach the extremes where the habit shows (every awkward parameter set, the
#: stub miss, the bulk request with a repeated detail).
PROPERTIES = {
    "always_reveal_false": (["match", "no_match", "valid_requests"], 2),
    "encodes_webhook_url": (["valid_requests", "request_ids"], 2),
    "asks_repeats_once": (["bulk"], 4),
}


def _shows_the_habit(habit: str, sent: list[tuple[str, Any, Any]]) -> bool:
    """Whether the client's requests (path, what it was asked, the body it sent) show `habit`."""
    if habit == "always_reveal_false":
        return any(
            path.endswith("people/match")
            and body.get("reveal_personal_emails") is False
            and "reveal_personal_emails" not in asked
            for path, asked, body in sent
        )
    if habit == "encodes_webhook_url":
        return any("%3A%2F%2F" in str(body.get("webhook_url", "")) for _, _, body in sent)
    return any(
        path.endswith("bulk_match") and len(body["details"]) < len(asked["details"])
        for path, asked, body in sent
    )


@pytest.mark.parametrize("habit", list(PROPERTIES))
def test_a_harmless_habit_passes_at_seeds_0_to_2(habit: str) -> None:
    adapter = importlib.import_module(habit).Adapter
    habit_class = adapter.client_class
    sent: list[tuple[str, Any, Any]] = []

    class Watched(habit_class):  # type: ignore[misc,valid-type]
        """The habit client, noting what it was asked and what it sent."""

        asked_details: list[Any] = []

        def bulk_match(self, details: list[dict[str, Any]]) -> Any:
            self.asked_details = list(details)
            return super().bulk_match(details)

        def post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
            asked = {"details": self.asked_details} if path.endswith("bulk_match") else params
            sent.append((path, asked, self.body(params)))
            return super().post(path, params)  # type: ignore[no-any-return]

    adapter.client_class = Watched
    try:
        with ContractServer.start() as server:
            for seed in SEEDS:
                sent.clear()
                report = run_contract(
                    AdapterDriver(adapter),
                    server=server,
                    seed=seed,
                    examples=PROPERTIES[habit][1],
                    properties=PROPERTIES[habit][0],
                )
                assert report.ok, f"seed {seed}:\n{report.render()}"
                assert _shows_the_habit(habit, sent), f"seed {seed}: the habit never showed in {sent[:3]}"
    finally:
        adapter.client_class = habit_class
