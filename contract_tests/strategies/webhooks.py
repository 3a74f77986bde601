"""Webhook payloads Apollo POSTs, and how its retries deliver them (duplicated, out of order)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contract_tests.strategies.schema import definition, from_schema
from contract_tests.strategies.values import apollo_ids, e164_numbers, request_ids


def phone_webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """What Apollo POSTs to `webhook_url` after `reveal_phone_number` (docs/apollo-facts.md 4.2)."""
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(
        definition("webhook_phone_payload"), "complete", name="webhook"
    )
    return strategy


def waterfall_webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """What Apollo POSTs to `webhook_url` after a waterfall request (docs/apollo-facts.md 4.3)."""
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(
        definition("webhook_waterfall_payload"), "complete", name="webhook"
    )
    return strategy


def webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """Either kind of webhook payload."""
    return st.one_of(phone_webhook_payloads(), waterfall_webhook_payloads())


@dataclass(frozen=True)
class Deliveries:
    """Webhook payloads as sent once each (`unique`) and as Apollo's retries deliver them.

    `lesser`, when set, is `unique` with one person (of a multi-person payload) or one whole payload
    left out, whose data appears nowhere else: a receiver that keeps every person's content ends in
    a different state after `lesser` than after `unique`.
    """

    unique: list[dict[str, Any]]
    delivered: list[dict[str, Any]]
    lesser: list[dict[str, Any]] | None = None
    #: What `lesser` leaves out, for reports.
    left_out: str = ""


def _phone_people(count: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    """`count` people of a phone payload, each with its own id and one number of its own."""

    def build(ids: list[str], numbers: list[str], phones: list[dict[str, Any]]) -> list[dict[str, Any]]:
        people = []
        for person_id, number, phone in zip(ids, numbers, phones, strict=True):
            own = {**phone, "sanitized_number": number, "raw_number": number}
            people.append({"id": person_id, "status": "success", "phone_numbers": [own]})
        return people

    phone = from_schema(definition("enriched_phone_number"), "complete", name="phone")
    return st.builds(
        build,
        st.lists(apollo_ids(), min_size=count, max_size=count, unique=True),
        st.lists(e164_numbers(), min_size=count, max_size=count, unique=True),
        st.lists(phone, min_size=count, max_size=count),
    )


def _phone_payload(people: list[dict[str, Any]], request_id: int | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "status": "success",
        "total_requested_enrichments": len(people),
        "unique_enriched_records": len(people),
        "missing_records": 0,
        "credits_consumed": 8 * len(people),
    }
    if request_id is not None:
        payload["request_id"] = request_id
    return {**payload, "people": people}


def multi_person_deliveries(drop: int = -1) -> st.SearchStrategy[Deliveries]:
    """One phone payload about two or three people, each with a number of their own.

    Apollo's bulk requests are answered with one payload covering their people (docs/apollo-facts.md
    4.2); `lesser` leaves out the person at index `drop`.
    """

    def build(people: list[dict[str, Any]], request_id: int) -> Deliveries:
        full = _phone_payload(people, request_id)
        fewer = _phone_payload([p for k, p in enumerate(people) if k != drop % len(people)], request_id)
        where = "first" if drop % len(people) == 0 else "last" if drop == -1 else f"#{drop + 1}"
        return Deliveries(
            [full], [full, full], [fewer], f"the {where} person of a {len(people)}-person payload"
        )

    sizes = st.integers(2, 3)
    return sizes.flatmap(lambda n: st.builds(build, _phone_people(n), request_ids()))


def unnumbered_deliveries() -> st.SearchStrategy[Deliveries]:
    """Two phone payloads without `request_id`, as Apollo documents its phone payload, about two people.

    `lesser` leaves out the second payload.
    """

    def build(people: list[dict[str, Any]]) -> Deliveries:
        first, second = (_phone_payload([person], None) for person in people)
        return Deliveries(
            [first, second], [first, second, first], [first], "the second payload (no request_id)"
        )

    return _phone_people(2).map(build)


def duplicated_deliveries() -> st.SearchStrategy[Deliveries]:
    """Payloads each delivered once or twice in a row: Apollo may retry (docs/apollo-facts.md 4.1)."""
    return st.lists(webhook_payloads(), min_size=1, max_size=3).flatmap(
        lambda payloads: st.lists(st.integers(1, 2), min_size=len(payloads), max_size=len(payloads)).map(
            lambda counts: Deliveries(
                unique=payloads,
                delivered=[p for p, n in zip(payloads, counts, strict=True) for _ in range(max(n, 1))]
                if any(n == 2 for n in counts)
                else [payloads[0], *payloads],
            )
        )
    )


def redelivered_deliveries() -> st.SearchStrategy[Deliveries]:
    """Older payloads delivered again after newer ones (Apollo's retries overtake nothing in order).

    Often every payload is about the same person, so a receiver that lets the latest payload
    overwrite what it stored ends with the older data.
    """

    def build(payloads: list[dict[str, Any]], same: bool, again: list[int]) -> Deliveries:
        if same:
            payloads = [with_person_id(p, _first_person_id(payloads)) for p in payloads]
        redelivered = [payloads[i % len(payloads)] for i in again]
        return Deliveries(unique=payloads, delivered=[*payloads, *redelivered])

    return st.builds(
        build,
        st.lists(webhook_payloads(), min_size=2, max_size=3),
        st.booleans(),
        st.lists(st.integers(0, 1), min_size=1, max_size=2),
    )


def _first_person_id(payloads: list[dict[str, Any]]) -> str:
    for payload in payloads:
        for person in payload.get("people") or []:
            if isinstance(person, dict) and isinstance(person.get("id"), str):
                return str(person["id"])
    return "5f2a0c0a0c0a0c0a0c0a0c0a"


def with_person_id(payload: dict[str, Any], person_id: str) -> dict[str, Any]:
    """`payload` with every person in it given `person_id`."""
    people = [{**p, "id": person_id} if isinstance(p, dict) else p for p in payload.get("people") or []]
    return {**payload, "people": people} if "people" in payload else payload


def webhook_deliveries() -> st.SearchStrategy[Deliveries]:
    """Duplicates back to back, or older payloads redelivered after newer ones."""
    return st.one_of(duplicated_deliveries(), redelivered_deliveries())


#: Request ids where a JavaScript number loses digits (past 2**53): a client must carry them as
#: written. Apollo's request ids are signed 64-bit integers (docs/apollo-facts.md 4.5).
BIG_REQUEST_IDS = (2**53 + 1, -(2**63) + 7, 2**63 - 1)


def poll_result(request_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Poll Webhook Result's 200 wrapper around a delivered phone payload (docs/apollo-facts.md 4.5)."""
    return {
        "request_id": request_id,
        "webhook_status": "success",
        "request_type": "phone",
        "last_dispatched_at": "2026-05-18T10:00:00.000Z",
        "failure_reason": None,
        "webhook_result": payload,
    }


def phone_payloads_for(person_id: str, request_id: int) -> st.SearchStrategy[dict[str, Any]]:
    """The phone payload Apollo delivers for one person's reveal: one number."""
    return _phone_people(1).map(lambda people: _phone_payload([{**people[0], "id": person_id}], request_id))


def poll_request_ids() -> st.SearchStrategy[int]:
    """Request ids for the polling flow: mostly past 2**53 in size, as Apollo's often are."""
    return st.one_of(st.sampled_from(BIG_REQUEST_IDS), request_ids().filter(lambda r: abs(r) > 2**53))
