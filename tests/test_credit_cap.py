"""The recorder's credit cap: what a call can cost, what the answer says it cost, the count on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.recording.credit_cap import CapReached, CreditCap, Estimate, charged_now, estimate


def test_a_single_match_can_cost_one_credit_on_either_prefix() -> None:
    assert estimate("/api/v1/people/match", {"email": "a@b.com"}) == Estimate(1.0, 0.0)
    assert estimate("/v1/people/match", {}) == Estimate(1.0, 0.0)


def test_a_phone_reveal_can_cost_eight_more_credits_later() -> None:
    assert estimate("/api/v1/people/match", {"reveal_phone_number": "true"}) == Estimate(1.0, 8.0)


def test_bulk_counts_every_record_up_to_apollos_limit_of_ten() -> None:
    details = [{"email": f"p{i}@acme.com"} for i in range(3)]
    assert estimate(
        "/api/v1/people/bulk_match", {"details": details, "reveal_phone_number": True}
    ) == Estimate(3.0, 24.0)
    assert estimate("/api/v1/people/bulk_match", {"details": details * 5}).now == 10.0


def test_an_unreadable_flag_counts_as_set() -> None:
    assert estimate("/api/v1/people/match", {"reveal_phone_number": {"yes": 1}}).later == 8.0


def test_polling_and_usage_stats_are_free() -> None:
    assert estimate("/api/v1/webhook_result/123", {}).total == 0
    assert estimate("/api/v1/usage_stats/api_usage_stats", {}).total == 0


def test_the_answer_settles_what_was_charged() -> None:
    reserved = Estimate(3.0, 0.0)
    assert charged_now("/api/v1/people/bulk_match", 200, {"credits_consumed": 1.5}, reserved) == 1.5
    assert charged_now("/api/v1/people/match", 200, {"person": None}, Estimate(1.0, 0.0)) == 0.0
    assert charged_now("/api/v1/people/match", 200, {"person": {"id": "x"}}, Estimate(1.0, 0.0)) == 1.0
    assert charged_now("/api/v1/people/match", 429, {"message": "..."}, Estimate(1.0, 0.0)) == 0.0
    # No answer, or a gateway's: Apollo may have charged, so the reservation stands.
    assert charged_now("/api/v1/people/bulk_match", None, None, reserved) == 3.0
    assert charged_now("/api/v1/people/bulk_match", 502, "<html>", reserved) == 3.0


def test_a_call_that_could_cross_the_cap_is_refused_with_what_was_spent(tmp_path: Path) -> None:
    cap = CreditCap(tmp_path, 10)
    ticket = cap.reserve(Estimate(1.0, 8.0))
    cap.settle(ticket, 1.0, still_pending=8.0)
    with pytest.raises(CapReached) as refused:
        cap.reserve(Estimate(2.0, 0.0))
    assert str(refused.value) == (
        "fakeapollo record: this call could cost up to 2 credits, but 1 of the 10 allowed by --max-credits "
        "are spent and 8 reserved for webhooks not yet delivered; it was not sent to the upstream"
    )
    cap.reserve(Estimate(1.0, 0.0))  # exactly reaching the cap is allowed


def test_spent_and_reserved_credits_survive_a_restart(tmp_path: Path) -> None:
    cap = CreditCap(tmp_path, 5)
    ticket = cap.reserve(Estimate(1.0, 8.0 - 8.0))
    cap.settle(ticket, 1.0)
    pending = cap.reserve(Estimate(2.0, 0.0))
    again = CreditCap(tmp_path, 5)
    assert again.describe() == {"spent": 1.0, "reserved": 2.0, "max_credits": 5}
    again.settle(pending, 2.0)
    assert CreditCap(tmp_path, 5).describe() == {"spent": 3.0, "reserved": 0.0, "max_credits": 5}


def test_without_a_cap_nothing_is_refused(tmp_path: Path) -> None:
    cap = CreditCap(tmp_path, None)
    for _ in range(3):
        cap.settle(cap.reserve(Estimate(1000.0, 0.0)), 1000.0)
    assert cap.spent == 3000.0
