"""One journal entry per call outside the control API, written the same way by Flask and the fast path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mock_server.journal import Entry, mask_headers, mask_key, mask_params, mask_text
from mock_server.service import Enrichment
from mock_server.views.apollo import Notes

ADMIN_PREFIX = "/__admin/"


def record(
    service: Enrichment,
    *,
    at: datetime,
    duration_ms: float,
    method: str,
    path: str,
    query: dict[str, Any],
    headers: dict[str, str],
    notes: Notes | None,
    status: int,
    body: bytes,
    content_type: str,
    response_headers: dict[str, str],
) -> None:
    """Journal what was sent and what was answered, with the call's key, charge, limits and scenario.

    Keys, tokens and `api_key` values are masked here, before the entry reaches any store.
    """
    journal = service.store.journal
    rate = notes.rate if notes is not None else None
    outcome = notes.outcome if notes is not None else None
    params = notes.params if notes is not None else None
    journal.record(
        Entry(
            sequence=journal.next_sequence(),
            time=at,
            method=method,
            path=path,
            query=mask_params(query),
            headers=mask_headers(headers),
            body=_masked_body(params),
            status=status,
            response_text=body.decode("utf-8", "replace"),
            response_type=content_type,
            duration_ms=duration_ms,
            api_key=mask_key(notes.api_key) if notes is not None else None,
            response_headers=response_headers,
            credits_charged=notes.receipt.credits if notes is not None else 0,
            rate_limit=rate.describe() if rate is not None and rate.windows else None,
            scenario=outcome.name.value if outcome is not None else None,
        )
    )


def _masked_body(params: Any) -> Any:
    """The journaled body with secrets masked: parsed parameters, or the raw prefix of one never parsed."""
    if isinstance(params, dict):
        return mask_params(params)
    if isinstance(params, str):
        return mask_text(params)
    return params
