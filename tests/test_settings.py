"""Every setting, flag or FAKEAPOLLO_* variable, is checked: one line naming it, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mock_server import __version__
from mock_server.cli import main
from mock_server.config import Config, SettingError, parse_setting
from tests.conftest import ROOT, people_match, start_serve


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m mock_server ARGS` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "mock_server", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "argument --port: must be a whole number from 0 to 65535, got '99999'"),
        (["--port", "74640"], "argument --port: must be a whole number from 0 to 65535, got '74640'"),
        (["--port", "-1"], "argument --port: must be a whole number from 0 to 65535, got '-1'"),
        (["--threads", "0"], "argument --threads: must be a whole number from 1 to 1024, got '0'"),
        (["--bulk-share", "nan"], "argument --bulk-share: must be a number from 0.001 to 1, got 'nan'"),
        (["--webhook-timeout", "inf"], "argument --webhook-timeout: must be a number from 0.001 to 600"),
        (
            ["--webhook-duplicate-rate", "2"],
            "argument --webhook-duplicate-rate: must be a number from 0 to 1",
        ),
        (["--journal-size", "x"], "argument --journal-size: must be a whole number from 1 to 1000000"),
    ],
)
def test_a_bad_flag_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", *args])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fakeapollo serve: {message}")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FAKEAPOLLO_PORT", "abc", "FAKEAPOLLO_PORT must be a whole number from 0 to 65535, got 'abc'"),
        ("FAKEAPOLLO_PORT", "99999", "FAKEAPOLLO_PORT must be a whole number from 0 to 65535, got '99999'"),
        (
            "FAKEAPOLLO_LEGACY_API_KEY",
            "maybe",
            "FAKEAPOLLO_LEGACY_API_KEY must be one of true, 1, yes, false, 0, no, got 'maybe'",
        ),
        ("FAKEAPOLLO_BULK_SHARE", "nan", "FAKEAPOLLO_BULK_SHARE must be a number from 0.001 to 1, got 'nan'"),
        (
            "FAKEAPOLLO_OUT_OF_CREDITS",
            "explode",
            "FAKEAPOLLO_OUT_OF_CREDITS must be one of error, no_match, got 'explode'",
        ),
        ("FAKEAPOLLO_MAX_BODY_BYTES", "1e3", "FAKEAPOLLO_MAX_BODY_BYTES must be a whole number from 1024"),
    ],
)
def test_a_bad_environment_variable_is_one_line_naming_it(variable: str, value: str, message: str) -> None:
    result = run_cli("serve", "--port", "0", env={variable: value})
    assert result.returncode == 2
    assert result.stderr.startswith(f"fakeapollo serve: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("word", "value"), [("true", True), ("YES", True), ("1", True), ("no", False), ("0", False)]
)
def test_booleans_take_the_usual_words(word: str, value: bool) -> None:
    assert Config.from_env({"FAKEAPOLLO_LEGACY_API_KEY": word}).legacy_api_key is value


def test_settings_given_in_code_are_checked_too() -> None:
    with pytest.raises(SettingError, match="--port must be a whole number from 0 to 65535, got 70000"):
        Config(port=70000).check()
    with pytest.raises(SettingError, match="--webhook-backoff must be a number from 0 to 86400, got nan"):
        Config(webhook_backoff=float("nan")).check()
    Config().check()


def test_a_number_in_range_is_read_as_its_type() -> None:
    assert parse_setting("port", " 8080 ") == 8080
    assert parse_setting("webhook_duplicate_rate", "0.25") == 0.25


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"fakeapollo {__version__}\n"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--host", "a" * 100_000], {}, "argument --host: must be at most 1,000 characters, got 100,000"),
        (
            ["--unauthorized-message", "x" * 1_001],
            {},
            "argument --unauthorized-message: must be at most 1,000 characters, got 1,001",
        ),
        (
            [],
            {"FAKEAPOLLO_UNAUTHORIZED_MESSAGE": "x" * 1_001},
            "FAKEAPOLLO_UNAUTHORIZED_MESSAGE must be at most 1,000 characters, got 1,001",
        ),
        (
            ["--host", ""],
            {},
            "argument --host: must not be empty (write 0.0.0.0 to listen on every interface), got ''",
        ),
        (
            ["--host", "[::1"],
            {},
            "argument --host: has unbalanced brackets (write an IPv6 address as ::1 or [::1]), got '[::1'",
        ),
        (["--admin-token", ""], {}, "argument --admin-token: must not be empty, got ''"),
        ([], {"FAKEAPOLLO_ADMIN_TOKEN": ""}, "FAKEAPOLLO_ADMIN_TOKEN must not be empty, got ''"),
        (
            ["--admin-token", "ab\ncd"],
            {},
            "argument --admin-token: must not hold control characters (a line break, a tab, ...),"
            " got 'ab\\ncd'",
        ),
        (["--keys", ""], {}, "argument --keys: must not be an empty path, got ''"),
        (["--state-file", ""], {}, "argument --state-file: must not be an empty path, got ''"),
        ([], {"FAKEAPOLLO_STATE_FILE": ""}, "FAKEAPOLLO_STATE_FILE must not be an empty path, got ''"),
    ],
)
def test_a_text_setting_empty_too_long_or_unusable_is_one_line_naming_it(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli("serve", "--port", "0", *args, env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.endswith(f"fakeapollo serve: {message}\n"), result.stderr
    assert "Traceback" not in result.stderr


def test_a_host_name_no_resolver_can_encode_is_one_line_naming_it() -> None:
    host = "a" * 70  # one label past the 63 characters a host name's label may have
    result = run_cli("serve", "--port", "0", "--host", host)
    assert result.returncode == 2
    assert result.stderr == f"fakeapollo: cannot start: cannot listen on {host}:0: not a valid host name\n"


def test_an_admin_token_file_whose_token_holds_a_control_character_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("ab\x01cd\n", encoding="utf-8")
    result = run_cli("serve", "--port", "0", "--admin-token-file", str(path))
    assert result.returncode == 2
    assert result.stderr == (
        f"fakeapollo serve: --admin-token-file {path}: its first line must not hold control characters"
        " (a line break, a tab, ...)\n"
    )


@pytest.mark.parametrize("delay", ["1e308", "0-1e300", "31536001"])
def test_a_webhook_delay_past_a_year_is_refused_at_start_naming_the_flag(delay: str) -> None:
    result = run_cli("serve", "--port", "0", "--webhook-delay", delay)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "fakeapollo serve: --webhook-delay must be seconds from 0 to 31536000 (a year) like 5,"
        f" or a range like 2-10, got {delay!r}\n"
    )


def test_a_webhook_delay_of_a_year_starts() -> None:
    server = start_serve("--webhook-delay", "0-31536000")
    try:
        assert people_match(server.url).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "\u0663"], "argument --port: must be a whole number from 0 to 65535, got '\u0663'"),
        (
            ["--webhook-timeout", "\uff15"],
            "argument --webhook-timeout: must be a number from 0.001 to 600, got '\uff15'",
        ),
    ],
)
def test_a_number_setting_in_digits_other_than_ascii_is_refused(args: list[str], message: str) -> None:
    result = run_cli("serve", "--port", "0", *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.endswith(f"fakeapollo serve: {message}\n"), result.stderr
