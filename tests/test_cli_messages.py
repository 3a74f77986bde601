"""What the command line tells a user: settings from one table, mistakes named with the fix."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mock_server.config import (
    SETTINGS,
    TABLE_END,
    TABLE_START,
    default_text,
    env_name,
    flag_name,
    markdown_table,
)
from tests.conftest import ROOT, start_serve
from tests.test_settings import run_cli


def _flat(text: str) -> str:
    """Help text with argparse's line wrapping undone."""
    return re.sub(r"\s+", " ", text)


def test_the_settings_table_in_the_docs_is_the_one_config_makes() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    shown = page.split(TABLE_START + "\n")[1].split(TABLE_END)[0]
    assert shown == markdown_table(), "docs/configuration.md is stale: run `make settings-table`"
    assert len(shown.splitlines()) == len(SETTINGS) + 2


def test_serve_help_lists_every_setting_with_its_variable_and_default() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    shown = _flat(result.stdout)
    for name in SETTINGS:
        assert flag_name(name) in shown, name
        assert f"[{env_name(name)}]" in shown, name
        assert f"default {_flat(default_text(name))}" in shown, name
    # Settings that once existed only as variables or fakeapollo_options names are flags now.
    for flag in ("--unauthorized-message", "--max-body-bytes", "--webhook-phone-request-id"):
        assert flag in shown


def test_a_setting_that_was_environment_only_works_as_a_flag() -> None:
    server = start_serve("--unauthorized-message", "Nope.", "--max-body-bytes", "2048")
    try:
        refused = requests.post(
            f"{server.url}/api/v1/people/match", json={"email": "a@example.com"}, timeout=10
        )
        assert (refused.status_code, refused.text) == (401, "Nope.")
        big = requests.post(
            f"{server.url}/api/v1/people/match",
            json={"email": "a" * 4000 + "@example.com"},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )
        assert big.status_code == 413
    finally:
        server.stop()


def test_a_mistyped_environment_variable_is_named_with_the_closest_one() -> None:
    server = start_serve(env={"FAKEAPOLLO_PROT": "21770", "FAKEAPOLLO_WEBHOOK_DELAYS": "0"})
    try:
        warnings = server.before_banner
    finally:
        server.stop()
    assert (
        "fakeapollo serve: warning: FAKEAPOLLO_PROT is not a setting and is ignored; "
        "did you mean FAKEAPOLLO_PORT?"
    ) in warnings
    assert "did you mean FAKEAPOLLO_WEBHOOK_DELAY?" in warnings


def test_a_mistyped_flag_prints_the_usage_and_the_closest_flag() -> None:
    result = run_cli("serve", "--prot", "21770")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: fakeapollo serve ")
    assert result.stderr.rstrip().endswith(
        "fakeapollo serve: unrecognized arguments: --prot 21770; did you mean --port?"
    )
    assert "Traceback" not in result.stderr


def test_fakeapollo_alone_lists_the_commands() -> None:
    script = Path(sys.executable).with_name("fakeapollo")  # `python -m mock_server` alone serves
    result = subprocess.run(
        [str(script)], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 2
    for command in ("serve", "record", "check-client", "verify", "openapi", "validate"):
        assert re.search(rf"^\s+{command}\s+\w", result.stderr, re.M), command
    assert result.stderr.rstrip().endswith("fakeapollo: a command is needed (listed above)")


def test_record_errors_name_the_command() -> None:
    result = run_cli("record", "--upstream", "https://api.apollo.io", "--out", "unused")
    assert result.returncode == 2
    assert result.stderr.startswith("fakeapollo record: APOLLO_API_KEY is not set")


@pytest.mark.parametrize(
    ("command", "words"),
    [("openapi", "Print the OpenAPI 3.1 document"), ("validate", "Validate a JSON document")],
)
def test_every_command_describes_itself_in_its_help(command: str, words: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert words in _flat(result.stdout)


def test_check_client_help_says_how_many_cases_the_capped_properties_run() -> None:
    from contract_tests.check_client import CAPPED_EXAMPLES
    from contract_tests.contract import property_named

    result = run_cli("check-client", "--help")
    shown = _flat(result.stdout)
    for name, cap in CAPPED_EXAMPLES.items():
        assert property_named(name).max_examples == cap
        assert f"{name} runs at most {cap}" in shown
    guide = _flat((ROOT / "docs" / "contract-testing.md").read_text(encoding="utf-8"))
    limited, timeouts = CAPPED_EXAMPLES["rate_limited"], CAPPED_EXAMPLES["timeouts"]
    assert f"(`rate_limited` at most {limited} and `timeouts` {timeouts}," in guide


@pytest.mark.parametrize("page", ["README.md", "docs/contract-testing.md"])
def test_the_synopsis_of_check_client_names_every_flag(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    synopsis = next(block for block in text.split("```") if "fakeapollo check-client --cmd" in block)
    result = run_cli("check-client", "--help")
    flags = set(re.findall(r"--[a-z-]+", result.stdout)) - {"--help"}
    assert flags == set(re.findall(r"--[a-z-]+", synopsis))


def test_check_client_against_a_protected_emulator_says_to_pass_the_admin_token() -> None:
    server = start_serve("--admin-token", "s3cret")
    try:
        result = run_cli("check-client", "--cmd", "true", "--base-url", server.url)
        given = run_cli("check-client", "--cmd", "true", "--base-url", server.url, "--admin-token", "wrong")
    finally:
        server.stop()
    assert result.returncode == 2
    assert "answered 401: it needs the token the emulator was started with: pass --admin-token TOKEN" in (
        result.stderr
    )
    assert given.returncode == 2 and "the --admin-token given was refused" in given.stderr


def test_every_flag_the_readme_names_for_serve_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n")[1].split("\n## ")[0]
    named = set(re.findall(r"`(--[a-z-]+)", section))
    assert named, "the README's Configuration section names no flag"
    assert named <= {flag_name(name) for name in SETTINGS}
