"""Properties of the dispatcher: whatever the receiver answers, the outcome follows the retry rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_helpers import TEAM, WITH_MOBILE, Emulator, Receiver, emulator, receiver

ATTEMPTS = 4
STATUSES = st.sampled_from([200, 201, 204, 301, 400, 404, 409, 429, 500, 502, 503])


@pytest.fixture(scope="module")
def rig() -> Iterator[tuple[Emulator, Receiver]]:
    with (
        emulator(webhook_delay="1-3", webhook_attempts=ATTEMPTS, webhook_backoff=1.5) as emu,
        receiver() as hook,
    ):
        yield emu, hook


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(STATUSES, min_size=1, max_size=ATTEMPTS), requests=st.integers(1, 3))
def test_deliveries_end_delivered_or_failed_by_the_rules(
    rig: tuple[Emulator, Receiver], answers: list[int], requests: int
) -> None:
    emu, hook = rig
    emu.service.reset()
    hook.bodies.clear()
    hook.statuses = list(answers) if requests == 1 else []
    emu.freeze()
    sent = [emu.match(WITH_MOBILE, hook.url).json()["request_id"] for _ in range(requests)]
    emu.advance(24 * 3600)
    deliveries = emu.deliveries()
    assert sorted(d["request_id"] for d in deliveries) == sorted(sent)
    if requests > 1:  # the receiver said 200 to everything
        assert all(d["status"] == "delivered" and len(d["attempts"]) == 1 for d in deliveries)
        assert emu.service.ledger.spent(TEAM, "phone") == 8 * requests
        return
    [delivery] = deliveries
    first_ok = next((i for i, s in enumerate(answers) if 200 <= s < 300), None)
    if first_ok is None and len(answers) == ATTEMPTS:
        assert delivery["status"] == "failed"
        assert delivery["failure_reason"] == f"Webhook error: {answers[-1]}"
        assert [a["status"] for a in delivery["attempts"]] == answers
        assert emu.service.ledger.spent(TEAM, "phone") == 0
    else:
        expected = answers[: first_ok + 1] if first_ok is not None else answers + [200]
        assert delivery["status"] == "delivered"
        assert [a["status"] for a in delivery["attempts"]] == expected
        assert emu.service.ledger.spent(TEAM, "phone") == 8
    assert len(hook.bodies) == len(delivery["attempts"])
    assert all(body == hook.bodies[0] for body in hook.bodies)
