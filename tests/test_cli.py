"""The `fakeapollo` command: serve's banner, environment settings, clean stops, openapi, validate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import requests

from tests.conftest import ROOT, ServeProcess, start_serve


def test_serve_prints_one_line_with_url_and_test_keys(served: ServeProcess) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    assert "test-key" in served.banner and "free-plan-key" in served.banner
    assert "load-test-key" in served.banner


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_cleanly_on_signal(sig: int) -> None:
    server = start_serve()
    assert requests.get(server.url + "/openapi.json", timeout=10).status_code == 200
    assert server.stop(sig) == 0
    assert server.process.stdout is not None
    rest = server.process.stdout.read()
    assert "Traceback" not in rest


def test_serve_reads_settings_from_the_environment() -> None:
    server = start_serve(env={"FAKEAPOLLO_SEED": "7", "FAKEAPOLLO_LEGACY_API_KEY": "true"})
    reference = start_serve("--seed", "7")
    try:
        body = {"email": "env@example.com", "api_key": "test-key"}
        from_env = requests.post(f"{server.url}/api/v1/people/match", json=body, timeout=10)
        assert from_env.status_code == 200  # legacy mode came from the environment
        seeded = requests.post(
            f"{reference.url}/api/v1/people/match",
            json={"email": "env@example.com"},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )
        assert from_env.json()["person"] == seeded.json()["person"]
    finally:
        server.stop()
        reference.stop()


def test_serve_binds_to_loopback_by_default(served: ServeProcess) -> None:
    assert "127.0.0.1" in served.url


def test_custom_key_registry_is_used(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps(
            {
                "keys": [
                    {
                        "key": "my-own-key",
                        "team": "mine",
                        "plan": "professional",
                        "credits": 5,
                        "scopes": None,
                    }
                ]
            }
        )
    )
    server = start_serve("--keys", str(keys))
    try:
        url = f"{server.url}/api/v1/people/match"
        mine = requests.post(url, json={"email": "k@example.com"}, headers={"x-api-key": "my-own-key"})
        default = requests.post(url, json={"email": "k@example.com"}, headers={"x-api-key": "test-key"})
        assert mine.status_code == 200
        assert default.status_code == 401
        assert "(test keys: my…ey)" in server.banner and "my-own-key" not in server.banner
    finally:
        server.stop()


def test_openapi_command_prints_the_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "openapi"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert json.loads(result.stdout)["openapi"].startswith("3.1")


def test_validate_command_reports_violations(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    good = tmp_path / "good.json"
    bad = tmp_path / "bad.json"
    good.write_text(json.dumps({"person": None}))
    bad.write_text(json.dumps({"person": {"id": 123}}))
    command = [sys.executable, "-m", "mock_server", "validate", "people_match.response"]
    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, cwd=ROOT)
    wrong = subprocess.run([*command, str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0
    assert wrong.returncode == 1
    assert "$.person.id" in wrong.stderr


def test_console_script_help_lists_the_serve_options() -> None:
    result = (
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "fakeapollo"), "serve", "--help"], capture_output=True, text=True
        )
        if (ROOT / ".venv" / "bin" / "fakeapollo").exists()
        else subprocess.run(
            [sys.executable, "-m", "mock_server", "serve", "--help"], capture_output=True, text=True, cwd=ROOT
        )
    )
    assert result.returncode == 0
    for option in ("--host", "--port", "--seed", "--fixtures", "--keys", "--legacy-api-key"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("flag", "content", "expected"),
    [
        ("--keys", '{"keys": [{"key": 1}]}', "$.keys[0].key: 1 is not of type 'string'"),
        ("--keys", "not json", "cannot start"),
        ("--fixtures", '{"id": 5}', "$.id: 5 is not of type 'string'"),
    ],
)
def test_serve_refuses_bad_files_with_a_clear_message(
    tmp_path: object, flag: str, content: str, expected: str
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    target = tmp_path / "keys.json"
    target.write_text(content)
    argument = str(tmp_path) if flag == "--fixtures" else str(target)
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", flag, argument],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_missing_key_file() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--keys", "/nonexistent/keys.json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "/nonexistent/keys.json" in result.stderr


def test_a_redis_store_without_the_redis_extra_names_the_extra_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mock_server import cli

    # As in an environment where `pip install fakeapollo` brought no redis-py.
    loaded = [m for m in sys.modules if m.split(".")[0] == "redis" or m.startswith("mock_server.stores.redi")]
    for name in loaded:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "redis", None)
    assert cli.main(["serve", "--store", "redis://127.0.0.1:1/"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pip install 'fakeapollo[redis]'" in err


def test_the_command_line_is_parsed_without_loading_what_only_contract_commands_use() -> None:
    # `fakeapollo serve` builds the whole parser first: its start-up must not pay for check-client's
    # and verify's machinery (bench/ measures the start-up to the first answer).
    probe = (
        "import sys; from mock_server import cli; cli.build_parser(); "
        "heavy = ('hypothesis', 'pytest', 'flask', 'urllib.request', 'mock_server.domain.generation'); "
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
