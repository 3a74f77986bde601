"""One journal entry per call outside the control API, written alike by Flask and the ASGI application."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mock_server.domain.journal import Entry, entry_size, mask_headers, mask_key, mask_params, mask_text
from mock_server.domain.service import Enrichment
from mock_server.web.apollo import Notes, bearer_token

ADMIN_PREFIX = "/__admin/"
log = logging.getLogger("fakeapollo")
# Where create_app keeps the journal's BackgroundWriter, for a store whose writes can wait.
WRITER_EXTENSION = "fakeapollo.journal_writer"
_KEY_HEADERS = ("x-api-key", "authorization")
# Registered keys whose mask and fingerprint the journal remembers (Enrichment.key_marks).
_MARKED_KEYS = 1024


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
    writer: BackgroundWriter | None = None,
) -> None:
    """Journal what was sent and what was answered, with the call's key, charge, limits and scenario.

    Keys, tokens and `api_key` values are masked here, before the entry reaches any store.
    With a `writer` the entry is written on its thread, so the answer does not wait for the store.
    """
    journal = service.store.journal
    if notes is not None:
        rate, outcome, params, key = notes.rate, notes.outcome, notes.params, notes.api_key
        kept_bytes = len(params) if isinstance(params, str) else notes.request_bytes
        credits = notes.receipt.credits
    else:
        rate = outcome = params = None
        key = _sent_key(headers)
        kept_bytes = 0
        credits = 0
    # A key that passed authentication (the call was admitted) is a registered one, which the
    # registry holds anyway: its mask and fingerprint are worked out once. Others never are kept.
    marks = service.key_marks.get(key) if key is not None else None
    if marks is None:
        marks = (mask_key(key), journal.fingerprint(key))
        if rate is not None and key is not None:
            if len(service.key_marks) >= _MARKED_KEYS:
                service.key_marks.clear()
            service.key_marks[key] = marks
    entry = Entry(
        sequence=0,  # numbered by the journal as it is kept
        time=at,
        method=method,
        path=path,
        query=mask_params(query) if query else {},
        headers=mask_headers(headers),
        body=_masked_body(params),
        status=status,
        response_text=body,  # the answer's bytes as sent, decoded only when shown
        response_type=content_type,
        duration_ms=duration_ms,
        api_key=marks[0],
        key_fingerprint=marks[1],
        response_headers=response_headers,
        credits_charged=credits,
        rate_limit=rate.describe() if rate is not None and rate.windows else None,
        scenario=outcome.name.value if outcome is not None else None,
        size=entry_size(kept_bytes, body, query, headers, response_headers),
    )
    if writer is not None:
        writer.submit(lambda: journal.record(entry))
    else:
        journal.record(entry)


def _sent_key(headers: dict[str, str]) -> str | None:
    """The key in a request's headers, for a call no Apollo route read (refused early, another path)."""
    sent = {name.lower(): value for name, value in headers.items() if name.lower() in _KEY_HEADERS}
    return sent.get("x-api-key") or bearer_token(sent.get("authorization"))


def store_blocks(service: Enrichment) -> bool:
    """Whether the service's store may wait on a lock, a disk or a far server: its calls stay off the loop."""
    return service.store.blocking


def flush(app_extensions: dict[str, Any]) -> None:
    """Wait for the journal writes of answered requests, before the journal is read or cleared."""
    writer = app_extensions.get(WRITER_EXTENSION)
    if isinstance(writer, BackgroundWriter):
        writer.flush()


class BackgroundWriter:
    """One daemon thread that runs journal writes for a store whose writes can wait (SQLite).

    Readers of the journal call `flush()` first, so they see every entry of an answered request.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._pending = 0
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        """Run `job` on the writer thread, after the jobs before it."""
        with self._done:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fakeapollo-journal", daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted write is done (at most `timeout` seconds); False if it timed out."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # a failed write loses one entry, never the writer
                log.exception("a journal entry could not be written")
            with self._done:
                self._pending -= 1
                self._done.notify_all()


def _masked_body(params: Any) -> Any:
    """The journaled body with secrets masked: parsed parameters, or the raw prefix of one never parsed."""
    if isinstance(params, dict):
        return mask_params(params)
    if isinstance(params, str):
        return mask_text(params)
    return params
