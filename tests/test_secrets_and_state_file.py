"""Secrets never rest unmasked, the state file is private and checked at start, exposure is warned of."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mock_server.domain.journal import mask_headers, mask_params, mask_secret
from mock_server.stores.sqlite_store import SqliteStore
from tests.conftest import ROOT, key_registry, start_serve
from tests.webhook_helpers import emulator

SECRET = "sk-live-0123456789abcdefSECRET"
TOKEN = "oauth-token-9876543210zyxwvuTOKEN"


def send_secrets_every_way(url: str) -> None:
    """Requests carrying SECRET and TOKEN in each place a client may put a key."""
    match = f"{url}/api/v1/people/match"
    requests.post(match, json={"email": "s@example.com"}, headers={"x-api-key": SECRET}, timeout=10)
    requests.post(match, json={"email": "s@example.com"}, headers={"x_api_key": SECRET}, timeout=10)
    requests.post(match, json={"email": "s@example.com"}, headers={"Authorization": f"Bearer {TOKEN}"})
    requests.post(match, json={"email": "s@example.com", "api_key": SECRET}, timeout=10)
    requests.get(match, params={"email": "s@example.com", "api_key": SECRET}, timeout=10)
    # A large body without a key is journaled only in part, unparsed: the secret in it masked too.
    requests.post(match, json={"api_key": SECRET, "padding": "x" * 40_000}, timeout=10)


def serve_once(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `fakeapollo serve` that is expected to refuse to start; its exit status and output."""
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_masks_keep_both_ends_and_never_show_a_short_key_whole() -> None:
    assert mask_secret("free-plan-key") == "fr…ey"
    assert mask_secret("load-test-key") == "lo…ey"
    assert mask_secret(SECRET) == "sk-l…CRET"
    assert [mask_secret(k) for k in ("a", "abcd", "abcde", "test-of-key")] == ["****", "****", "a…e", "te…ey"]
    assert mask_headers({"x_api_key": SECRET, "Authorization": f"Bearer {TOKEN}"}) == {
        "x_api_key": "sk-l…CRET",
        "Authorization": "Bearer oaut…OKEN",
    }
    assert mask_params({"api_key": "abc", "email": "a@b.c"}) == {"api_key": "****", "email": "a@b.c"}


def test_the_journal_in_memory_holds_no_key_whole() -> None:
    with emulator() as emu:
        send_secrets_every_way(emu.url)
        entries = emu.service.store.journal.entries()
        assert len(entries) == 6
        assert entries[-1].body.startswith('{"api_key": "sk-l…CRET", "padding": "xxx')
        assert SECRET not in repr(entries) and TOKEN not in repr(entries)
        assert {e.api_key for e in entries} >= {"sk-l…CRET"}


def test_the_state_file_is_private_and_holds_no_key_whole(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    server = start_serve("--state-file", str(state))
    try:
        send_secrets_every_way(server.url)
        shown = requests.get(f"{server.url}/__admin/requests", timeout=10).json()["requests"]
        assert len(shown) == 6 and SECRET not in str(shown)
        filtered = requests.get(f"{server.url}/__admin/requests", params={"api_key": SECRET}, timeout=10)
        assert len(filtered.json()["requests"]) >= 1  # a filter by the real key still finds its entries
    finally:
        server.stop()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    for path in tmp_path.iterdir():  # the database and whatever -wal/-shm SQLite left beside it
        content = path.read_bytes()
        assert SECRET.encode() not in content and TOKEN.encode() not in content, path


def test_the_banner_masks_the_keys_of_a_custom_registry(tmp_path: Path) -> None:
    keys = key_registry(
        tmp_path, {"key": SECRET, "team": "t", "plan": "professional", "credits": None, "scopes": None}
    )
    server = start_serve("--keys", str(keys))
    try:
        assert "(test keys: sk-l…CRET)" in server.banner and SECRET not in server.banner
    finally:
        server.stop()


def filled_state_file(path: Path) -> None:
    """A state file with enough journal rows to span many pages, checkpointed into the main file."""
    store = SqliteStore(path)
    with store.database.write() as db:
        for n in range(400):
            db.execute("INSERT INTO journal (seq, doc) VALUES (?, ?)", (n, "x" * 500))
    store.database.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.database.connection().close()


def assert_refused(result: subprocess.CompletedProcess[str], reason: str) -> None:
    """Exit status 2 and exactly one line naming the reason; no traceback."""
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert len(output.splitlines()) == 1, output
    assert output.startswith("fakeapollo: cannot start: state file ") and reason in output, output
    assert "Traceback" not in output


def test_a_state_file_with_garbage_in_its_pages_is_refused_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    filled_state_file(state)
    raw = bytearray(state.read_bytes())
    page = 4096
    raw[5 * page : 9 * page] = bytes(range(256)) * (4 * page // 256)
    state.write_bytes(bytes(raw))
    assert_refused(serve_once("--state-file", str(state)), "is damaged")


def test_a_file_that_is_no_database_is_refused_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    state.write_bytes(b"this is not SQLite at all\n" * 200)
    assert_refused(serve_once("--state-file", str(state)), "is not a usable SQLite database")


def test_a_database_of_another_program_is_refused_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with sqlite3.connect(state) as db:
        db.execute("CREATE TABLE journal (id INTEGER, something TEXT)")
    assert_refused(serve_once("--state-file", str(state)), "is not a fakeapollo state file")


def test_a_read_only_state_file_is_refused_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    SqliteStore(state)
    state.chmod(0o400)
    assert_refused(serve_once("--state-file", str(state)), "is read-only")


@pytest.mark.parametrize(
    ("args", "warned"),
    [
        (("--host", "0.0.0.0"), True),  # noqa: S104 - the case warned about; tests talk to loopback only
        (("--host", "0.0.0.0", "--admin-token", "t0ken"), False),  # noqa: S104
        (("--host", "0.0.0.0", "--no-admin"), False),  # noqa: S104
        (("--host", "127.0.0.1"), False),
    ],
)
def test_listening_beyond_loopback_with_an_open_control_api_is_warned_of(
    args: tuple[str, ...], warned: bool
) -> None:
    server = start_serve(*args)
    try:
        port = server.url.rsplit(":", 1)[1]
        assert requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).status_code == 200
    finally:
        server.stop()
    # The warning comes before the banner (start_serve keeps what was printed before it).
    assert ("fakeapollo: warning: listening on 0.0.0.0, beyond loopback" in server.before_banner) is warned
