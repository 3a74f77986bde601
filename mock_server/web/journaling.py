"""One journal entry per call outside the control API, written alike by Flask and the ASGI application."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mock_server.domain.encoding import dumps
from mock_server.domain.journal import (
    ENTRY_OVERHEAD,
    SENSITIVE_HEADERS,
    Deferred,
    Entry,
    mask_headers,
    mask_key,
    mask_params,
    mask_text,
    names_secret,
    text_size,
)
from mock_server.domain.ratelimit import RateState
from mock_server.domain.scenarios import Outcome
from mock_server.domain.service import Enrichment
from mock_server.web.apollo import Call, Notes, bearer_token
from mock_server.web.render import Reply

ADMIN_PREFIX = "/__admin/"
log = logging.getLogger("fakeapollo")
# Where create_app keeps the journal's BackgroundWriter, for a store whose writes can wait.
WRITER_EXTENSION = "fakeapollo.journal_writer"
_KEY_HEADERS = ("x-api-key", "authorization")
# Registered keys whose mask and fingerprint the journal remembers (Enrichment.key_marks).
_MARKED_KEYS = 1024
# Raw request header names, each with whether it carries a secret (SENSITIVE_HEADERS).
_SECRET_HEADER_NAMES: dict[bytes, bool] = {}
# Response header names a server writes itself, which a reply's own headers would replace.
_NAMED_BY_SERVER = frozenset({"Content-Type", "Content-Length"})


Headers = dict[str, str] | Sequence[tuple[bytes, bytes]]


def record(
    service: Enrichment,
    *,
    at: float,
    duration_ms: float,
    method: str,
    path: str,
    query: dict[str, Any],
    headers: Headers,
    notes: Notes | None,
    status: int,
    body: bytes,
    content_type: str,
    response_headers: Mapping[str, str] | None = None,
    reply_headers: Mapping[str, str] | None = None,
    writer: BackgroundWriter | None = None,
) -> None:
    """Journal what was sent and what was answered, with the call's key, charge, limits and scenario.

    `at` is the clock's timestamp; `headers` the request's, by name or as the server's raw pairs;
    `response_headers` those sent, or None for an ASGI reply's (Content-Type, `reply_headers`,
    Content-Length). Keys, tokens and `api_key` values are masked before the entry reaches any
    store. With a `writer` the entry is written on its thread, so the answer does not wait for the store.
    """
    journal = service.store.journal
    if notes is not None:
        rate, outcome, params, key = notes.rate, notes.outcome, notes.params, notes.api_key
        credits = notes.receipt.credits
        kept = len(notes.params) if isinstance(notes.params, str) else notes.request_bytes
    else:
        rate = outcome = params = None
        key = _sent_key(dict(headers) if isinstance(headers, dict) else named_headers(headers))
        credits = kept = 0
    entry = _built(
        service, at, duration_ms, method, path, query, headers, params, key, outcome, rate, credits, status,
        body, content_type, response_headers, reply_headers,
    )  # fmt: skip
    if isinstance(headers, dict):
        header_chars = text_size(headers)
    else:
        header_chars = sum(len(name) + len(value) for name, value in headers)
    entry.size = _size(kept, query, header_chars, body, content_type, response_headers, reply_headers)
    if writer is not None:
        writer.submit(lambda: journal.record(entry))
    else:
        journal.record(entry)


def record_answer(
    service: Enrichment,
    call: Call,
    headers: Sequence[tuple[bytes, bytes]],
    notes: Notes | None,
    reply: Reply,
    at: float,
    duration_ms: float,
) -> None:
    """`record` of the ASGI application's answer to a call of an Apollo operation (or its 405).

    An admitted call whose one secret is its registered key is handed to the journal as what was at
    hand (`Deferred`), masked and built when the journal chooses (`JournalStore.record`: in memory,
    when read); the reply's `document`, when it has one, is kept instead of its body and encoded
    again then (the same bytes). What it keeps is few objects (the call's notes are not among
    them): each is freed when the entry leaves the ring.
    """
    journal = service.store.journal
    query = call.query
    chars = _deferrable(notes, call)
    if chars is None:
        record(
            service, at=at, duration_ms=duration_ms, method=call.method, path=call.path, query=query,
            headers=headers, notes=notes, status=reply.status, body=reply.body,
            content_type=reply.content_type, reply_headers=reply.headers,
        )  # fmt: skip
        return
    assert notes is not None  # `_deferrable` said so
    body, content_type, shown, document = reply.body, reply.content_type, reply.headers, reply.document
    size = _size(notes.request_bytes, query, chars, body, content_type, None, shown)
    args = (
        service, at, duration_ms, call.method, call.path, query or None, headers, notes.params, notes.api_key,
        notes.outcome, notes.rate, notes.receipt.credits, reply.status, b"" if document is not None else body,
        content_type, None, shown, document,
    )  # fmt: skip
    journal.record(Deferred(size, _built, args))


def _built(
    service: Enrichment,
    at: float,
    duration_ms: float,
    method: str,
    path: str,
    query: dict[str, Any] | None,
    headers: Headers,
    params: Any,
    key: str | None,
    outcome: Outcome | None,
    rate: RateState | None,
    credits: float,
    status: int,
    body: bytes,
    content_type: str,
    response_headers: Mapping[str, str] | None,
    reply_headers: Mapping[str, str] | None,
    document: Any = None,
) -> Entry:
    """An entry of what the call left, its key, query, headers and body masked (`document`: the body's)."""
    if document is not None:
        body = dumps(document)
    named = dict(headers) if isinstance(headers, dict) else named_headers(headers)
    # A key that passed authentication (the call was admitted) is a registered one, which the
    # registry holds anyway: its mask and fingerprint are worked out once. Others never are kept.
    marks = service.key_marks.get(key) if key is not None else None
    if marks is None:
        marks = (mask_key(key), service.store.journal.fingerprint(key))
        if rate is not None and key is not None:
            if len(service.key_marks) >= _MARKED_KEYS:
                service.key_marks.clear()
            service.key_marks[key] = marks
    return Entry(
        sequence=0,  # numbered by the journal as it is kept
        time=datetime.fromtimestamp(at, UTC),
        method=method,
        path=path,
        query=mask_params(query) if query else {},
        headers=mask_headers(named),
        body=_masked_body(params),
        status=status,
        response_text=body,  # the answer's bytes as sent, decoded only when shown
        response_type=content_type,
        duration_ms=duration_ms,
        api_key=marks[0],
        key_fingerprint=marks[1],
        response_headers=_shown(content_type, body, response_headers, reply_headers),
        credits_charged=credits,
        rate_limit=rate.describe() if rate is not None and rate.windows else None,
        scenario=outcome.name.value if outcome is not None else None,
    )


def _size(
    kept: int,
    query: dict[str, Any] | None,
    header_chars: int,
    body: bytes,
    content_type: str,
    response_headers: Mapping[str, str] | None,
    reply_headers: Mapping[str, str] | None,
) -> int:
    """`entry_size` of a call's entry from what is at hand (no masked copies, no header dicts).

    `kept` is the request body's size as the entry keeps it; `header_chars` the request headers'
    names and values, each time they come.
    """
    size = ENTRY_OVERHEAD + kept + header_chars + len(body) + (text_size(query) if query else 0)
    if response_headers is None and reply_headers is not None and not _NAMED_BY_SERVER & reply_headers.keys():
        # Content-Type, the reply's own headers, Content-Length (`_shown`), without the dict.
        return size + 26 + len(content_type) + text_size(reply_headers) + len(str(len(body)))
    return size + text_size(_shown(content_type, body, response_headers, reply_headers))


def _shown(
    content_type: str,
    body: bytes,
    response_headers: Mapping[str, str] | None,
    reply_headers: Mapping[str, str] | None,
) -> dict[str, str]:
    """The response headers the journal shows: those sent, or an ASGI reply's with its type and length."""
    if response_headers is not None:
        return dict(response_headers)
    return {"Content-Type": content_type, **(reply_headers or {}), "Content-Length": str(len(body))}


def _deferrable(notes: Notes | None, call: Call) -> int | None:
    """The request headers' characters when the call's one secret is its admitted key, else None.

    A registered key is held by the key registry anyway: such a call's entry may wait to be built.
    `notes.plain` says the call was admitted and its parameters name no secret; `call.keyed` that
    its one secret header is one x-api-key (asgi.py counts them in its one pass over the headers).
    """
    if notes is None or not notes.plain or call.keyed is None or notes.api_key != call.header_key:
        return None
    return None if call.query and names_secret(call.query) else call.keyed


def secret_header(name: bytes) -> bool:
    """Whether a raw request header's name is a secret's (`SENSITIVE_HEADERS`, `_` read as `-`)."""
    secret = _SECRET_HEADER_NAMES.get(name)
    if secret is None:
        secret = name.decode("latin-1").lower().replace("_", "-") in SENSITIVE_HEADERS
        if len(_SECRET_HEADER_NAMES) < _MARKED_KEYS:
            _SECRET_HEADER_NAMES[name] = secret
    return secret


def named_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers by lower-case name; repeats joined with ", "."""
    named: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1")
        value = raw_value.decode("latin-1")
        named[name] = named[name] + ", " + value if name in named else value
    return named


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
