"""The one ASGI application: `fakeapollo serve` runs it under uvicorn, `FakeApollo.client()` in-process.

Every Apollo operation (web/operations.py's table, every method, HEAD included) is answered here,
through `apollo.answer` and without a framework; a forced outcome's fault (delay, hold, reset, cut
body) is applied with `await`. Everything else (the control API, the inspector page, OpenAPI, 404s)
goes to the Flask app through a2wsgi's thread pool. Calls into a store whose writes can wait
(SQLite), and requests that may resolve a webhook host, run on a thread, never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from mock_server.domain.directory import LRUMap
from mock_server.domain.errors import (
    FakeApolloError,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    ServerRefusal,
)
from mock_server.domain.journal import mask_key
from mock_server.domain.service import Enrichment
from mock_server.web import journaling
from mock_server.web.apollo import Call, Notes, answer, bearer_token, query_dict
from mock_server.web.faults import RESET_EXTENSION, Fault, FaultKind, truncated, wait_or_leave
from mock_server.web.operations import Operation, Router
from mock_server.web.render import JSON_TYPE, Reply, error_reply

if TYPE_CHECKING:
    from a2wsgi import WSGIMiddleware
    from flask import Flask

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_CONTENT_TYPES: dict[str, bytes] = {}
# The request headers `answer()` reads, by raw name: their place in what `_check_request` returns.
_READ = {b"content-type": 0, b"x-api-key": 1, b"authorization": 2, b"x-mock-scenario": 3}
_KEY_SLOT, _AUTHORIZATION_SLOT = 1, 2
# What `_check_request` does with a header, by raw name: a `_READ` slot, or one of these checks.
_HOST, _CODING, _LENGTH = 4, 5, 6
_ACTIONS = {**_READ, b"host": _HOST, b"transfer-encoding": _CODING, b"content-length": _LENGTH}
# Response header names as the server writes them (a scripted answer's own are not kept past the bound).
_ENCODED_NAMES: dict[str, bytes] = {}
_ENCODED_NAMES_KEPT = 256
# Requests whose parsing (`apollo.Parsed`) is kept for a repeat, and the largest body kept.
PARSED_REQUESTS = 4_096
PARSED_BODY_BYTES = 1_024
Read = list[str | None]


class TooLarge(Exception):
    """The body went past the limit while it was read."""


class Emulator:
    """The ASGI application for one emulator app built by `create_app`."""

    def __init__(self, app: Flask | Enrichment, *, threads: int = 8, access_log: bool = False) -> None:
        # Given the service alone (`serve` on the in-memory store), the Flask app of the control API
        # is built on first need, off the loop (`flask`); Apollo's operations never need it.
        self._control: Flask | None = None
        if isinstance(app, Enrichment):
            self.service = app
        else:
            self._control = app
            self.service = app.extensions["fakeapollo"]
        self._threads = max(1, threads)
        self._wsgi: WSGIMiddleware | None = None
        self._building = threading.Lock()
        self.max_body = self.service.config.max_body_bytes
        # A store whose calls should take turns (SQLite: threads of one process would wait on each
        # other's write lock) gets one thread of its own; other blocking stores use the default pool.
        serial = journaling.store_blocks(self.service) and self.service.store.serial
        self.store_pool = ThreadPoolExecutor(1, thread_name_prefix="fakeapollo-store") if serial else None
        self.access_log = access_log
        self.router = Router()
        # What identical requests parse to, by (method, path, query string, content type, body): a pure
        # function of those bytes (apollo.parse), so nothing the control API changes is kept here.
        self.parsed = LRUMap(PARSED_REQUESTS)

    @property
    def flask(self) -> Flask:
        """The Flask app of the control API, the inspector, OpenAPI and 404s (built on first use)."""
        if self._control is None:
            with self._building:
                if self._control is None:
                    from mock_server.web.app import create_app

                    self._control = create_app(service=self.service)
        return self._control

    @property
    def wsgi(self) -> WSGIMiddleware:
        """The Flask app behind a2wsgi's thread pool."""
        if self._wsgi is None:
            from a2wsgi import WSGIMiddleware

            flask = self.flask
            with self._building:
                if self._wsgi is None:
                    self._wsgi = WSGIMiddleware(flask, workers=self._threads)  # type: ignore[arg-type]
        return self._wsgi

    def _build_control(self) -> None:
        self.wsgi  # noqa: B018 - builds the Flask app and its a2wsgi wrapper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection event: one HTTP request, or lifespan."""
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        started = time.perf_counter()
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        try:
            read, keyed = _check_request(scope, headers, self.max_body)
            message = await receive()
            whole: bytes = message.get("body", b"")
            body: bytes | None = whole
            if message["type"] != "http.request" or message.get("more_body", False):
                body = await _read_body(message, receive, self.max_body)
            elif len(whole) > self.max_body:
                raise TooLarge()
        except FakeApolloError as error:
            reply = error_reply(error)
            await _send_reply(send, reply, head=False)
            self._journal_refusal(scope, headers, reply, started)
            self._log(scope, headers, reply.status, None, started)
            return
        except TooLarge:
            reply = error_reply(PayloadTooLarge(self.max_body))
            await _send_reply(send, reply, head=False)
            self._journal_refusal(scope, headers, reply, started)
            self._log(scope, headers, reply.status, None, started)
            return
        if body is None:
            return  # the client left before its request was whole
        found = self.router.find(scope["path"], scope["method"])
        if found is not None:
            try:
                await self._apollo(scope, headers, read, keyed, body, *found, receive, send, started)
            except ServerRefusal as refusal:  # the store went away before `answer` ran (the clock's read)
                reply = error_reply(refusal)
                await _send_reply(send, reply, head=False)
                self._log(scope, headers, reply.status, None, started)
        else:
            status = await self._flask(scope, body, receive, send)
            self._log(scope, headers, status, None, started)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                if self._control is None:  # ready before the control API's first call, off the loop:
                    builder = threading.Thread(target=self._build_control, name="fakeapollo-control")
                    builder.daemon = True
                    builder.start()
            elif message["type"] == "lifespan.shutdown":
                self.service.close()  # stops the webhook dispatcher; pending deliveries stay stored
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _apollo(
        self,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        read: Read,
        keyed: int | None,
        body: bytes,
        operation: Operation,
        path_params: Mapping[str, str],
        receive: Receive,
        send: Send,
        started: float,
    ) -> None:
        """Answer one of Apollo's operations: `answer()` once, then its fault with `await`."""
        content_type, header_key, authorization, scenario_header = read
        content_type = content_type or ""
        query_string: bytes = scope["query_string"]
        query = query_params(query_string) if query_string else {}
        bearer = bearer_token(authorization) if authorization is not None else None
        method, path = scope["method"], scope["path"]
        call = Call(
            method, path, query, header_key, scenario_header, body, content_type, bearer, path_params, keyed
        )
        if call.method not in operation.allowed:
            await self._refuse_method(scope, headers, call, operation, send, started)
            return
        memo = None
        if operation.parse is not None and len(body) <= PARSED_BODY_BYTES:
            memo = (call.method, call.path, query_string, content_type, body)
            call.parsed = self.parsed.get(memo)
            if call.parsed is not None:
                memo = None  # kept already
        hosts = call.parsed.hosts if call.parsed is not None else _may_resolve_hosts(query, body)
        notes = Notes()
        service = self.service
        at = service.clock.timestamp()
        blocking = service.store.blocking  # Redis: only while its round trips are slow
        if blocking or hosts:
            # SQLite may wait on another process's lock, Redis on the network, a webhook URL's host on
            # DNS: on a thread, with the journal write in the same trip when there is no fault to wait for.
            pool = self.store_pool if blocking else None
            reply, fault, journaled = await asyncio.get_running_loop().run_in_executor(
                pool, self._answer_and_journal, operation, call, headers, notes, at, started
            )
        else:
            reply, fault = answer(service, operation, call, notes)
            journaled = False
        if memo is not None and call.parsed is not None:
            call.parsed.hosts = hosts
            self.parsed.put(memo, call.parsed)
        if fault is not None:
            if fault.wait:
                await wait_or_leave(fault.wait, receive)
            if fault.kind is FaultKind.TRUNCATE:
                reply = truncated(reply)
            elif fault.kind is FaultKind.RESET:
                _reset(scope)
                # uvicorn notices the lost connection on its next turn: wait for it, so it does
                # not take the missing answer for an application error.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(receive(), 1.0)
        reset = fault is not None and fault.kind is FaultKind.RESET
        if not journaled:
            # Journaled before the answer leaves: a client that reads the journal next finds it there,
            # from any worker process.
            if blocking:
                await asyncio.get_running_loop().run_in_executor(
                    self.store_pool, _journal, service, call, headers, notes, reply, at, started
                )
            else:
                _journal(service, call, headers, notes, reply, at, started)
        if not reset:  # `_send_reply`'s two sends, without its frame: this runs on every answer
            start, rest = _messages(reply, head=call.method == "HEAD")
            await send(start)
            await send(rest)
        if self.access_log:
            self._log(scope, headers, 0 if reset else reply.status, notes, started)

    async def _refuse_method(
        self,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        call: Call,
        operation: Operation,
        send: Send,
        started: float,
    ) -> None:
        """A method the operation does not serve: 405 naming those it does; OPTIONS lists them."""
        allowed = sorted({*self.router.allowed(operation), "OPTIONS"})
        if call.method == "OPTIONS":
            reply = Reply(200, b"", JSON_TYPE, {"Allow": ", ".join(allowed)})
        else:
            reply = error_reply(MethodNotAllowed(allowed))
        at = self.service.clock.timestamp()
        if journaling.store_blocks(self.service):
            await asyncio.get_running_loop().run_in_executor(
                self.store_pool, _journal, self.service, call, headers, None, reply, at, started
            )
        else:
            _journal(self.service, call, headers, None, reply, at, started)
        await _send_reply(send, reply, head=False)
        self._log(scope, headers, reply.status, None, started)

    def _answer_and_journal(
        self,
        operation: Operation,
        call: Call,
        headers: list[tuple[bytes, bytes]],
        notes: Notes,
        at: float,
        started: float,
    ) -> tuple[Reply, Fault | None, bool]:
        """`answer()` on a worker thread, and its journal entry too unless a fault must wait first."""
        reply, fault = answer(self.service, operation, call, notes)
        if fault is not None:
            return reply, fault, False
        _journal(self.service, call, headers, notes, reply, at, started)
        return reply, fault, True

    async def _flask(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> int:
        """Hand the request, its body already read, to the Flask app on a2wsgi's threads."""
        if self._wsgi is None:  # the first request for it: built on a thread, never on the loop
            await asyncio.get_running_loop().run_in_executor(None, self._build_control)
        if body and not self._routed_by_flask(scope):
            # A 404/405 keeps werkzeug's routing exception, whose traceback holds the WSGI input in a
            # reference cycle until a full collection: such a request's body is never handed over.
            body = b""
        given = False
        status = 0

        async def replay() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        # The body is whole: Flask gets its length instead of the chunking. A header name with an
        # underscore is dropped, as gunicorn does: in WSGI, x_api_key would pose as x-api-key.
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if b"_" not in name and name not in (b"transfer-encoding", b"content-length")
        ]
        if body or scope["method"] in ("POST", "PUT", "PATCH"):
            headers.append((b"content-length", b"%d" % len(body)))
        await self.wsgi({**scope, "headers": headers}, replay, watch)  # type: ignore[arg-type]
        return status

    def _routed_by_flask(self, scope: Scope) -> bool:
        """Whether one of the Flask app's routes takes this path and method (it may read a body)."""
        from werkzeug.exceptions import HTTPException

        try:
            self.flask.url_map.bind("localhost").match(scope["path"], scope["method"])
        except HTTPException:
            return False
        return True

    def _journal_refusal(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], reply: Reply, started: float
    ) -> None:
        """Journal a request refused before it was read whole (413, 400) like any call, body unkept."""
        path = scope.get("path", "")
        if path.startswith(journaling.ADMIN_PREFIX):
            return
        journaling.record(
            self.service,
            at=self.service.clock.timestamp(),
            duration_ms=(time.perf_counter() - started) * 1000,
            method=scope.get("method", ""),
            path=path,
            query=query_params(scope.get("query_string", b"")),
            headers=headers,
            notes=None,
            status=reply.status,
            body=reply.body,
            content_type=reply.content_type,
            reply_headers=reply.headers,
            writer=self._control.extensions.get(journaling.WRITER_EXTENSION) if self._control else None,
        )

    def _log(
        self,
        scope: Scope,
        headers: Iterable[tuple[bytes, bytes]],
        status: int,
        notes: Notes | None,
        started: float,
    ) -> None:
        """One access-log line (with --access-log): time, method, path, status, masked key, outcome, ms."""
        if not self.access_log:
            return
        key = next((v.decode("latin-1") for k, v in headers if k == b"x-api-key"), None)
        outcome = notes.outcome.name.value if notes is not None and notes.outcome is not None else "-"
        line = "{} {} {} {} {} {} {:.2f}ms\n".format(
            self.service.clock.iso(self.service.clock.now()),
            scope.get("method", "-"),
            scope.get("path", "-"),
            status or "reset",
            mask_key(key) if key else "-",
            outcome,
            (time.perf_counter() - started) * 1000,
        )
        sys.stdout.write(line)
        sys.stdout.flush()


def _journal(
    service: Enrichment,
    call: Call,
    headers: list[tuple[bytes, bytes]],
    notes: Notes | None,
    reply: Reply,
    at: float,
    started: float,
) -> None:
    """Journal one call to an Apollo operation (where the store allows: on the loop, or a thread)."""
    journaling.record_answer(service, call, headers, notes, reply, at, (time.perf_counter() - started) * 1000)


def _check_request(
    scope: Scope, headers: list[tuple[bytes, bytes]], max_body: int
) -> tuple[Read, int | None]:
    """Refuse what must not be served: another HTTP version, not one Host, an unknown coding, a big body.

    Returns the headers `answer()` reads (`_READ`: Content-Type, x-api-key, Authorization,
    X-Mock-Scenario; None when absent, repeats joined with ", "), found in the same pass, and the
    headers' characters when their one secret is one x-api-key header, else None (`Call.keyed`).
    """
    if scope.get("http_version") not in ("1.1", "1.0"):
        version = scope.get("http_version")
        raise MalformedRequest(f"HTTP version {version} is not supported: send HTTP/1.1 or HTTP/1.0")
    read: Read = [None, None, None, None]
    hosts = keys = secrets = chars = 0
    for name, value in headers:
        chars += len(name) + len(value)
        action = _ACTIONS.get(name)
        if action is None:  # any other header: it counts only when it names a secret
            secrets += journaling.secret_header(name)
        elif action < _HOST:  # one `answer()` reads
            text, before = value.decode("latin-1"), read[action]
            read[action] = text if before is None else before + ", " + text
            if action == _KEY_SLOT:
                keys += 1
            elif action == _AUTHORIZATION_SLOT:
                secrets += 1
        elif action == _HOST:
            hosts += 1
        elif action == _CODING:
            if value.strip().lower() != b"chunked":
                raise MalformedRequest(
                    f"Transfer-Encoding {value.decode('latin-1')!r} is not supported: send the body chunked"
                    " or with a Content-Length, without other codings"
                )
        elif value.isdigit() and _content_length(value) > max_body:  # Content-Length
            raise PayloadTooLarge(max_body)
    if hosts != 1:
        raise MalformedRequest(f"A request needs exactly one Host header, got {hosts}")
    return read, chars if keys == 1 and not secrets else None


def _content_length(digits: bytes) -> int:
    """The number a Content-Length's digits spell, leading zeros and all (llhttp lets them through)."""
    return int(digits) if len(digits) < 20 else int(digits.lstrip(b"0") or b"0")


async def _read_body(first: Message, receive: Receive, limit: int) -> bytes | None:
    """The whole body from its `first` message on; None when the client left, TooLarge past `limit`."""
    chunks: list[bytes] = []
    size = 0
    message = first
    while True:
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise TooLarge()
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
        message = await receive()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _may_resolve_hosts(query: dict[str, Any], body: bytes) -> bool:
    """Whether the request may carry a webhook URL (whose host is looked up): then it runs on a thread.

    A key spelled with JSON or percent escapes counts too, so no spelling reaches DNS on the loop.
    """
    return "webhook_url" in query or b"webhook" in body.lower() or b"\\u" in body or b"%" in body


async def _send_reply(send: Send, reply: Reply, *, head: bool) -> None:
    """Write a Reply (`_messages`)."""
    start, rest = _messages(reply, head=head)
    await send(start)
    await send(rest)


def _messages(reply: Reply, *, head: bool) -> tuple[Message, Message]:
    """A Reply's two ASGI messages: status, Content-Type, headers, Content-Length; body (none for HEAD)."""
    content_type = _CONTENT_TYPES.get(reply.content_type)
    if content_type is None:
        content_type = _CONTENT_TYPES.setdefault(reply.content_type, reply.content_type.encode("latin-1"))
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(reply.body))]
    names = _ENCODED_NAMES
    for name, value in reply.headers.items():
        raw = names.get(name)
        if raw is None:
            raw = name.encode("latin-1")
            if len(names) < _ENCODED_NAMES_KEPT:
                names[name] = raw
        headers.append((raw, value.encode("latin-1")))
    return (
        {"type": "http.response.start", "status": reply.status, "headers": headers},
        {"type": "http.response.body", "body": b"" if head else reply.body},
    )


def _reset(scope: Scope) -> None:
    """Drop the client's connection with a TCP reset, through the server's hook (web/server.py)."""
    reset = scope.get("extensions", {}).get(RESET_EXTENSION)
    if callable(reset):
        reset()


def query_params(query_string: bytes) -> dict[str, Any]:
    """Query parameters as every operation reads them (`query_dict`): arrays (`domains[]`) keep each value."""
    if not query_string:
        return {}
    return query_dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


__all__ = ["Emulator", "Fault", "query_params"]
