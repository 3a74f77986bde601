"""Webhook payload builders, settings parsing and the allowlist, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mock_server.domain import data
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.errors import PollError
from mock_server.domain.matching import Identity
from mock_server.domain.persons import Person
from mock_server.domain.webhooks.outbox import parse_delay, parse_request_id
from mock_server.domain.webhooks.payloads import phone_payload, target_fields, waterfall_payload
from mock_server.domain.webhooks.transport import Allowlist

INITIATED = datetime(2026, 1, 8, 8, 5, 49, tzinfo=UTC)


@pytest.fixture(scope="module")
def people() -> list[Person]:
    directory = PersonDirectory(0, data.load_fixture_persons())
    found = [directory.find(Identity("email", f"p{i}@phones.com")) for i in range(40)]
    found += [directory.find(Identity("email", "ada@example.com"))]
    found += [
        directory.find(Identity("linkedin", f"http://www.linkedin.com/in/someone-{i}")) for i in range(10)
    ]
    return [p for p in found if p is not None]


def test_the_sample_has_people_with_and_without_mobiles(people: list[Person]) -> None:
    assert any(p.has_mobile for p in people)
    assert any(not p.has_mobile and p.phone_numbers for p in people)
    assert any(not p.phone_numbers for p in people)


@pytest.mark.parametrize("strict", [False, True])
def test_phone_payloads_validate(people: list[Person], strict: bool) -> None:
    for size in (1, 3, 10):
        for start in range(0, len(people) - size, size):
            chunk = people[start : start + size]
            payload = phone_payload(chunk, size, -1234567890123)
            data.validate("webhook_phone.payload", payload, strict=strict)
            data.validate("webhook_result.response", _wrapped(payload, "phone"), strict=strict)


def test_phone_payload_counts_and_credits(people: list[Person]) -> None:
    mobile = next(p for p in people if p.has_mobile)
    landline = next(p for p in people if not p.has_mobile and p.phone_numbers)
    nothing = next(p for p in people if not p.phone_numbers)
    payload = phone_payload([mobile, landline, nothing], 5, 42)
    assert payload["total_requested_enrichments"] == 5
    assert payload["unique_enriched_records"] == 2
    assert payload["missing_records"] == 3
    assert payload["credits_consumed"] == 8
    assert payload["request_id"] == 42
    assert [p["id"] for p in payload["people"]] == [mobile.id, landline.id, nothing.id]
    assert payload["people"][2] == {"id": nothing.id, "status": "success", "phone_numbers": []}
    assert payload["people"][0]["phone_numbers"] == [dict(n) for n in mobile.phone_numbers]


def test_phone_payload_can_leave_out_the_request_id(people: list[Person]) -> None:
    payload = phone_payload(people[:1], 1, None)
    assert "request_id" not in payload
    data.validate("webhook_phone.payload", payload, strict=True)


def test_payloads_are_fresh_copies(people: list[Person]) -> None:
    person = next(p for p in people if p.phone_numbers)
    before = [dict(n) for n in person.phone_numbers]
    payload = phone_payload([person], 1, 1)
    payload["people"][0]["phone_numbers"][0]["raw_number"] = "changed"
    assert [dict(n) for n in person.phone_numbers] == before


@pytest.mark.parametrize(("email", "phone"), [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("strict", [False, True])
def test_waterfall_payloads_validate(people: list[Person], email: bool, phone: bool, strict: bool) -> None:
    for start in range(0, len(people), 7):
        chunk = people[start : start + 7]
        payload = waterfall_payload(
            chunk,
            len(chunk) + 1,
            99,
            run_waterfall_email=email,
            run_waterfall_phone=phone,
            initiated=INITIATED,
        )
        payload["request_completed"] = "2026-01-08T08:10:56.000Z"
        data.validate("webhook_waterfall.payload", payload, strict=strict)
        data.validate("webhook_result.response", _wrapped(payload, "waterfall"), strict=strict)
        assert payload["target_fields"] == target_fields(email, phone)
        assert (
            payload["enrichment_not_found"]
            == payload["total_requested_enrichments"] - payload["records_enriched"]
        )


def test_waterfall_counts_follow_what_was_found(people: list[Person]) -> None:
    payload = waterfall_payload(
        people, len(people), 7, run_waterfall_email=True, run_waterfall_phone=True, initiated=INITIATED
    )
    with_email = [p for p in payload["people"] if p["emails"]]
    with_mobile = [p for p in payload["people"] if p["phone_numbers"]]
    assert payload["email_records_enriched"] == len(with_email) > 0
    assert payload["mobile_records_enriched"] == len(with_mobile) == sum(p.has_mobile for p in people)
    assert payload["credits_consumed"] == 8 * len(with_mobile)
    assert payload["request_initiated"] == "2026-01-08T08:05:49.000Z"
    assert payload["request_completed"] is None  # filled in when it is sent
    for record, person in zip(payload["people"], people, strict=True):
        emails_step = record["waterfall"]["emails"][0]["vendors"]
        phones_step = record["waterfall"]["phone_numbers"][0]["vendors"]
        if record["emails"]:
            assert record["emails"][0]["email"] == person.record["email"]
            assert emails_step[-1]["emails"] == [person.record["email"]]
            assert record["emails"][0]["third_party_data_provider_id"] + "-1" == emails_step[-1]["id"]
        else:
            assert all(v["status"] == "NOT_FOUND" for v in emails_step)
        if record["phone_numbers"]:
            assert phones_step[-1]["phone_numbers"] == [n["raw_number"] for n in record["phone_numbers"]]
            assert all(n["type_cd"] == "mobile" for n in record["phone_numbers"])
        else:
            assert all(v["status"] == "NOT_FOUND" and v["phone_numbers"] == [] for v in phones_step)


def test_waterfall_without_a_field_leaves_it_empty(people: list[Person]) -> None:
    payload = waterfall_payload(
        people[:3], 3, 1, run_waterfall_email=True, run_waterfall_phone=False, initiated=INITIATED
    )
    assert payload["mobile_records_enriched"] == payload["mobile_records_not_found"] == 0
    assert payload["credits_consumed"] == 0
    for record in payload["people"]:
        assert record["phone_numbers"] == [] and record["waterfall"]["phone_numbers"] == []


def test_waterfalls_are_deterministic_per_person_and_vary_between_people(people: list[Person]) -> None:
    def build() -> dict[str, object]:
        return waterfall_payload(
            people, len(people), 5, run_waterfall_email=True, run_waterfall_phone=True, initiated=INITIATED
        )

    assert build() == build()
    vendors = {p["waterfall"]["emails"][0]["vendors"][-1]["name"] for p in build()["people"]}  # type: ignore[index]
    assert len(vendors) > 1


def _wrapped(payload: dict[str, object], kind: str) -> dict[str, object]:
    return {
        "request_id": "1",
        "webhook_status": "success",
        "request_type": kind,
        "last_dispatched_at": "2026-05-26T10:42:11.000Z",
        "failure_reason": None,
        "webhook_result": payload,
    }


@pytest.mark.parametrize(
    ("text", "expected"), [("5", (5.0, 5.0)), ("2-10", (2.0, 10.0)), (" 0.5 ", (0.5, 0.5)), ("0", (0.0, 0.0))]
)
def test_delays_parse(text: str, expected: tuple[float, float]) -> None:
    assert parse_delay(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "10-2", "-1", "1-", "nan", "inf", "1-2-3"])
def test_bad_delays_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--webhook-delay must be seconds from 0 to 31536000"):
        parse_delay(text)


@pytest.mark.parametrize("text", ["0", "-1", "9223372036854775807", "-9223372036854775808", "007"])
def test_request_ids_parse(text: str) -> None:
    assert parse_request_id(text) == int(text)


@pytest.mark.parametrize("text", ["", "x", "1e3", "9223372036854775808", " 1", "1_000", "٣"])
def test_bad_request_ids_are_400(text: str) -> None:
    with pytest.raises(PollError) as caught:
        parse_request_id(text)
    assert caught.value.status == 400
    assert caught.value.body == {"error_code": "invalid_request_id"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/h",
        "http://127.9.9.9/h",
        "http://[::1]:8080/h",
        "http://localhost/h",
        "http://10.0.0.1/h",
        "http://172.31.255.255/h",
        "http://192.168.1.1/h",
        "http://[fd00::1]/h",
        "http://[::ffff:10.0.0.1]/h",
    ],
)
def test_loopback_and_private_hosts_are_allowed_by_default(url: str) -> None:
    assert Allowlist().refusal(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/h",
        "http://172.32.0.1/h",
        "http://169.254.169.254/latest/meta-data",  # link-local (cloud metadata) is not private enough
        "http://[2001:db8::1]/h",
        "http://0.0.0.0/h",
    ],
)
def test_public_and_special_hosts_are_refused_by_default(url: str) -> None:
    refusal = Allowlist().refusal(url)
    assert refusal is not None and "is not on the allowlist" in refusal and "--webhook-allow" in refusal


def test_configured_entries_extend_the_allowlist() -> None:
    allow = Allowlist(["8.8.8.0/24", "Hooks.Example.com.", "*.example.org", "2001:db8::/32"])
    assert allow.refusal("http://8.8.8.200/h") is None
    assert allow.refusal("http://8.8.9.1/h") is not None
    assert allow.refusal("https://hooks.example.com/h") is None
    assert allow.refusal("https://deep.sub.example.org/h") is None
    assert allow.refusal("http://[2001:db8::5]/h") is None
    assert allow.refusal("http://127.0.0.1/h") is None  # the defaults stay
    assert Allowlist(["*"]).refusal("https://8.8.8.8/h") is None
    assert Allowlist(["8.8.8.8, 9.9.9.9"]).refusal("http://9.9.9.9/h") is None


def test_unresolvable_hosts_are_refused() -> None:
    refusal = Allowlist().refusal("http://no-such-host.invalid/h")
    assert refusal is not None and "could not be resolved" in refusal


def test_bad_urls_and_entries_are_refused() -> None:
    assert Allowlist().refusal("http://127.0.0.1:99999/h") is not None
    with pytest.raises(ValueError, match="--webhook-allow"):
        Allowlist(["10.0.0.0/99"])
    with pytest.raises(ValueError, match="--webhook-allow"):
        Allowlist(["not a host"])
