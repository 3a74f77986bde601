"""Webhook payloads Apollo POSTs, and how its retries deliver them (duplicated, out of order)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contract_tests.strategies.schema import definition, from_schema


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
    """Webhook payloads as sent once each (`unique`) and as Apollo's retries deliver them."""

    unique: list[dict[str, Any]]
    delivered: list[dict[str, Any]]


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
