"""Webhooks cannot be turned against the emulator, other teams or outside hosts (issue 13)."""

from __future__ import annotations

from tests.webhook_helpers import TEAM, WITH_MOBILE, emulator, receiver


def test_webhook_late_with_a_delay_that_is_not_a_number_creates_no_delivery() -> None:
    with emulator() as emu, receiver() as hook:
        answer = emu.match(WITH_MOBILE, hook.url, headers={"X-Mock-Scenario": "webhook_late; delay_s=nan"})
        assert answer.status_code == 400
        assert "delay_s" in answer.json()["error"]
        assert emu.deliveries() == []
        assert emu.service.ledger.spent(TEAM) == 0
