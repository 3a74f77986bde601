"""Webhook deliveries over real HTTP: delay, clock, retries, duplicates, order, allowlist, credits."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from conftest import start_serve
from webhook_helpers import LANDLINE_ONLY, NO_PHONE, TEAM, WITH_MOBILE, Receiver, emulator, receiver

from mock_server.domain import data


def _closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_phone_payload_arrives_after_the_configured_delay() -> None:
    with emulator(webhook_delay="0.3") as emu, receiver() as hook:
        started = time.monotonic()
        response = emu.match(WITH_MOBILE, hook.url)
        assert response.status_code == 200
        assert hook.bodies == []
        [payload] = hook.wait_for(1)
        assert time.monotonic() - started >= 0.3
        data.validate("webhook_phone.payload", payload, strict=True)
        # Apollo's phone payload has no request_id (docs/apollo-facts.md 4.2): a handler matches on ids.
        assert "request_id" not in payload
        assert [p["id"] for p in payload["people"]] == [response.json()["person"]["id"]]
        assert any(n["type_cd"] == "mobile" for n in payload["people"][0]["phone_numbers"])
        assert hook.paths == ["/hook"]
        deadline = time.monotonic() + 3  # the receiver records the body before it answers
        while emu.deliveries()[0]["status"] != "delivered" and time.monotonic() < deadline:
            time.sleep(0.01)
        [delivery] = emu.deliveries()
        assert delivery["status"] == "delivered"
        assert delivery["attempts"][0]["status"] == 200


def test_advancing_the_frozen_clock_delivers_before_the_advance_returns() -> None:
    with emulator(webhook_delay="5") as emu, receiver() as hook:
        emu.freeze()
        emu.match(WITH_MOBILE, hook.url)
        time.sleep(0.3)  # the background dispatcher gets its chances: nothing is due yet
        emu.advance(4)
        assert hook.bodies == []
        emu.advance(1.5)
        assert len(hook.bodies) == 1  # no waiting: the advance sent it


def test_percent_encoded_webhook_url_is_delivered_to_the_decoded_url() -> None:
    with emulator(webhook_delay="0") as emu, receiver() as hook:
        url = hook.url + "?source=apollo&x=1"
        assert emu.match(WITH_MOBILE, quote(url, safe="")).status_code == 200
        hook.wait_for(1)
        assert hook.paths == ["/hook?source=apollo&x=1"]


@pytest.mark.parametrize(
    ("flags", "targets"),
    [
        ({"run_waterfall_email": True}, ["emails"]),
        ({"run_waterfall_phone": True}, ["phone_numbers"]),
        ({"run_waterfall_email": True, "run_waterfall_phone": True}, ["emails", "phone_numbers"]),
    ],
)
def test_waterfall_payload_is_delivered(flags: dict[str, bool], targets: list[str]) -> None:
    with emulator(webhook_delay="1") as emu, receiver() as hook:
        emu.freeze()
        response = emu.match(WITH_MOBILE, hook.url, **flags)
        assert response.json()["waterfall"]["status"] == "accepted"
        emu.advance(1)
        [payload] = hook.bodies
        data.validate("webhook_waterfall.payload", payload, strict=True)
        assert payload["target_fields"] == targets
        assert payload["request_id"] == str(response.json()["request_id"])  # a string (OAS)
        assert payload["request_completed"] is not None
        assert payload["request_initiated"] < payload["request_completed"]
        person = payload["people"][0]
        assert bool(person["emails"]) == ("emails" in targets)
        assert bool(person["phone_numbers"]) == ("phone_numbers" in targets)
        assert payload["email_records_enriched"] == (1 if "emails" in targets else 0)


def test_bulk_match_sends_one_payload_covering_its_people() -> None:
    with emulator(webhook_delay="1") as emu, receiver() as hook:
        emu.freeze()
        details = [{"email": WITH_MOBILE}, {"email": LANDLINE_ONLY}, {"email": NO_PHONE}]
        response = emu.http.post(
            f"{emu.url}/api/v1/people/bulk_match",
            json={"details": details, "reveal_phone_number": True, "webhook_url": hook.url},
        )
        assert response.status_code == 200
        emu.advance(1)
        [payload] = hook.bodies
        data.validate("webhook_phone.payload", payload, strict=True)
        assert [p["id"] for p in payload["people"]] == [m["id"] for m in response.json()["matches"]]
        assert payload["total_requested_enrichments"] == 3
        assert payload["credits_consumed"] == 8
        landline, nothing = payload["people"][1], payload["people"][2]
        assert landline["status"] == "success"
        assert [n["type_cd"] for n in landline["phone_numbers"]] == ["other"]
        assert nothing == {"id": nothing["id"], "status": "success", "phone_numbers": []}


def test_phone_credits_are_charged_when_the_numbers_are_delivered() -> None:
    with emulator(webhook_delay="10") as emu, receiver() as hook:
        emu.freeze()
        emu.match(WITH_MOBILE, hook.url)
        emu.match(LANDLINE_ONLY, hook.url)
        ledger = emu.service.ledger
        assert ledger.spent(TEAM, "phone") == 0
        emu.advance(10)
        assert len(hook.bodies) == 2
        assert ledger.spent(TEAM, "phone") == 8  # one mobile; the landline costs nothing
        emu.http.post(f"{emu.url}/__admin/webhooks/flush")
        assert ledger.spent(TEAM, "phone") == 8  # never charged twice


def test_a_receiver_answering_500_twice_gets_it_on_the_third_attempt() -> None:
    with emulator(webhook_delay="5", webhook_backoff=2) as emu, receiver([500, 500]) as hook:
        emu.freeze()
        emu.match(WITH_MOBILE, hook.url)
        emu.advance(5)
        assert len(hook.bodies) == 1
        [delivery] = emu.deliveries()
        assert (delivery["status"], delivery["failure_reason"]) == ("pending", "Webhook error: 500")
        emu.advance(1.9)
        assert len(hook.bodies) == 1  # back-off: the retry waits 2 s
        emu.advance(0.1)
        assert len(hook.bodies) == 2
        emu.advance(4)  # then twice as long
        assert len(hook.bodies) == 3
        [delivery] = emu.deliveries()
        assert delivery["status"] == "delivered"
        assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
        assert [a["attempt"] for a in delivery["attempts"]] == [1, 2, 3]
        for attempt in delivery["attempts"]:
            assert attempt["url"] == hook.url
            assert attempt["error"] is None
            assert attempt["duration_ms"] >= 0
        times = [a["at"] for a in delivery["attempts"]]
        assert times == sorted(times) and len(set(times)) == 3
        assert hook.bodies[0] == hook.bodies[2]


def test_one_big_advance_runs_every_retry_that_falls_due() -> None:
    with emulator(webhook_delay="5", webhook_attempts=3) as emu, receiver([503, 503, 503]) as hook:
        emu.freeze()
        emu.match(WITH_MOBILE, hook.url)
        emu.advance(3600)
        assert len(hook.bodies) == 3
        [delivery] = emu.deliveries()
        assert delivery["status"] == "failed"
        assert delivery["failure_reason"] == "Webhook error: 503"
        assert emu.service.ledger.spent(TEAM, "phone") == 0


def test_refused_connections_and_timeouts_are_retried_then_fail_with_a_reason() -> None:
    with (
        emulator(webhook_delay="1", webhook_attempts=2, webhook_timeout=0.3) as emu,
        receiver(hang=1) as slow,
    ):
        emu.freeze()
        refused = emu.match(WITH_MOBILE, f"http://127.0.0.1:{_closed_port()}/h").json()["request_id"]
        hung = emu.match(LANDLINE_ONLY, slow.url).json()["request_id"]
        emu.advance(60)
        by_id = {d["request_id"]: d for d in emu.deliveries()}
        assert by_id[refused]["failure_reason"] == "Webhook error: connection refused"
        assert by_id[hung]["failure_reason"] == "Webhook error: timeout"
        for request_id in (refused, hung):
            assert by_id[request_id]["status"] == "failed"
            assert len(by_id[request_id]["attempts"]) == 2
        assert all(a["duration_ms"] < 900 for a in by_id[hung]["attempts"])


def test_a_hanging_receiver_never_slows_the_api() -> None:
    with emulator(webhook_delay="0", webhook_timeout=2) as emu, receiver(hang=0.8) as slow:
        emu.match(WITH_MOBILE, slow.url)
        time.sleep(0.2)  # the dispatcher is now stuck in the receiver
        started = time.monotonic()
        assert emu.match(LANDLINE_ONLY, slow.url).status_code == 200
        assert emu.http.get(f"{emu.url}/__admin/webhooks").status_code == 200
        assert time.monotonic() - started < 0.5


def test_duplicates_arrive_with_the_same_request_id() -> None:
    with (
        emulator(webhook_delay="1", webhook_duplicate_rate=1.0, webhook_phone_request_id=True) as emu,
        receiver() as hook,
    ):
        emu.freeze()
        request_id = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        emu.advance(1)
        first, second = hook.bodies
        assert first == second and first["request_id"] == request_id
        [delivery] = emu.deliveries()
        assert [a.get("duplicate", False) for a in delivery["attempts"]] == [False, True]


def test_the_default_sends_once_and_the_duplicate_scenario_sends_twice() -> None:
    with emulator(webhook_delay="1", webhook_phone_request_id=True) as emu, receiver() as hook:
        emu.freeze()
        once = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        twice = emu.match(LANDLINE_ONLY, hook.url, headers={"X-Mock-Scenario": "webhook_duplicate"})
        assert twice.status_code == 200 and twice.json()["person"]["email"] == LANDLINE_ONLY
        emu.advance(1)
        assert sorted(b["request_id"] for b in hook.bodies) == sorted(
            [once] + [twice.json()["request_id"]] * 2
        )


@pytest.mark.parametrize("out_of_order", [False, True])
def test_out_of_order_delivery_can_be_switched_on(out_of_order: bool) -> None:
    with (
        emulator(webhook_delay="5", webhook_out_of_order=out_of_order, webhook_phone_request_id=True) as emu,
        receiver() as hook,
    ):
        emu.freeze()
        sent = [
            emu.match(email, hook.url).json()["request_id"]
            for email in (WITH_MOBILE, LANDLINE_ONLY, NO_PHONE)
        ]
        emu.advance(60)
        received = [b["request_id"] for b in hook.bodies]
        assert sorted(received) == sorted(sent)
        assert received == (sent[::-1] if out_of_order else sent)


def test_the_never_scenario_loses_the_webhook_but_the_result_can_be_polled() -> None:
    with emulator(webhook_delay="1") as emu, receiver() as hook:
        emu.freeze()
        response = emu.match(WITH_MOBILE, hook.url, headers={"X-Mock-Scenario": "webhook_never"})
        assert response.status_code == 200 and response.json()["person"]["email"] == WITH_MOBILE
        emu.advance(3600)
        emu.http.post(f"{emu.url}/__admin/webhooks/flush")
        assert hook.bodies == []
        [delivery] = emu.deliveries()
        assert delivery["attempts"][0]["dropped"] is True
        polled = emu.poll(response.json()["request_id"])
        assert polled.status_code == 200 and polled.json()["webhook_status"] == "success"


def test_the_late_scenario_delivers_long_after_the_others() -> None:
    with emulator(webhook_delay="2-5") as emu, receiver() as hook:
        emu.freeze()
        emu.match(WITH_MOBILE, hook.url, headers={"X-Mock-Scenario": "webhook_late"})
        emu.match(LANDLINE_ONLY, hook.url, headers={"X-Mock-Scenario": "webhook_late; delay_s=600"})
        emu.advance(5)
        assert hook.bodies == []
        emu.advance(45)  # 10x the longest delay
        assert len(hook.bodies) == 1
        emu.advance(549)
        assert len(hook.bodies) == 1
        emu.advance(1)
        assert len(hook.bodies) == 2


def test_queued_webhook_scenarios_leave_the_answer_alone() -> None:
    with emulator(webhook_delay="1") as emu, receiver() as hook:
        scenario = {"outcome": "webhook_duplicate", "match": {"path": "/api/v1/people/match"}, "times": 1}
        assert emu.http.post(f"{emu.url}/__admin/scenarios", json=scenario).status_code == 201
        emu.freeze()
        response = emu.match(WITH_MOBILE, hook.url)
        assert response.status_code == 200 and response.json()["person"]["email"] == WITH_MOBILE
        emu.advance(1)
        assert len(hook.bodies) == 2


def test_flush_sends_everything_pending_now() -> None:
    with emulator(webhook_delay="1000") as emu, receiver() as hook:
        emu.freeze()
        emu.match(WITH_MOBILE, hook.url)
        emu.match(LANDLINE_ONLY, hook.url)
        response = emu.http.post(f"{emu.url}/__admin/webhooks/flush")
        assert response.status_code == 200
        assert response.json()["flushed"] == 2
        assert len(hook.bodies) == 2
        assert {d["status"] for d in response.json()["deliveries"]} == {"delivered"}


def test_admin_webhooks_lists_deliveries_with_their_attempts() -> None:
    with emulator(webhook_delay="1") as emu, receiver([404]) as hook:
        emu.freeze()
        request_id = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        emu.advance(1)
        [delivery] = emu.deliveries()
        assert delivery["request_id"] == request_id
        assert delivery["request_type"] == "phone"
        assert delivery["webhook_url"] == hook.url
        assert delivery["team"] == TEAM
        assert delivery["phone_credits"] == 8
        data.validate("webhook_phone.payload", delivery["payload"], strict=True)
        [attempt] = delivery["attempts"]
        assert set(attempt) >= {"at", "url", "status", "error", "duration_ms"}
        assert attempt["status"] == 404
        filtered = emu.http.get(f"{emu.url}/__admin/webhooks", params={"request_id": "1"}).json()
        assert filtered == {"deliveries": []}


def test_admin_webhooks_needs_the_admin_token_when_one_is_set() -> None:
    with emulator(admin_token="s3cret") as emu:
        assert emu.http.get(f"{emu.url}/__admin/webhooks").status_code == 401
        assert emu.http.post(f"{emu.url}/__admin/webhooks/flush").status_code == 401
        authorized = {"Authorization": "Bearer s3cret"}
        assert emu.http.get(f"{emu.url}/__admin/webhooks", headers=authorized).json() == {"deliveries": []}


@pytest.mark.parametrize("url", ["http://8.8.8.8/hook", "https://[2001:4860:4860::8888]/hook"])
def test_hosts_off_the_allowlist_are_accepted_and_their_delivery_fails_unsent(url: str) -> None:
    """Apollo checks only the URL's form (docs/webhooks.md): a 200, then a failed delivery saying why."""
    with emulator() as emu:
        response = emu.match(WITH_MOBILE, url)
        assert response.status_code == 200
        emu.http.post(f"{emu.url}/__admin/webhooks/flush")
        host = url.split("/")[2].strip("[]")
        reason = (
            f"Webhook error: not delivered: webhook_url host '{host}' is not on the allowlist"
            " (loopback and private networks by default; see --webhook-allow)"
        )
        [delivery] = emu.deliveries()
        assert (delivery["status"], delivery["failure_reason"]) == ("failed", reason)
        assert [(a["status"], a["duration_ms"]) for a in delivery["attempts"]] == [(None, 0.0)]
        polled = emu.poll(response.json()["request_id"]).json()
        assert (polled["webhook_status"], polled["failure_reason"]) == ("failed", reason)
        assert emu.service.ledger.spent(TEAM, "phone") == 0


@pytest.mark.parametrize(
    ("allow", "url"),
    [
        ((), "http://localhost:9/h"),
        ((), "http://10.1.2.3:9/h"),
        ((), "http://192.168.0.7/h"),
        (("8.8.8.0/24",), "http://8.8.8.8/h"),
        (("hooks.example.com",), "https://hooks.example.com/apollo"),
        (("*.example.org",), "https://a.b.example.org/apollo"),
        (("*",), "https://203.0.113.9/anything"),
    ],
)
def test_allowed_hosts_are_accepted(allow: tuple[str, ...], url: str) -> None:
    with emulator(webhook_allow=allow, webhook_delay="1000") as emu:
        response = emu.match(WITH_MOBILE, url)
        assert response.status_code == 200, response.text
        assert [d["webhook_url"] for d in emu.deliveries()] == [url]


def test_a_webhook_url_without_a_flag_is_not_checked() -> None:
    with emulator() as emu:
        assert emu.match(WITH_MOBILE, "http://8.8.8.8/h", reveal_personal_emails=True).status_code == 200


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--webhook-delay", "soon"),
        ("--webhook-delay", "10-2"),
        ("--webhook-allow", "10.0.0.0/99"),
        ("--webhook-duplicate-rate", "2"),
    ],
)
def test_serve_rejects_bad_webhook_settings(flag: str, value: str) -> None:
    from mock_server.cli import main

    try:
        status = main(["serve", flag, value])
    except SystemExit as stopped:  # refused while the flags are read
        status = stopped.code
    assert status == 2


def _state_file_supported() -> bool:
    from mock_server.cli import build_parser

    try:
        build_parser().parse_args(["serve", "--state-file", "x"])
    except SystemExit:
        return False
    return True


@pytest.mark.slow
def test_pending_deliveries_survive_a_crash(tmp_path: Path) -> None:
    if not _state_file_supported():
        pytest.skip("fakeapollo serve has no --state-file yet")
    state = tmp_path / "state.sqlite3"
    hook = Receiver()
    try:
        first = start_serve("--state-file", str(state), "--webhook-delay", "1")
        try:
            with requests.Session() as api:
                api.headers["x-api-key"] = "test-key"
                api.post(f"{first.url}/__admin/clock", json={"freeze": True})
                sent = []
                for email in (WITH_MOBILE, LANDLINE_ONLY, NO_PHONE):
                    body = {"email": email, "reveal_phone_number": True, "webhook_url": hook.url}
                    response = api.post(f"{first.url}/api/v1/people/match", json=body)
                    assert response.status_code == 200, response.text
                    sent.append(response.json()["person"]["id"])
        finally:
            first.stop(signal.SIGKILL)
        assert hook.bodies == []
        second = start_serve("--state-file", str(state), "--webhook-delay", "1")
        try:
            with requests.Session() as api:
                api.post(f"{second.url}/__admin/clock/advance", json={"seconds": 5})
                received = hook.wait_for(3)
                assert sorted(b["people"][0]["id"] for b in received) == sorted(sent)
                deliveries = api.get(f"{second.url}/__admin/webhooks").json()["deliveries"]
                assert {d["status"] for d in deliveries} == {"delivered"}
        finally:
            second.stop()
    finally:
        hook.close()
