"""Poll Webhook Result: pending, success, failed, unknown, malformed, expired; auth, limits, cost."""

from __future__ import annotations

import pytest
from webhook_helpers import TEAM, WITH_MOBILE, emulator, receiver

from mock_server.domain import data

DAY = 86_400


def test_poll_walks_from_pending_to_success_to_expired() -> None:
    with emulator(webhook_delay="30") as emu, receiver() as hook:
        emu.freeze()
        request_id = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        pending = emu.poll(request_id)
        assert pending.status_code == 404
        assert pending.json() == {"error_code": "result_pending", "retry_after_seconds": 30}
        data.validate("error.response", pending.json())
        emu.advance(20)
        assert emu.poll(request_id).json()["retry_after_seconds"] == 10

        emu.advance(10)
        done = emu.poll(request_id)
        assert done.status_code == 200
        body = done.json()
        data.validate("webhook_result.response", body, strict=True)
        assert body["request_id"] == str(request_id)
        assert (body["webhook_status"], body["request_type"], body["failure_reason"]) == (
            "success",
            "phone",
            None,
        )
        assert body["webhook_result"] == hook.bodies[0]
        assert body["last_dispatched_at"] is not None
        assert emu.poll(request_id, prefix="/v1").json() == body

        emu.advance(30 * DAY - 1)
        assert emu.poll(request_id).status_code == 200
        emu.advance(1 * DAY)
        expired = emu.poll(request_id)
        assert expired.status_code == 410
        assert expired.json() == {"error_code": "request_id_expired"}


def test_a_failed_delivery_is_still_pollable_with_its_reason() -> None:
    with emulator(webhook_delay="1", webhook_attempts=2) as emu, receiver([404, 404]) as hook:
        emu.freeze()
        request_id = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        emu.advance(1)
        assert emu.poll(request_id).json()["error_code"] == "result_pending"  # a retry is coming
        emu.advance(60)
        body = emu.poll(request_id).json()
        data.validate("webhook_result.response", body, strict=True)
        assert body["webhook_status"] == "failed"
        assert body["failure_reason"] == "Webhook error: 404"
        assert body["webhook_result"] == hook.bodies[0]


def test_a_waterfall_result_is_pollable() -> None:
    with emulator(webhook_delay="1") as emu, receiver() as hook:
        emu.freeze()
        request_id = emu.match(WITH_MOBILE, hook.url, run_waterfall_phone=True).json()["request_id"]
        emu.advance(1)
        body = emu.poll(request_id).json()
        data.validate("webhook_result.response", body, strict=True)
        assert body["request_type"] == "waterfall"
        assert body["webhook_result"] == hook.bodies[0]


def test_unknown_request_ids_are_404() -> None:
    with emulator() as emu:
        for request_id in ("1039995589705121900", "-5", "0"):
            response = emu.poll(request_id)
            assert response.status_code == 404
            assert response.json() == {"error_code": "request_id_unknown"}


@pytest.mark.parametrize(
    "request_id", ["abc", "1.5", "12a", "9223372036854775808", "-9223372036854775809", "+1", "%20"]
)
def test_malformed_request_ids_are_400(request_id: str) -> None:
    with emulator() as emu:
        response = emu.poll(request_id)
        assert response.status_code == 400
        assert response.json() == {"error_code": "invalid_request_id"}


def test_the_extreme_signed_64_bit_ids_are_well_formed() -> None:
    with emulator() as emu:
        for request_id in ("9223372036854775807", "-9223372036854775808"):
            assert emu.poll(request_id).json() == {"error_code": "request_id_unknown"}


def test_polling_needs_a_key() -> None:
    with emulator() as emu:
        response = emu.http.get(f"{emu.url}/api/v1/webhook_result/1", headers={"x-api-key": "nope"})
        assert response.status_code == 401
        assert response.text == "Invalid access credentials."
        del emu.http.headers["x-api-key"]
        assert emu.poll(1).status_code == 401


def test_polling_is_free_and_rate_limited() -> None:
    with emulator(webhook_delay="1") as emu, receiver() as hook:
        emu.freeze()
        request_id = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        emu.advance(1)
        spent = emu.service.ledger.spent(TEAM)
        first = emu.poll(request_id)
        key = emu.service.keys.authenticate("test-key", "")
        expected = emu.service.limiter.limits_for(key, "api/v1/webhook_result/show")["minute"]
        assert first.headers["x-rate-limit-minute"] == str(expected)
        assert first.headers["x-minute-usage"] == "1"
        assert emu.poll(request_id).headers["x-minute-usage"] == "2"
        assert emu.poll("1").headers["x-minute-usage"] == "3"  # errors are counted and carry the headers
        assert emu.service.ledger.spent(TEAM) == spent


def test_the_free_plan_limit_applies_to_polling() -> None:
    with emulator() as emu:
        emu.freeze()
        emu.http.headers["x-api-key"] = "free-plan-key"
        statuses = [emu.poll(1).status_code for _ in range(51)]
        assert statuses == [404] * 50 + [429]
        limited = emu.poll(1)
        assert "api/v1/webhook_result/show" in limited.json()["message"]
        assert int(limited.headers["Retry-After"]) >= 1


def test_polls_are_journaled() -> None:
    with emulator() as emu:
        emu.poll(7)
        entries = emu.http.get(f"{emu.url}/__admin/requests").json()["requests"]
        assert [(e["path"], e["response"]["status"]) for e in entries] == [("/api/v1/webhook_result/7", 404)]
        assert entries[0]["credits_charged"] == 0
