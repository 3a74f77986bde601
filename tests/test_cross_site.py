"""The control API against other sites' pages, DNS rebinding and webhook deliveries, over real HTTP."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from conftest import Pair, ServeProcess, raw, start_serve

# The headers Chrome sends with `fetch(url, {method: "POST", mode: "no-cors", body, headers:
# {"Content-Type": "application/x-www-form-urlencoded"}})` from a page on https://attacker.example.
NO_CORS_FROM_ATTACKER = {
    "Origin": "https://attacker.example",
    "Referer": "https://attacker.example/",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "empty",
    "Content-Type": "application/x-www-form-urlencoded",
}



def scenarios(server: ServeProcess) -> list[Any]:
    answer = requests.get(f"{server.url}/__admin/scenarios", timeout=10)
    assert answer.status_code == 200, answer.text
    listed: list[Any] = answer.json()["scenarios"]
    return listed


@pytest.fixture(scope="module")
def server() -> Any:
    """A `fakeapollo serve` with the control API open, as on a developer's machine."""
    process = start_serve()
    yield process
    process.stop()


def test_a_no_cors_post_from_another_site_queues_nothing(server: ServeProcess) -> None:
    body = b'{"outcome":"server_error"}'
    answer = raw(server.url, "POST", "/__admin/scenarios", body, **NO_CORS_FROM_ATTACKER)
    assert answer == (
        403,
        {
            "error": "fakeapollo: refused a request another site started (Sec-Fetch-Site: cross-site)",
            "error_code": "CROSS_SITE_REQUEST_REFUSED",
        },
    )
    # A browser without Sec-Fetch-* headers still sends Origin.
    older = {k: v for k, v in NO_CORS_FROM_ATTACKER.items() if not k.startswith("Sec-")}
    assert raw(server.url, "POST", "/__admin/clock", b'{"freeze":true}', **older) == (
        403,
        {
            "error": "fakeapollo: refused a request from another origin ('https://attacker.example')",
            "error_code": "CROSS_SITE_REQUEST_REFUSED",
        },
    )
    # Without Origin too (a very old browser, a plain form): the form's content type is refused.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, refusal = raw(server.url, "POST", "/__admin/keys", b'{"key":"evil-key-1234"}', **form)
    assert (status, refusal["error_code"]) == (415, "JSON_REQUIRED")
    for path in ("/__admin/reset", "/__admin/clock/advance"):
        assert raw(server.url, "POST", path, b'{"seconds":60}', **NO_CORS_FROM_ATTACKER)[0] == 403
    assert scenarios(server) == []
    assert requests.get(f"{server.url}/__admin/clock", timeout=10).json()["frozen"] is False
    assert "evil-key-1234" not in requests.get(f"{server.url}/__admin/keys", timeout=10).text


def test_a_rebound_host_name_reads_and_changes_nothing(server: ServeProcess) -> None:
    port = urlsplit(server.url).port
    rebound = f"attacker.example:{port}"
    # After DNS rebinding the page is same-origin with itself: Origin and Host both name the attacker.
    same = {"Host": rebound, "Origin": f"http://{rebound}", "Sec-Fetch-Site": "same-origin"}
    status, journal = raw(server.url, "GET", "/__admin/requests", **same)
    assert (status, journal["error_code"]) == (403, "CROSS_SITE_REQUEST_REFUSED")
    assert journal["error"].startswith(f"fakeapollo: Host '{rebound}' is not this server")
    queued = raw(
        server.url,
        "POST",
        "/__admin/scenarios",
        b'{"outcome":"server_error"}',
        **same,
        **{"Content-Type": "application/json"},
    )
    assert queued[0] == 403 and scenarios(server) == []


def test_the_servers_own_pages_and_plain_clients_still_work(server: ServeProcess) -> None:
    port = urlsplit(server.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        # What the inspector page sends (same origin), and what curl and the plugin send (no Origin).
        page = {"Host": host, "Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"}
        queued = raw(
            server.url,
            "POST",
            "/__admin/scenarios",
            b'{"outcome":"server_error"}',
            **page,
            **{"Content-Type": "application/json"},
        )
        assert queued[0] == 201, queued
        assert raw(server.url, "DELETE", "/__admin/scenarios", **page)[0] == 200
        assert raw(server.url, "POST", "/__admin/reset", Host=host)[0] == 200


def test_allowed_hosts_name_the_server_for_the_control_api() -> None:
    server = start_serve("--allowed-hosts", "fakeapollo.internal", "--allowed-hosts", "*.svc.local")
    try:
        port = urlsplit(server.url).port
        for host in ("fakeapollo.internal", f"api.svc.local:{port}"):
            assert raw(server.url, "GET", "/__admin/clock", Host=host)[0] == 200
        assert raw(server.url, "GET", "/__admin/clock", Host="svc.local.attacker.example")[0] == 403
    finally:
        server.stop()


@pytest.mark.serve_flags("--webhook-delay", "0")
def test_a_webhook_aimed_at_a_sibling_processs_control_api_resets_nothing(pair: Pair) -> None:
    # A third process of the same deployment (same Redis, same prefix): a sibling to both others.
    args = list(pair.servers[0].process.args)
    store = args.index("--store")
    sibling = start_serve(*args[store : store + 6])
    try:
        queued = requests.post(
            f"{sibling.url}/__admin/scenarios",
            json={"outcome": "server_error", "match": {"params": {"email": "x@y.com"}}},
            timeout=10,
        )
        assert queued.status_code == 201, queued.text
        before = pair.admin(1, "GET", "/requests")["requests"]
        for index, target in ((0, "/__admin/reset"), (1, "/__admin/clock")):
            answer = pair.post(
                index,
                "/api/v1/people/match",
                "hooks-key",
                {
                    "email": f"victim{index}@acme.com",
                    "reveal_phone_number": True,
                    "webhook_url": f"{sibling.url}{target}",
                },
            )
            assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 30
        deliveries: list[Any] = []
        while time.monotonic() < deadline:
            for index in (0, 1):
                pair.admin(index, "POST", "/webhooks/flush")
            deliveries = pair.admin(0, "GET", "/webhooks")["deliveries"]
            if len(deliveries) == 2 and all(d["attempts"] for d in deliveries):
                break
            time.sleep(0.2)
        # Nothing was reset: the scenario is queued and the journal still holds what it held.
        assert len(scenarios(sibling)) == 1
        after = pair.admin(1, "GET", "/requests")["requests"]
        assert [e["id"] for e in before] == [e["id"] for e in after[: len(before)]]
        assert {a["status"] for d in deliveries for a in d["attempts"]} == {403}
    finally:
        sibling.stop()


def test_the_admin_token_can_come_from_a_file_or_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file-7c1e\n")
    from_file = start_serve("--admin-token-file", str(token_file))
    from_env = start_serve(env={"FAKEAPOLLO_ADMIN_TOKEN": "from-the-env-93ab"})
    try:
        for server, token in ((from_file, "from-a-file-7c1e"), (from_env, "from-the-env-93ab")):
            cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
            assert token.encode() not in cmdline
            url = f"{server.url}/__admin/clock"
            assert requests.get(url, timeout=10).status_code == 401
            assert (
                requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
            )
    finally:
        from_file.stop()
        from_env.stop()
    assert os.environ.get("FAKEAPOLLO_ADMIN_TOKEN") is None
