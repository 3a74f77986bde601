"""Webhooks cannot be turned against the emulator, other teams or outside hosts (docs/security.md)."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server.config import Config
from mock_server.domain.webhooks.transport import Allowlist
from tests.conftest import key_registry, start_serve
from tests.webhook_helpers import LANDLINE_ONLY, NO_PHONE, TEAM, WITH_MOBILE, Emulator, emulator, receiver


def test_webhook_late_with_a_delay_that_is_not_a_number_creates_no_delivery() -> None:
    with emulator() as emu, receiver() as hook:
        answer = emu.match(WITH_MOBILE, hook.url, headers={"X-Mock-Scenario": "webhook_late; delay_s=nan"})
        assert answer.status_code == 400
        assert "delay_s" in answer.json()["error"]
        assert emu.deliveries() == []
        assert emu.service.ledger.spent(TEAM) == 0


def two_teams(folder: Path) -> Path:
    """A key registry with a key for team `alpha` and one for team `beta`."""
    return key_registry(
        folder,
        {"key": "alpha-key", "team": "alpha", "plan": "professional", "credits": None, "scopes": None},
        {"key": "beta-key", "team": "beta", "plan": "professional", "credits": None, "scopes": None},
    )


def test_a_webhook_result_is_readable_only_by_the_team_that_asked(tmp_path: Path) -> None:
    with emulator(keys=two_teams(tmp_path)) as emu, receiver() as hook:
        emu.http.headers["x-api-key"] = "alpha-key"
        request_id = emu.match(WITH_MOBILE, hook.url).json()["request_id"]
        emu.http.post(f"{emu.url}/__admin/webhooks/flush")
        hook.wait_for(1)
        assert emu.poll(request_id).status_code == 200
        emu.http.headers["x-api-key"] = "beta-key"
        for prefix in ("/api/v1", "/v1"):
            other = emu.poll(request_id, prefix=prefix)
            assert other.status_code == 404
            assert other.json() == {"error_code": "request_id_unknown"}


def first_request_id(emu: Emulator) -> int:
    """The request id of the first match an emulator answers."""
    answer = emu.http.post(f"{emu.url}/api/v1/people/match", json={"email": "id@example.com"})
    request_id: int = answer.json()["request_id"]
    return request_id


def test_request_ids_differ_between_runs_unless_a_seed_is_asked_for() -> None:
    with emulator() as first, emulator() as second:
        assert first_request_id(first) != first_request_id(second)
    with emulator(request_id_seed=3) as first, emulator(request_id_seed=3) as second:
        assert first_request_id(first) == first_request_id(second)
    assert Config.from_env({"FAKEAPOLLO_SEED": "4"}).request_id_seed == 4
    assert Config.from_env({}).request_id_seed is None


def test_serve_with_seed_gives_the_same_request_ids_every_run() -> None:
    ids = []
    for _ in range(2):
        server = start_serve("--seed", "3")
        try:
            ids.append(
                requests.post(
                    f"{server.url}/api/v1/people/match",
                    json={"email": "id@example.com"},
                    headers={"x-api-key": "test-key"},
                    timeout=10,
                ).json()["request_id"]
            )
        finally:
            server.stop()
    assert ids[0] == ids[1]


def flush(emu: Emulator) -> list[dict[str, Any]]:
    """Send everything pending now; the deliveries afterwards."""
    assert emu.http.post(f"{emu.url}/__admin/webhooks/flush").status_code == 200
    return emu.deliveries()


def test_a_webhook_aimed_at_the_emulator_itself_is_refused_and_recorded_as_failed() -> None:
    with emulator() as emu:
        port = emu.url.rsplit(":", 1)[1]
        emu.http.post(f"{emu.url}/__admin/scenarios", json={"outcome": "no_match", "after": 100})
        for url in (f"{emu.url}/__admin/reset", f"http://localhost:{port}/__admin/reset"):
            assert emu.match(WITH_MOBILE, url).status_code == 200
        deliveries = flush(emu)
        assert [d["status"] for d in deliveries] == ["failed", "failed"]
        assert all("is this emulator itself: never delivered" in d["failure_reason"] for d in deliveries)
        assert len(emu.http.get(f"{emu.url}/__admin/scenarios").json()["scenarios"]) == 1  # no reset ran


def test_webhook_allow_none_narrows_the_default_to_nothing() -> None:
    with emulator(webhook_allow=("none",)) as emu, receiver() as hook:
        assert emu.match(WITH_MOBILE, hook.url).status_code == 200
        [delivery] = flush(emu)
        assert delivery["status"] == "failed"
        assert "is not on the allowlist" in delivery["failure_reason"]
        assert hook.bodies == []
    with emulator(webhook_allow=("none", "127.0.0.1")) as emu, receiver() as hook:
        emu.match(WITH_MOBILE, hook.url)
        assert [d["status"] for d in flush(emu)] == ["delivered"]


def test_the_delivery_connects_to_the_address_it_checked_and_names_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the first lookup says loopback, any later one a public address."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "203.0.113.7"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with emulator(webhook_timeout=1.0) as emu, receiver() as hook:
        port = hook.url.split(":")[2].split("/")[0]
        emu.match(WITH_MOBILE, f"http://rebind.example:{port}/hook")
        assert [d["status"] for d in flush(emu)] == ["delivered"]
        assert len(hook.bodies) == 1 and lookups == ["rebind.example"]
        assert hook.headers[0]["Host"] == f"rebind.example:{port}"


def test_names_under_localhost_are_resolved_and_checked_like_any_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = socket.getaddrinfo

    def public_localhost(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "evil.localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", public_localhost)
    allow = Allowlist()
    refusal = allow.refusal("http://evil.localhost/hook")
    assert refusal is not None and "is not on the allowlist" in refusal
    assert allow.refusal("http://localhost/hook") is None  # resolves to loopback
    allow.close()


def test_the_emulators_own_address_is_refused_also_behind_a_wildcard_bind() -> None:
    allow = Allowlist(["*"])
    allow.refuse_own("0.0.0.0", 8765)  # noqa: S104 - a wildcard address, never bound here
    assert "this emulator itself" in (allow.refusal("http://127.0.0.5:8765/__admin/reset") or "")
    assert "this emulator itself" in (allow.refusal("http://[::ffff:127.0.0.1]:8765/") or "")
    assert allow.refusal("http://127.0.0.5:8766/hook") is None  # another port: someone else
    allow.close()


def test_a_non_ascii_webhook_path_is_delivered_percent_encoded(caplog: pytest.LogCaptureFixture) -> None:
    with emulator() as emu, receiver() as hook:
        assert emu.match(WITH_MOBILE, hook.url + "/ünï?q=é ñ").status_code == 200
        assert [d["status"] for d in flush(emu)] == ["delivered"]
        assert hook.paths == ["/hook/%C3%BCn%C3%AF?q=%C3%A9%20%C3%B1"]
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    "url", ["http://a]b/", "http://[::1/h", "http://127.0.0.1:99999/h", "http://h:x/", "http://127.0.0.1:0/h"]
)
def test_a_webhook_url_that_cannot_be_parsed_is_apollos_400(url: str) -> None:
    with emulator() as emu:
        response = emu.match(WITH_MOBILE, url)
        assert response.status_code == 400
        assert response.json() == {
            "error": "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"
        }
        assert emu.deliveries() == []


class Trickler:
    """A receiver on 127.0.0.1 that reads each POST, then answers `head` and `tail` one byte at a time."""

    def __init__(self, head: bytes, tail: bytes, every: float = 0.25, give_up_after: float = 15.0) -> None:
        self.head, self.tail, self.every, self.give_up_after = head, tail, every, give_up_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(body) < length:
                body += connection.recv(65536)
            given_up = time.monotonic() + self.give_up_after
            try:
                connection.sendall(self.head)
                for byte in self.tail:
                    if self.stopped.wait(self.every) or time.monotonic() > given_up:
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        """Stop answering and listening."""
        self.stopped.set()
        self.listener.close()


def timed_flush(emu: Emulator) -> float:
    """Real seconds a POST /__admin/webhooks/flush takes to answer 200."""
    started = time.monotonic()
    assert emu.http.post(f"{emu.url}/__admin/webhooks/flush", timeout=60).status_code == 200
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("head", "tail"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"x" * 100),
        (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"y" * 100 + b"\r\nContent-Length: 0\r\n\r\n"),
    ],
    ids=["body", "headers"],
)
def test_a_receiver_that_trickles_its_answer_fails_the_attempt_with_a_timeout_within_the_timeout(
    head: bytes, tail: bytes
) -> None:
    slow = Trickler(head, tail)
    try:
        with emulator(webhook_timeout=1.0, webhook_attempts=1) as emu:
            assert emu.match(WITH_MOBILE, slow.url).status_code == 200
            assert timed_flush(emu) < 10  # a byte every 0.25 s: ~25 s, each read well within 1 s
            [delivery] = emu.deliveries()
            assert delivery["status"] == "failed"
            assert delivery["failure_reason"] == "Webhook error: timeout"
            [attempt] = delivery["attempts"]
            assert (attempt["status"], attempt["error"]) == (None, "timeout")
            assert attempt["duration_ms"] < 5000
            assert emu.http.get(f"{emu.url}/__admin/requests").json()["requests"]
            with receiver() as hook:
                assert emu.match(LANDLINE_ONLY, hook.url).status_code == 200
                assert timed_flush(emu) < 10
                assert len(hook.wait_for(1)) == 1
    finally:
        slow.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "0.1.2.3", "[::]", "[::ffff:0.0.0.0]"])  # noqa: S104
def test_a_webhook_aimed_at_the_emulator_through_a_this_host_address_is_refused(host: str) -> None:
    with emulator(webhook_allow=("*",), webhook_attempts=1) as emu:
        port = emu.url.rsplit(":", 1)[1]
        emu.http.delete(f"{emu.url}/__admin/requests")
        assert emu.match(WITH_MOBILE, f"http://{host}:{port}/").status_code == 200
        [delivery] = flush(emu)
        assert delivery["status"] == "failed"
        name = host.strip("[]").lower()
        assert delivery["failure_reason"] == (
            f"Webhook error: not delivered: webhook_url '{name}:{port}' is this emulator itself:"
            " never delivered"
        )
        journal = emu.http.get(f"{emu.url}/__admin/requests").json()["requests"]
        assert [(e["method"], e["path"]) for e in journal] == [("POST", "/api/v1/people/match")]
        assert emu.http.post(f"{emu.url}/api/v1/people/match", json={"email": NO_PHONE}).status_code == 200
