"""What a Python client implements to be contract-tested: a small adapter around the client."""

from __future__ import annotations

from typing import Any


class Unsupported(Exception):
    """Raised by an adapter for an operation its client does not have; the property is skipped."""


class ClientAdapter:
    """Call your client and translate what it returns into an outcome dict.

    Outcomes: `{"outcome": "match", "person": {"id": ..., ...}}`, `{"outcome": "no_match"}`,
    `{"outcome": "bulk", "matches": [{"id": ...}, None, ...]}`, `{"outcome": "unauthorized"}`,
    `{"outcome": "forbidden"}`, `{"outcome": "rate_limited"}`, `{"outcome": "error", "message": ...}`.
    An exception escaping an adapter method counts as the client crashing.

    `base_url` is the emulator's root (`http://127.0.0.1:PORT`); Apollo's routes are under
    `base_url + "/api/v1"` (and `/v1`).
    """

    def people_match(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """Enrich one person with `params` (email, first_name + last_name + domain, ...)."""
        raise NotImplementedError

    def people_bulk_match(self, base_url: str, api_key: str, details: list[dict[str, Any]]) -> dict[str, Any]:
        """Enrich up to 10 people; return `{"outcome": "bulk", "matches": [...]}`. Optional."""
        raise Unsupported("people_bulk_match")

    def people_match_phones(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """Ask people/match for phone numbers, then poll Poll Webhook Result for them. Optional.

        `params` carry `reveal_phone_number` and a `webhook_url`; poll with
        `GET webhook_result/{request_id}`, the id exactly as Apollo wrote it. Return
        `{"outcome": "phones", "request_id": "<as text>", "phone_numbers": [...]}` (sanitized numbers).
        """
        raise Unsupported("people_match_phones")

    def search_then_enrich(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """People API Search with `params`, every page, then each person found enriched by id. Optional.

        Follow `page` until a page comes back empty or short or `total_entries` people are read;
        enrich each person found once with people/match by its `id`. Return
        `{"outcome": "people", "people": [{"id": ..., ...}, None, ...]}` in search order, None for a miss.
        """
        raise Unsupported("search_then_enrich")

    def receive_webhook(self, payload: dict[str, Any], state: Any) -> Any:
        """Feed one webhook payload to your receiver, starting from `state`; return the new state.

        `state` is None before the first delivery. Return something comparable with `==` (a dict of
        what the receiver stored). Optional.
        """
        raise Unsupported("receive_webhook")


__all__ = ["ClientAdapter", "Unsupported"]
