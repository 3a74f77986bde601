"""`fakeapollo record`: a recording proxy in front of Apollo, an ASGI app served by uvicorn.

Each call a client makes is costed (mock_server/recording/credit_cap.py), forwarded once with the real key
from APOLLO_API_KEY, answered with the upstream's status, headers and body, and written down by
mock_server/recording/writer.py. Webhook URLs are pointed at the proxy's own receiver, which
records each payload and passes it on to the client's URL. Kept in one module (about 600 lines):
admission, forwarding, the fault mapping and the webhook receiver share one request's state.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from mock_server.domain.clock import Clock
from mock_server.domain.encoding import dumps
from mock_server.domain.errors import ApolloError, FakeApolloError, NotFound, PayloadTooLarge, RecorderError
from mock_server.domain.params import parse_webhook_url
from mock_server.domain.webhooks.transport import DELIVERY_MARKER, Allowlist, Refused, post_json
from mock_server.recording.calls import API_PREFIXES, Call, read_call
from mock_server.recording.credit_cap import CapReached, CreditCap, Estimate, charged_now, estimate
from mock_server.recording.files import private_folder, write_private
from mock_server.recording.writer import RecordingWriter
from mock_server.web.faults import RESET_EXTENSION
from mock_server.web.sameorigin import CrossSiteRefused, SitePolicy
from mock_server.web.server import HttpProtocol, bind_socket

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

RECEIVER_PREFIX = "/__record/webhooks/"
ROUTES_FILE = "webhooks.json"
# RFC 9110 7.6.1: connection-specific headers a proxy must not pass on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    }
)
# Request headers not forwarded: the client's credentials (the real key replaces them), what the
# HTTP client sets itself, the body's description (the proxy writes the body anew), method
# overrides, and compression (the proxy asks for identity so it can read bodies).
NOT_FORWARDED = HOP_BY_HOP | {
    "host",
    "x-api-key",
    "authorization",
    "cookie",
    "content-length",
    "content-type",
    "content-encoding",
    "accept-encoding",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "origin",
    "referer",
}
# Request headers never written down.
NOT_RECORDED = frozenset({"x-api-key", "authorization", "cookie", "proxy-authorization"})
MAX_REQUEST_BYTES = 1024 * 1024
MIN_KEY_LENGTH = 8
MAX_ANSWER_BYTES = 32 * 1024 * 1024


#: A connection the upstream reset mid-answer can surface as anyio's own error, not httpx's: seen
#: under load (httpx 0.29, httpcore 1.0.9, anyio 4.16), where it escaped as a 500 to the client.
_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)

class CreditCapReached(RecorderError):
    """The recorder's own refusal: the call could cross --max-credits, so it was not sent."""

    status = 422

    def __init__(self, reached: CapReached) -> None:
        super().__init__(
            {
                "error": str(reached),
                "error_code": "RECORDING_CREDIT_CAP_REACHED",
                "credits_spent": reached.spent,
                "credits_reserved": reached.pending,
                "max_credits": reached.cap,
                "call_could_cost": reached.cost,
            }
        )


class UpstreamUnreachable(RecorderError):
    """502: the upstream could not be connected to, so nothing was sent or charged."""

    status = 502

    def __init__(self, problem: str) -> None:
        super().__init__({"error": f"fakeapollo record: could not reach the upstream ({problem})"})


@dataclass(frozen=True)
class RecordSettings:
    """Everything `fakeapollo record` was told."""

    upstream: str
    out: Path
    api_key: str
    max_credits: float | None = None
    scrub: bool = False
    host: str = "127.0.0.1"
    port: int = 8766
    webhook_base: str | None = None
    upstream_timeout: float = 60.0
    webhook_timeout: float = 10.0
    webhook_allow: tuple[str, ...] = ()


def is_loopback(url: str) -> bool:
    """Whether `url`'s host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_problem(settings: RecordSettings) -> str | None:
    """Why the recorder cannot start with these settings, or None."""
    try:
        parts = urlsplit(settings.upstream)
    except ValueError:
        return f"--upstream {settings.upstream!r} is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--upstream {settings.upstream!r} must be an http(s) URL, e.g. https://api.apollo.io"
    if not settings.api_key:
        return "APOLLO_API_KEY is not set: the recorder forwards with the key from that variable only"
    if len(settings.api_key) < MIN_KEY_LENGTH:
        # Every written line has the key replaced: a very short "key" would mangle the files.
        return f"APOLLO_API_KEY is shorter than {MIN_KEY_LENGTH} characters: not an API key"
    if settings.max_credits is None and not is_loopback(settings.upstream):
        return "--max-credits is required when the upstream is not on this machine (it spends real credits)"
    if settings.max_credits is not None and not (
        math.isfinite(settings.max_credits) and settings.max_credits >= 0
    ):
        return "--max-credits must be a finite number, at least 0"
    if not 0 <= settings.port <= 65535:
        return "--port must be between 0 and 65535"
    for name in ("upstream_timeout", "webhook_timeout"):
        value = getattr(settings, name)
        if not (math.isfinite(value) and 0 < value <= 3600):
            return f"--{name.replace('_', '-')} must be above 0 and at most 3600 seconds"
    try:
        Allowlist(settings.webhook_allow).close()
    except ValueError as exc:
        return str(exc)
    return None


@dataclass
class _Request:
    """One request as it arrived, before it is read as a call."""

    method: str
    path: str
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k == name), "")


class RecordingProxy:
    """The ASGI app: Apollo's routes forwarded and recorded, and the webhook receiver."""

    def __init__(self, settings: RecordSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        private_folder(settings.out)
        self.cap = CreditCap(settings.out, settings.max_credits)
        self.writer = RecordingWriter(settings.out, secret=settings.api_key, scrub=settings.scrub)
        self.allowlist = Allowlist(settings.webhook_allow)
        self.site = SitePolicy.for_server(settings.host)
        if settings.port:
            self.allowlist.refuse_own(settings.host, settings.port)  # a webhook passed on to itself: a loop
        self.receiver_base = (settings.webhook_base or f"http://{settings.host}:{settings.port}").rstrip("/")
        routes_path = settings.out / ROUTES_FILE
        self.routes: dict[str, str] = (
            json.loads(routes_path.read_text(encoding="utf-8")) if routes_path.exists() else {}
        )
        self._client: httpx.AsyncClient | None = None

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one ASGI event."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        try:
            request = await _read(scope, receive)
            if path.startswith(RECEIVER_PREFIX) and scope["method"] == "POST":
                await self._webhook(request, send)
            elif path.startswith(API_PREFIXES):
                await self._forward(self._admit(request), scope, send)
            else:
                raise NotFound()
        except FakeApolloError as error:
            await _reply(send, error.status, error.encoded_body(), error.content_type, error.headers)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(
                    timeout=httpx.Timeout(self.settings.upstream_timeout),
                    follow_redirects=False,
                    # Never retried: the upstream's fault is the client's to see.
                    transport=httpx.AsyncHTTPTransport(retries=0),
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                self.allowlist.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- forwarding ------------------------------------------------------------------------

    def _admit(self, request: _Request) -> Call:
        """The call read once (calls.py), after the checks that it was not made on another's behalf.

        Every call the recorder forwards spends real credits, so every one is checked as a request
        that changes state (mock_server/web/sameorigin.py), must carry a credential header (which no
        page can add without the browser asking first), and must not be a webhook delivery.
        """
        named = dict(request.headers)
        self.site.check(
            request.method, named, has_body=bool(request.body), changes_state=True, who="fakeapollo record"
        )
        if not (named.get("x-api-key") or named.get("authorization")):
            raise CrossSiteRefused(
                "fakeapollo record: a call needs an x-api-key header (any value: the recorder forwards"
                " with APOLLO_API_KEY), as Apollo does"
            )
        if DELIVERY_MARKER.lower() in named:
            raise CrossSiteRefused("fakeapollo record: a webhook delivery is never forwarded")
        return read_call(
            request.method, request.raw_path, request.query_string, request.headers, request.body
        )

    async def _forward(self, call: Call, scope: Scope, send: Send) -> None:
        params = call.params
        cost = estimate(call.path, params)
        started = self.clock.timestamp()
        try:
            ticket = self.cap.reserve(cost)
        except CapReached as reached:
            refusal = CreditCapReached(reached)
            self._record_call(call, started, cost, refused=refusal)
            await _reply(send, refusal.status, refusal.encoded_body(), refusal.content_type)
            return
        # Like Apollo (and `serve`), any webhook host is accepted; one off the allowlist is never
        # contacted: its payloads are recorded and not passed on (mock_server/domain/webhooks/transport.py).
        client_hook = _client_webhook(params)
        receiver = None
        if client_hook is not None:
            receiver = self._route_webhook(ticket, client_hook)
        query, body = call.forwarded(receiver)
        upstream = self.settings.upstream.rstrip("/") + call.path + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in call.headers if k not in NOT_FORWARDED]
        headers += [("x-api-key", self.settings.api_key), ("accept-encoding", "identity")]
        if body is not None:
            headers.append(("content-type", "application/json"))
        assert self._client is not None, "lifespan startup creates the HTTP client"
        outgoing = self._client.build_request(call.method, upstream, headers=headers, content=body)
        status: int | None = None
        answer_headers: list[tuple[str, str]] = []
        raw = b""
        fault: str | None = None
        try:
            response = await self._client.send(outgoing, stream=True)
            try:
                status = response.status_code
                answer_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
                raw = await _read_answer(response)
            finally:
                await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.cap.settle(ticket, 0.0)  # nothing was sent: nothing can have been charged
            self._record_call(call, started, cost, fault=f"connect: {exc}")
            raise UpstreamUnreachable(type(exc).__name__) from exc
        except httpx.TimeoutException:
            fault = "timeout"
        except (httpx.TransportError, _AnswerTooLarge, *_STREAM_ERRORS) as exc:
            fault = f"reset ({type(exc).__name__})"
        answer = _parse(raw, _header(answer_headers, "content-type"))
        charged = charged_now(call.path, None if fault else status, answer, cost)
        later = cost.later if client_hook is not None and (fault or (status or 0) < 400) else 0.0
        self.cap.settle(ticket, charged, still_pending=later)
        # Written before the client hears back, so a client that reads DIR next finds the call there.
        self._record_call(
            call,
            started,
            cost,
            status=status,
            headers=answer_headers,
            answer=answer,
            fault=fault,
            charged=charged,
            webhook=client_hook is not None,
        )
        if fault is not None:
            await _abort(scope)
        else:
            assert status is not None
            passed = [(k, v) for k, v in answer_headers if k.lower() not in HOP_BY_HOP | {"content-length"}]
            await _send(send, status, passed, raw)

    def _route_webhook(self, ticket: str, client_url: str) -> str:
        """The receiver URL of the call behind `ticket`; payloads it gets are passed on to `client_url`."""
        self.routes[ticket] = client_url
        write_private(self.settings.out / ROUTES_FILE, json.dumps(self.routes, indent=2) + "\n")
        return f"{self.receiver_base}{RECEIVER_PREFIX}{ticket}"

    def _record_call(
        self,
        call: Call,
        started: float,
        cost: Estimate,
        *,
        status: int | None = None,
        headers: list[tuple[str, str]] | None = None,
        answer: Any = None,
        fault: str | None = None,
        charged: float = 0.0,
        webhook: bool = False,
        refused: FakeApolloError | None = None,
    ) -> None:
        """Write one exchange, its persons and its drift.

        The answer is scrubbed before the request: a hashed e-mail in the request then maps to the
        hash of the fake address.
        """
        writer = self.writer
        private_answer = writer.private(answer)
        entry: dict[str, Any] = {
            "at": Clock.iso(self.clock.now()),
            "kind": "refused" if refused is not None else "call",
            "request": {
                "method": call.method,
                "path": writer.private_path(call.path),
                "query": writer.private_request(_redact_params(call.query)),
                "headers": {k: v for k, v in call.headers if k not in NOT_RECORDED},
                "body": writer.private_request(_redact_params(call.body)),
            },
            "forwarded": refused is None and not (fault or "").startswith("connect"),
            "webhook_url_replaced": webhook,
        }
        if refused is not None:
            entry["response"] = {"status": refused.status, "body": refused.body}
        elif fault is None or status is not None:
            entry["response"] = {
                "status": status,
                "headers": {
                    k.lower(): ("[redacted]" if k.lower() == "set-cookie" else v) for k, v in headers or []
                },
                "body": private_answer,
            }
        entry["fault"] = fault
        entry["seconds"] = round(self.clock.timestamp() - started, 6)
        entry["credits"] = {"could_cost": cost.total, "charged": charged, **self.cap.describe()}
        writer.exchange(entry)
        if status is not None and fault is None:
            writer.check_answer(call.path, status, dict(headers or []), private_answer, call.method)
            if status < 300:
                writer.persons(call.path, answer, private_answer, call.params)

    # -- webhooks --------------------------------------------------------------------------

    async def _webhook(self, request: _Request, send: Send) -> None:
        """Record a payload, settle its credits, pass it on to the client's URL (once)."""
        ticket = request.path[len(RECEIVER_PREFIX) :]
        client_url = self.routes.get(ticket)
        if client_url is None:
            raise NotFound("No recorded call has this webhook receiver")
        payload = _parse(request.body, request.header("content-type"))
        consumed = payload.get("credits_consumed") if isinstance(payload, dict) else None
        if isinstance(consumed, int | float) and not isinstance(consumed, bool) and math.isfinite(consumed):
            self.cap.settle(ticket, float(consumed))
        else:
            self.cap.settle(ticket, self.cap.pending.get(ticket, 0.0))
        status: int | None
        problem: str | None
        try:
            # Resolved and checked once; the POST connects only to the checked addresses.
            target = await asyncio.to_thread(self.allowlist.target, client_url)
        except Refused as refused:
            status, problem = None, f"not passed on: {refused}"
            print(f"fakeapollo record: a webhook payload was recorded, {problem}", file=sys.stderr)
        else:
            headers = {"Content-Type": request.header("content-type") or "application/json"}
            delivered = await asyncio.to_thread(
                post_json, client_url, request.body, headers, self.settings.webhook_timeout, target
            )
            status, problem = delivered.status, delivered.error
        private = self.writer.private(payload)
        self.writer.exchange(
            {
                "at": Clock.iso(self.clock.now()),
                "kind": "webhook",
                "payload": private,
                "passed_on": {"status": status, "error": problem},
                "credits": self.cap.describe(),
            }
        )
        self.writer.check_payload(private)
        self.writer.phones(private)
        # The client's answer goes back to the upstream, which retries as it would for the client;
        # a payload that may not be passed on is recorded, which is all the upstream needs to hear.
        body = dumps({"passed_on_status": status, "error": problem})
        withheld = problem is not None and problem.startswith("not passed on")
        answer = status if status is not None else (200 if withheld else 502)
        await _reply(send, answer, body, "application/json")


def _client_webhook(params: Mapping[str, Any]) -> str | None:
    """The client's `webhook_url` (decoded), or None when there is none the upstream would accept."""
    try:
        return parse_webhook_url(params.get("webhook_url"))
    except ApolloError:
        return None  # not a string: the upstream answers the client's mistake


class _AnswerTooLarge(Exception):
    """The upstream's body is larger than the recorder keeps."""


async def _read(scope: Scope, receive: Receive) -> _Request:
    """The whole request; 413 past MAX_REQUEST_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise PayloadTooLarge(MAX_REQUEST_BYTES)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
    return _Request(
        method=scope["method"],
        path=scope["path"],
        raw_path=scope.get("raw_path") or scope["path"].encode(),
        query_string=scope.get("query_string", b""),
        headers=headers,
        body=b"".join(chunks),
    )


async def _read_answer(response: httpx.Response) -> bytes:
    """The upstream's body as sent (no decoding), bounded."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _AnswerTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, content_type: str) -> Any:
    """An answer or payload as JSON when it is JSON, else its text."""
    text = raw.decode("utf-8", "replace")
    if "json" in content_type.lower() or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _redact_params(document: Any) -> Any:
    """Parameters with a client-sent `api_key` hidden (any key the client sends is a secret)."""
    if isinstance(document, dict) and "api_key" in document:
        return {**document, "api_key": "[redacted]"}
    return document


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


async def _send(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    """One complete answer with the given headers and a Content-Length for `body`."""
    encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    encoded.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": encoded})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _reply(
    send: Send, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
) -> None:
    """A local answer (refusals, the webhook receiver)."""
    await _send(send, status, [("content-type", content_type), *(headers or {}).items()], body)


async def _abort(scope: Scope) -> None:
    """Reset the client's connection, as the upstream reset (or never answered) the proxy's."""
    reset = scope.get("extensions", {}).get(RESET_EXTENSION)
    if callable(reset):
        reset()  # mock_server/web/server.py's protocol: SO_LINGER 0, then abort
    # Let the server see the connection is gone, so it does not answer 500 in its place.
    for _ in range(3):
        await asyncio.sleep(0)


def build_server(settings: RecordSettings, sock: socket.socket) -> tuple[Any, RecordingProxy]:
    """A uvicorn server for the proxy on `sock` (the receiver's URL uses its real port)."""
    import uvicorn

    actual = RecordSettings(**{**settings.__dict__, "port": sock.getsockname()[1]})
    proxy = RecordingProxy(actual)
    config = uvicorn.Config(
        proxy,
        http=HttpProtocol,
        ws="none",
        lifespan="on",
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config), proxy


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def record(settings: RecordSettings) -> int:
    """Run the recorder until interrupted; print where it listens, and what it wrote when it stops."""
    try:
        sock = bind_socket(settings.host, settings.port)
    except OSError as exc:
        print(f"fakeapollo record: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 2
    try:
        server, proxy = build_server(settings, sock)
    except (OSError, ValueError, TypeError) as exc:
        sock.close()
        print(f"fakeapollo record: cannot record into {settings.out}: {exc}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    cap = "no credit cap" if settings.max_credits is None else f"at most {settings.max_credits:g} credits"
    print(
        f"fakeapollo record: http://{settings.host}:{port} -> {settings.upstream}, writing {settings.out} "
        f"({cap}; {proxy.cap.spent:g} spent before)",
        flush=True,
    )
    if not settings.scrub:
        print(f"fakeapollo record: {settings.out} will hold personal data (use --scrub)", file=sys.stderr)
    # uvicorn stops on SIGINT/SIGTERM and then raises the signal again: end quietly with a summary.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    written = proxy.writer.persons_written
    summary = f"fakeapollo record: {written} person file(s) written, {proxy.cap.spent:g} credits spent"
    if proxy.writer.scrubber is not None:
        replaced = ", ".join(f"{n} {kind}" for kind, n in proxy.writer.scrubber.report().items()) or "nothing"
        summary += f"; scrubbed: {replaced}"
    print(summary, flush=True)
    return 0
