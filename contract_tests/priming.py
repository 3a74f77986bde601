"""Primed responses: a WSGI layer in front of the emulator that serves one case's exact answers.

For each contract case the runner primes a list of canned answers and a fresh API key. Requests to
Apollo's routes (`/api/v1/...`, `/v1/...`) then get those answers in order, the last one repeating,
and are recorded with their real arrival time (`time.monotonic()`): the emulator's own clock is
virtual, but client retries happen in real time. Each request is also written to the emulator's
journal (scenario `primed`), so `fakeapollo.requests()` shows it. With no case primed, every request
goes to the emulator untouched.

An answer may carry a transport fault: "slow" answers after its delay, "hang" holds the request
until the case ends (the client must have given up by then).

A client that never stops (say, it retries a 401 forever) is cut off: past `budget` requests the
case is marked runaway and further requests are held open without an answer, so a stuck client
sleeps on its socket instead of spinning. Requests that carry the key of an earlier case (a client
still running after its case ended) are held the same way.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders

from contract_tests.strategies import CannedResponse
from mock_server.params import merge

if TYPE_CHECKING:
    from flask import Flask

    from mock_server.service import Enrichment

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
API_PREFIXES = ("/api/v1/", "/v1/")
#: More requests than this in one case is a runaway client: no contract allows it.
DEFAULT_BUDGET = 5
_REASONS = {
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Exchange:
    """One request a client sent during a case, and what it was answered."""

    arrived: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    body: Any
    status: int
    #: Wall-clock arrival (`time.time()`), to compare with HTTP dates in `Retry-After`.
    wall: float = 0.0

    @property
    def params(self) -> dict[str, Any]:
        """Query string and body merged, the body winning, as the emulator reads them."""
        return merge(self.query, self.body if isinstance(self.body, dict) else {}, body_wins=True)

    def header(self, name: str) -> str | None:
        """A request header, whatever its letter case."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def describe(self) -> str:
        """`POST /api/v1/people/match?...` and its body, for reports."""
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        body = self.raw_body.decode("utf-8", "replace")
        if len(body) > 300:
            body = body[:297] + "..."
        return f"{self.method} {self.path}{'?' + query if query else ''} {body}".rstrip()


@dataclass
class _Case:
    key: str
    responses: list[CannedResponse]
    on_runaway: Callable[[], None]
    budget: int
    exchanges: list[Exchange] = field(default_factory=list)
    runaway: bool = False
    #: Set when the case ends: requests held by a "hang" answer are let go.
    released: threading.Event = field(default_factory=threading.Event)


class PrimedResponses:
    """WSGI middleware serving primed answers before the emulator app sees the request."""

    def __init__(self, app: WsgiApp, service: Enrichment | None = None) -> None:
        self.app = app
        self.service = service
        self._lock = threading.Lock()
        self._case: _Case | None = None
        self._stale: set[str] = set()
        self._held = threading.Event()  # never set: held requests wait until the process ends

    @classmethod
    def install(cls, flask_app: Flask) -> PrimedResponses:
        """Put the layer in front of `flask_app` (once; later calls return the same layer)."""
        current = flask_app.wsgi_app
        if isinstance(current, PrimedResponses):
            return current
        layer = cls(current, flask_app.extensions.get("fakeapollo"))
        flask_app.wsgi_app = layer  # type: ignore[method-assign]
        return layer

    def prime(
        self,
        key: str,
        responses: list[CannedResponse],
        *,
        on_runaway: Callable[[], None] = lambda: None,
        budget: int = DEFAULT_BUDGET,
    ) -> None:
        """Start a case: requests answer `responses` in order (the last repeats)."""
        if not responses:
            raise ValueError("prime at least one response")
        with self._lock:
            self._case = _Case(key, list(responses), on_runaway, budget)

    def finish(self) -> list[Exchange]:
        """End the current case; its key is retired and its requests returned, oldest first."""
        with self._lock:
            case, self._case = self._case, None
            if case is None:
                return []
            self._stale.add(case.key)
            case.released.set()
            return list(case.exchanges)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Answer from the primed case, hold a stale or runaway request, or pass to the emulator."""
        path = environ.get("PATH_INFO", "")
        if self._case is None or not path.startswith(API_PREFIXES):
            return self.app(environ, start_response)
        arrived = time.monotonic()
        raw = _read_body(environ)
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        headers = dict(EnvironHeaders(environ))
        body = _parse_body(raw, environ.get("CONTENT_TYPE", ""))
        key = _key_of(headers, query, body)
        with self._lock:
            case = self._case
            stale = key is not None and key in self._stale
            if case is None or stale:
                response = None
            else:
                method = environ.get("REQUEST_METHOD", "GET")
                exchange = Exchange(arrived, method, path, query, headers, raw, body, 0, time.time())
                case.exchanges.append(exchange)
                over = len(case.exchanges) > case.budget
                if over and not case.runaway:
                    case.runaway = True
                    threading.Thread(target=case.on_runaway, daemon=True).start()
                response = None if over else case.responses[min(len(case.exchanges), len(case.responses)) - 1]
                if response is not None:
                    exchange.status = response.status
        if response is None:
            if case is None and not stale:
                environ["wsgi.input"] = io.BytesIO(raw)
                return self.app(environ, start_response)
            self._held.wait()
            return []
        if response.fault == "slow":
            time.sleep(response.delay)
        elif response.fault == "hang":
            assert case is not None
            case.released.wait()
        self._journal(exchange, response, key)
        payload = response.body()
        reason = _REASONS.get(response.status, "Status")
        start_response(
            f"{response.status} {reason}",
            [
                ("Content-Type", response.content_type),
                ("Content-Length", str(len(payload))),
                *response.headers.items(),
            ],
        )
        return [payload]

    def _journal(self, exchange: Exchange, response: CannedResponse, key: str | None) -> None:
        """Write the exchange to the emulator's journal, as if the emulator had answered."""
        if self.service is None:
            return
        from mock_server.journal import Entry

        journal = self.service.store.journal
        journal.record(
            Entry(
                sequence=journal.next_sequence(),
                time=self.service.clock.now(),
                method=exchange.method,
                path=exchange.path,
                query=exchange.query,
                headers=exchange.headers,
                body=exchange.body if isinstance(exchange.body, dict) else None,
                status=response.status,
                response_text=response.body().decode("utf-8", "replace"),
                response_type=response.content_type,
                duration_ms=(time.monotonic() - exchange.arrived) * 1000,
                api_key=key,
                scenario="primed",
            )
        )


def _read_body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length > 0:
        data: bytes = stream.read(length)
        return data
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked" or environ.get("wsgi.input_terminated"):
        chunked: bytes = stream.read()
        return chunked
    return b""


def _parse_body(raw: bytes, content_type: str) -> Any:
    """The body as the emulator would read it: JSON, form fields, or the raw text."""
    if not raw.strip():
        return {}
    text = raw.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type and not text.lstrip().startswith("{"):
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text


def _key_of(headers: Mapping[str, str], query: Mapping[str, str], body: Any) -> str | None:
    for name, value in headers.items():
        if name.lower() == "x-api-key":
            return value
    if isinstance(body, dict) and isinstance(body.get("api_key"), str):
        return str(body["api_key"])
    return query.get("api_key")


__all__ = ["DEFAULT_BUDGET", "Exchange", "PrimedResponses"]
