"""A bad argument or input file gets one line naming it and exit status 2: never a traceback or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

REGISTRY_ENTRY = {"key": "k", "team": "t", "plan": "custom", "credits": 5, "scopes": None}


def fakeapollo(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """`python -m mock_server ARGS` as a user runs it, with `stdin` on its standard input."""
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode(errors="replace")
    )


def assert_refused(result: subprocess.CompletedProcess[str], line: str) -> None:
    """Exit status 2 and `line` as the last line of stderr, with no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == line


def registry(**entry: object) -> bytes:
    """A key registry of one entry, REGISTRY_ENTRY with `entry`'s changes."""
    return json.dumps({"keys": [{**REGISTRY_ENTRY, **entry}]}).encode()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"keys": [{"team": "caf\xe9"}]}', "is not valid UTF-8 (byte 23)"),
        ('{"keys": []}'.encode("utf-16"), "is not valid UTF-8 (byte 0)"),
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply to read"),
        (b'{"keys": [], "n": ' + b"7" * 5_001 + b"}", "holds an integer longer than 4,300 digits"),
        (b'{"keys": [], "n": 1e400}', "holds a number too large for a float: 1e400"),
    ],
)
def test_validate_refuses_a_file_it_cannot_read_as_json_in_one_line(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    document = tmp_path / "doc.json"
    document.write_bytes(content)
    assert_refused(fakeapollo("validate", "key_registry", str(document)), f"{document} {problem}")


def test_validate_refuses_a_document_nested_100000_deep_on_stdin() -> None:
    result = fakeapollo("validate", "key_registry", "-", stdin=b"[" * 100_000 + b"]" * 100_000)
    assert_refused(result, "- is nested too deeply to read")


def test_validate_refuses_a_fifo_instead_of_waiting_on_it(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = fakeapollo("validate", "key_registry", str(fifo))
    assert_refused(result, f"cannot read {fifo}: not a regular file")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_validate_refuses_a_registry_with_nan_or_infinite_credits_as_serve_does(constant: str) -> None:
    text = registry().replace(b'"credits": 5', b'"credits": ' + constant.encode())
    result = fakeapollo("validate", "key_registry", "-", stdin=text)
    assert_refused(result, f"- is not valid JSON: {constant} is not a JSON number")


def test_validate_holds_a_registry_to_what_serve_checks_past_its_schema() -> None:
    limits = {"minute": 1.0, "hour": None, "day": None}
    result = fakeapollo("validate", "key_registry", "-", stdin=registry(limits=limits))
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "does not conform to key_registry (1 violation(s)):",
        "  $.keys[0].limits.minute: must be an integer or null, got 1.0 (write 1)",
    ]


def test_validate_still_accepts_a_good_registry_on_stdin() -> None:
    result = fakeapollo("validate", "key_registry", "-", stdin=registry())
    assert (result.returncode, result.stdout) == (0, "-: valid key_registry\n")


@pytest.mark.parametrize("value", ["1e300", "1e309", "-1", "nan", "0", "3600.5"])
def test_verify_refuses_a_timeout_out_of_its_range_naming_the_flag(value: str) -> None:
    result = fakeapollo(
        "verify", "--base-url", "http://127.0.0.1:9", "--api-key", "k", "--max-credits", "100",
        "--timeout", value,
    )  # fmt: skip
    assert_refused(
        result, f"fakeapollo verify: argument --timeout: must be a number from 0.001 to 3600, got '{value}'"
    )


@pytest.mark.parametrize(
    ("flag", "value", "range_"),
    [
        ("--timeout", "nan", "a number from 0.001 to 3600"),
        ("--timeout", "1e309", "a number from 0.001 to 3600"),
        ("--timeout", "-1", "a number from 0.001 to 3600"),
        ("--timeout", "0", "a number from 0.001 to 3600"),
        ("--examples", "99999999999999999999999", "a whole number from 1 to 10000"),
        ("--examples", "0", "a whole number from 1 to 10000"),
        ("--seed", "-1", "a whole number from 0 to 18446744073709551615"),
        ("--seed", str(2**64), "a whole number from 0 to 18446744073709551615"),
    ],
)
def test_check_client_refuses_a_number_out_of_its_range_naming_the_flag(
    flag: str, value: str, range_: str
) -> None:
    result = fakeapollo("check-client", "--cmd", "true", "--property", "valid_requests", flag, value)
    assert_refused(result, f"fakeapollo check-client: argument {flag}: must be {range_}, got '{value}'")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://x", ""),
        ("http://[::1", " (Invalid IPv6 URL)"),
        ("http://127.0.0.1:99999", " (Port out of range 0-65535)"),
        ("http://127.0.0.1:0", " (port 0 is no server's)"),
    ],
)
def test_check_client_refuses_a_base_url_that_is_not_http_host_port(url: str, why: str) -> None:
    result = fakeapollo("check-client", "--cmd", "true", "--base-url", url)
    refusal = f"not an http(s)://host[:port] URL{why}: {url!r}"
    assert_refused(result, f"fakeapollo check-client: argument --base-url: {refusal}")
