"""Small hardening: an `Upgrade: websocket` request on serve and record, and recorded ids as file names."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mock_server.recording.writer import RecordingWriter
from tests.conftest import ServeProcess, key_registry
from tests.recording_helpers import UPSTREAM_KEYS, recorder, upstream_journal
from tests.webhook_helpers import emulator

# A browser's WebSocket handshake (RFC 6455 4.1).
HANDSHAKE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def _get(url: str, path: str, **headers: str) -> tuple[int, str, Any]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("content-type") or "", json.loads(response.read())
    finally:
        connection.close()


def test_a_websocket_handshake_on_serve_is_answered_as_plain_http(served: ServeProcess) -> None:
    assert _get(served.url, "/__admin/clock", **HANDSHAKE)[:2] == (200, "application/json")
    status, content_type, body = _get(served.url, "/api/v1/people/nobody", **HANDSHAKE)
    assert (status, content_type) == (404, "application/json") and "error" in body
    status, _, body = _get(
        served.url, "/api/v1/usage_stats/api_usage_stats", **HANDSHAKE, **{"x-api-key": "test-key"}
    )
    assert status == 200


@pytest.mark.slow
def test_a_websocket_handshake_on_record_is_answered_as_plain_http(tmp_path: Path) -> None:
    with emulator(keys=key_registry(tmp_path, UPSTREAM_KEYS)) as upstream:
        with recorder(upstream.url, tmp_path / "rec") as rec:
            nowhere = _get(rec.url, "/elsewhere", **HANDSHAKE)
            health = _get(rec.url, "/api/v1/usage_stats/api_usage_stats", **HANDSHAKE, **{"x-api-key": "k"})
        journal = upstream_journal(upstream.url)
    assert nowhere == (404, "application/json", {"error": "Not Found"})
    assert health[:2] == (200, "application/json; charset=utf-8")  # Apollo's (docs/apollo-facts.md 3.4)
    assert [e["path"] for e in journal] == ["/api/v1/usage_stats/api_usage_stats"]
    assert not any(k.lower() == "upgrade" for k in journal[0]["headers"])


def test_ids_that_differ_only_in_unsafe_characters_get_different_files(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, secret="not-a-key-at-all", scrub=False)
    answers = [{"person": {"id": person_id, "first_name": person_id}} for person_id in ("a/b", "a_b", "../x")]
    for answer in answers:
        writer.persons("/api/v1/people/match", answer, answer, {})
    files = sorted((tmp_path / "persons").iterdir())
    assert len(files) == 3 and all(f.parent == tmp_path / "persons" for f in files)
    assert sorted(json.loads(f.read_text())["id"] for f in files) == ["../x", "a/b", "a_b"]
