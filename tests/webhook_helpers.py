"""Test support for webhooks: a real HTTP receiver and an emulator served with chosen settings."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from mock_server.config import Config
from mock_server.domain.service import Enrichment
from mock_server.domain.webhooks.delivery import Delivery
from mock_server.pytest_plugin import LiveServer, start_live_server
from mock_server.web.app import create_app

API_KEY = "test-key"
TEAM = "team-test"
# People of the default seed: with a mobile (and another number), with only a landline, with no phone.
WITH_MOBILE = "p0@phones.com"
LANDLINE_ONLY = "p3@phones.com"
NO_PHONE = "p6@phones.com"


def stored_delivery(delivery_id: str, status: str = "pending", due_at: float = 0.0) -> Delivery:
    """A delivery as a store keeps it, with only what the store tests look at set."""
    return Delivery.from_document(
        {
            "id": delivery_id,
            "request_id": 1,
            "request_type": "phone",
            "webhook_url": "http://127.0.0.1:9/hook",
            "team": TEAM,
            "payload": {},
            "due_at": due_at,
            "status": status,
        }
    )


def ids(deliveries: list[Delivery]) -> list[str]:
    """The ids of `deliveries`, in order."""
    return [d.id for d in deliveries]


class Receiver:
    """A webhook receiver on 127.0.0.1: records every body, answers queued statuses (then 200)."""

    def __init__(self, statuses: list[int] | None = None, hang: float = 0.0) -> None:
        self.bodies: list[dict[str, Any]] = []
        # Set hold_first to hold the first POST until `release` is set, then drop it unanswered
        # (its sender never learns it arrived); its body goes to `held`, not `bodies`.
        self.hold_first = False
        self.held: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.statuses = list(statuses or [])
        self.hang = hang
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with receiver._lock:
                    hold = receiver.hold_first and not receiver.held
                    if hold:
                        receiver.held.append(body)
                        receiver._lock.notify_all()
                if hold:
                    receiver.release.wait(60)
                    return
                if receiver.hang:
                    time.sleep(receiver.hang)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.bodies.append(body)
                    receiver.paths.append(self.path)
                    receiver.headers.append(dict(self.headers))
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The bodies once at least `count` arrived; fails after `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.bodies) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhook(s), got {len(self.bodies)}")
                self._lock.wait(left)
            return list(self.bodies)

    def close(self) -> None:
        """Let a held request go and stop listening."""
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Emulator:
    """A served emulator with its own settings, and shortcuts for the calls webhook tests make."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.url = server.url
        self.http = requests.Session()
        self.http.headers["x-api-key"] = API_KEY

    @property
    def service(self) -> Enrichment:
        """The in-process service."""
        service: Enrichment = self.server.app.extensions["fakeapollo"]
        return service

    def match(self, email: str, url: str, headers: dict[str, str] | None = None, **flags: Any) -> Any:
        """people/match for `email` with a webhook to `url` (phone reveal unless other flags)."""
        body = {"email": email, "webhook_url": url, **(flags or {"reveal_phone_number": True})}
        return self.http.post(f"{self.url}/api/v1/people/match", json=body, headers=headers or {})

    def freeze(self) -> None:
        """Stop the emulator's clock."""
        assert self.http.post(f"{self.url}/__admin/clock", json={"freeze": True}).status_code == 200

    def advance(self, seconds: float) -> None:
        """Advance the emulator's clock; what falls due is sent before this returns."""
        response = self.http.post(f"{self.url}/__admin/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def deliveries(self) -> list[dict[str, Any]]:
        """GET /__admin/webhooks."""
        response = self.http.get(f"{self.url}/__admin/webhooks")
        assert response.status_code == 200
        deliveries: list[dict[str, Any]] = response.json()["deliveries"]
        return deliveries

    def poll(self, request_id: Any, prefix: str = "/api/v1") -> requests.Response:
        """GET webhook_result/<request_id>."""
        return self.http.get(f"{self.url}{prefix}/webhook_result/{request_id}")


@contextmanager
def emulator(**settings: Any) -> Iterator[Emulator]:
    """An emulator served on a free loopback port with `settings`, stopped (with its threads) after."""
    server = start_live_server(create_app(Config(**settings)))
    handle = Emulator(server)
    try:
        yield handle
    finally:
        handle.http.close()
        handle.service.close()
        # Werkzeug's server notices a shutdown only every half second: let it go in the background.
        threading.Thread(target=server.stop, daemon=True).start()


@contextmanager
def receiver(statuses: list[int] | None = None, hang: float = 0.0) -> Iterator[Receiver]:
    """A webhook receiver for one test."""
    handle = Receiver(statuses, hang)
    try:
        yield handle
    finally:
        handle.close()
