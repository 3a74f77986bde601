"""The hot path's shortcuts change nothing a client or the control API sees: deferred journal entries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from mock_server.config import Config
from mock_server.domain.journal import Deferred, Entry
from mock_server.domain.service import Enrichment
from mock_server.web import journaling
from mock_server.web.asgi import Emulator
from mock_server.web.factory import build_service

MATCH = "/api/v1/people/match"
TOKEN = "oauth-token-9876543210zyxwvuTOKEN"


def call(app: Emulator, body: bytes, headers: list[tuple[bytes, bytes]], query: bytes = b"") -> int:
    """One request straight into the ASGI application; its status."""
    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": MATCH,
        "raw_path": MATCH.encode(),
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"%d" % len(body)), *headers],
    }
    sent: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    asyncio.run(app(scope, receive, send))
    return sent[0]


@pytest.fixture
def service() -> Iterator[Enrichment]:
    """A service on the in-memory store, its clock frozen, request ids seeded."""
    service = build_service(Config(seed=3, request_id_seed=3))
    service.clock.freeze()
    yield service
    service.close()


KEY = [(b"x-api-key", b"test-key")]
REQUESTS = [  # (body, headers, query): admitted calls, refused ones, secrets elsewhere
    (b'{"email": "ada@corp1.example.com"}', KEY, b""),
    (b'{"email": "thin@unknown.com"}', [(b"x-api-key", b"load-test-key")], b"reveal_personal_emails=true"),
    (b'{"email": "not an email"}', [(b"x-api-key", b"test-key")], b""),
    (b'{"email": "ada@corp1.example.com"}', [(b"x-api-key", b"no-such-key")], b""),
    (b'{"email": "a@b.com"}', [*KEY, (b"authorization", f"Bearer {TOKEN}".encode())], b""),
    (b'{"email": "a@b.com", "token": "sk-123456789"}', [(b"x-api-key", b"test-key")], b""),
    (b'{"email": "a@b.com"}', [(b"x-api-key", b"test-key"), (b"x-trace", b"1"), (b"x-trace", b"2")], b""),
    (b'{"email": "a@b.com"}', [*KEY, (b"cookie", b"session=s3cr3t-cookie")], b""),
    (b'{"email": "a@b.com"}', [*KEY, (b"x_api_key", b"other-key-123")], b""),
]


def _shown(entry: Entry) -> dict[str, Any]:
    """What the control API shows of an entry, but for what differs between two runs."""
    shown = entry.describe(lambda t: t.isoformat())
    for varying in ("duration_ms", "key_fingerprint", "id"):
        shown.pop(varying)
    shown["response"]["headers"].pop("x-transaction-id", None)
    return {**shown, "size": entry.size}


def test_a_deferred_entry_reads_as_the_entry_built_at_once(
    service: Enrichment, monkeypatch: pytest.MonkeyPatch
) -> None:
    eager_service = build_service(Config(seed=3, request_id_seed=3))
    eager_service.clock.freeze()
    eager_service.clock.set(service.clock.now())
    try:
        deferred_app, eager_app = Emulator(service), Emulator(eager_service)
        for body, headers, query in REQUESTS:
            status = call(deferred_app, body, headers, query)
            with monkeypatch.context() as patched:
                patched.setattr(journaling, "_deferrable", lambda *args: None)
                assert call(eager_app, body, headers, query) == status
        deferred, eager = service.store.journal.entries(), eager_service.store.journal.entries()
        assert [_shown(e) for e in deferred] == [_shown(e) for e in eager]
        assert service.store.journal.usage() == eager_service.store.journal.usage()
    finally:
        eager_service.close()


def test_only_calls_whose_one_secret_is_a_registered_key_wait_to_be_built(service: Enrichment) -> None:
    app = Emulator(service)
    for body, headers, query in REQUESTS:
        call(app, body, headers, query)
    kept = list(service.store.journal._entries)  # noqa: SLF001 - what rests in memory is the point
    # Admitted with the key alone: deferred; a refused key, a token, a cookie or a second key beside
    # it, a secret parameter: masked at once.
    deferred = [isinstance(e, Deferred) for e in kept]
    assert deferred == [True, True, True, False, False, False, True, False, False]
    for secret in ("sk-123456789", TOKEN, "no-such-key", "s3cr3t-cookie", "other-key-123"):
        assert secret not in repr(kept)


def test_a_repeated_request_kept_parsed_still_sees_every_change_of_state(service: Enrichment) -> None:
    app = Emulator(service)
    body, headers = b'{"email": "ada@corp1.example.com"}', [(b"x-api-key", b"test-key")]
    assert call(app, body, headers) == 200
    assert len(app.parsed) == 1  # what the bytes say is kept: nothing of the state
    service.store.scenarios.add({"outcome": "rate_limited", "times": 1})
    assert call(app, body, headers) == 429
    service.keys.remove("test-key")
    assert call(app, body, headers) == 401
    service.reset()
    assert call(app, body, headers) == 200
    assert [e.status for e in service.store.journal.entries()] == [200]
    bad = b'{"email": "not an email"}'
    assert [call(app, bad, headers), call(app, bad, [(b"x-api-key", b"nobody")])] == [422, 401]
    assert len(app.parsed) == 2  # a refused parse is kept as refused, and refused at its turn again


def test_a_kept_parse_says_whether_a_repeat_may_name_a_webhook_url(service: Enrichment) -> None:
    app = Emulator(service)
    hooked = b'{"email": "ada@corp1.example.com", "webhook_url": "http://127.0.0.1:9/hook"}'
    plain = b'{"email": "ada@corp1.example.com"}'
    for body in (hooked, plain, hooked, plain):
        assert call(app, body, KEY) == 200
    kept = {key[-1]: parsed.hosts for key, parsed in app.parsed._data.items()}  # noqa: SLF001
    assert kept == {hooked: True, plain: False}


def test_a_kept_parse_knows_whom_it_means_without_resolving_again(
    service: Enrichment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mock_server.domain import service as service_module

    resolved: list[object] = []
    real = service_module._resolve  # noqa: SLF001 - counting its calls is the point
    monkeypatch.setattr(service_module, "_resolve", lambda query: resolved.append(query) or real(query))
    app = Emulator(service)
    body = b'{"email": "Ada@Corp1.example.com"}'
    assert [call(app, body, KEY) for _ in range(3)] == [200, 200, 200]
    assert resolved == []  # the parse worked the identity out once, and the repeats kept it
    [entry, *_] = service.store.journal.entries()
    assert b'"email":"ada@corp1.example.com"' in entry.response_text


def test_a_malformed_email_is_refused_at_its_turn_on_every_repeat(service: Enrichment) -> None:
    app = Emulator(service)
    bad = b'{"email": "not an email"}'
    forced = [*KEY, (b"x-mock-scenario", b"no_match")]
    # Under a forced no_match nothing is looked up, so nothing is refused: a null person, each time.
    assert [call(app, bad, forced), call(app, bad, forced)] == [200, 200]
    assert [call(app, bad, KEY), call(app, bad, KEY)] == [422, 422]
    entries = service.store.journal.entries()
    assert [e.status for e in entries] == [200, 200, 422, 422]
    assert [e.response_text for e in entries[1:3]] == [
        b'{"person":null}',
        b'{"error":"Invalid parameter \'email\': must be an email address like name@example.com"}',
    ]
