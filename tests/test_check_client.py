"""`fakeapollo check-client`: the contract against clients run as commands, in any language."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from contract_tests import check_command
from contract_tests.contract import PROPERTIES

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "examples" / "clients"
PYTHON = sys.executable


def fakeapollo(*args: str, timeout: float = 120, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mock_server", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_client_passes() -> None:
    result = fakeapollo("check-client", "--cmd", f"node {CLIENTS / 'js_client.mjs'}", "--examples", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (
        "match",
        "no_match",
        "partial",
        "unauthorized",
        "rate_limited",
        "bulk",
        "idempotent_webhooks",
        "search_then_enrich",
    ):
        assert any(line.split()[:2] == [name, "passed"] for line in result.stdout.splitlines()), result.stdout
    assert "14 passed, 0 failed" in result.stdout


@pytest.mark.slow
def test_the_python_client_as_a_command_leaves_only_progress_on_stderr_after_a_hung_connection() -> None:
    # Every property passes against a running emulator below; here check-client's own emulator
    # serves the two properties that hold or break connections.
    properties = ["timeouts", "server_error"]
    result = fakeapollo(
        "check-client",
        "--cmd",
        f"{PYTHON} {CLIENTS / 'python_client.py'}",
        "--examples",
        "2",
        *(arg for name in properties for arg in ("--property", name)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 0 failed, 0 skipped" in result.stdout
    # Quiet: the hung connection of `timeouts` used to leave a cancelled task and a traceback behind.
    lines = result.stderr.splitlines()
    assert len(lines) == len(properties), result.stderr
    assert all(line.startswith("check-client: ") for line in lines), result.stderr
    for noise in ("Traceback", "CancelledError", "Exception in ASGI application", "Cancel "):
        assert noise not in result.stderr + result.stdout


@pytest.mark.slow
def test_a_broken_client_fails_with_its_minimal_case_and_output() -> None:
    command = f"{PYTHON} {CLIENTS / 'broken' / 'crash_on_null_person.py'}"
    result = fakeapollo("check-client", "--cmd", command, "--examples", "3", "--property", "no_match")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED no_match" in result.stdout
    assert '{"person": null}' in result.stdout  # the minimal case
    assert "exit status 1 (AttributeError: 'NoneType' object has no attribute 'get')" in result.stdout
    assert "crash_on_null_person.py" in result.stdout  # what the client printed: its traceback


@pytest.mark.slow
def test_a_client_reading_only_the_first_search_page_fails_search_then_enrich() -> None:
    command = f"{PYTHON} {CLIENTS / 'broken' / 'first_page_only.py'}"
    flow = ("--property", "search_then_enrich")
    result = fakeapollo("check-client", "--cmd", command, "--examples", "1", *flow)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED search_then_enrich" in result.stdout
    assert "the client read 1 of the 2 pages that hold people: follow the pages" in result.stdout
    assert "/api/v1/mixed_people/api_search: answer 3 (and every later one): HTTP 200" in result.stdout


def test_crashes_timeouts_and_garbage_are_failures() -> None:
    garbage = check_command("echo not json", examples=1, properties=["no_match"])
    assert garbage.failed == ["no_match"]
    assert "stdout is not one JSON object" in garbage.render()
    slow = check_command(
        f"{PYTHON} -c 'import time; time.sleep(5)'", examples=1, properties=["no_match"], timeout=0.5
    )
    assert "still running when its run budget (0.5 s) ended it" in slow.render()
    exits = check_command("echo bye >&2; exit 3", examples=1, properties=["no_match"])
    assert "the client crashed: exit status 3 (bye)" in exits.render()


def test_unsupported_operations_are_skipped() -> None:
    bulk_only = (
        "import json, sys; r = json.load(sys.stdin); "
        "print(json.dumps({'outcome': 'no_match' if r['operation'] == 'people_match' else 'unsupported'}))"
    )
    properties = ["no_match", "bulk", "search_then_enrich"]
    report = check_command(f'{PYTHON} -c "{bulk_only}"', examples=2, properties=properties)
    assert report.ok, report.render()
    assert [r.status for r in report.results] == ["passed", "skipped", "skipped"]


def test_a_run_where_every_property_is_skipped_fails_naming_what_to_support(tmp_path: Path) -> None:
    result = fakeapollo(
        "check-client", "--cmd", 'echo \'{"outcome": "unsupported"}\'', "--examples", "1", cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout
    assert "every property was skipped" in result.stdout
    assert "must support people_match for every identifier" in result.stdout


def test_progress_goes_to_stderr_one_line_per_property_and_nothing_to_the_callers_directory(
    tmp_path: Path,
) -> None:
    result = fakeapollo(
        "check-client",
        "--cmd",
        'echo \'{"outcome": "no_match"}\'',
        "--examples",
        "2",
        "--property",
        "no_match",
        "--property",
        "match",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("check-client: no_match passed (2 cases, "), result.stderr
    assert lines[1].startswith("check-client: match FAILED (1 cases, "), result.stderr
    assert "check-client:" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no .hypothesis/


def test_debug_lines_on_stdout_are_a_failure_telling_to_log_on_stderr() -> None:
    chatty = "echo 'calling apollo...'; echo '{\"outcome\": \"no_match\"}'"
    report = check_command(chatty, examples=1, properties=["no_match"])
    assert report.failed == ["no_match"]
    assert "stdout must hold exactly one JSON object (log on stderr)" in report.render()


def test_fail_fast_stops_at_the_first_failing_property() -> None:
    result = fakeapollo(
        "check-client",
        "--cmd",
        'echo \'{"outcome": "no_match"}\'',
        "--examples",
        "1",
        "--property",
        "match",
        "--property",
        "no_match",
        "--fail-fast",
    )
    assert result.returncode == 1
    assert "FAILED match" in result.stdout
    assert not any(line.split()[:1] == ["no_match"] for line in result.stdout.splitlines()), result.stdout
    assert "0 passed, 1 failed" in result.stdout


def test_the_client_gets_url_key_and_request() -> None:
    script = (
        "import json, os, sys; r = json.load(sys.stdin); "
        "assert os.environ['APOLLO_API_URL'] == os.environ['APOLLO_BASE_URL'] + '/api/v1'; "
        "assert os.environ['APOLLO_API_KEY']; assert r['operation'] == 'people_match'; "
        "print(json.dumps({'outcome': 'no_match'}))"
    )
    report = check_command(f'{PYTHON} -c "{script}"', examples=2, properties=["no_match"])
    assert report.ok, report.render()


def test_check_client_loads_no_hypothesis_plugin_and_leaves_the_clients_environment_alone() -> None:
    assert importlib.util.find_spec("trio") is not None  # its Hypothesis plugin would load otherwise
    probe = (
        "import os, sys; from contract_tests.check_client import import_hypothesis_alone; "
        "import_hypothesis_alone(); "
        "print('hypothesis' in sys.modules, 'trio' in sys.modules, 'HYPOTHESIS_NO_PLUGINS' in os.environ)"
    )
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_NO_PLUGINS"}
    result = subprocess.run(
        [PYTHON, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )
    assert result.stdout.split() == ["True", "False", "False"], result.stderr


def test_report_states_its_own_per_case_overhead() -> None:
    # How small it is, is bench/'s business (a speed target, not a unit test): here, that it is reported.
    report = check_command('echo \'{"outcome": "no_match"}\'', examples=10, properties=["no_match"])
    assert report.ok
    assert report.overhead_ms() >= 0
    assert f"runner overhead {report.overhead_ms():.1f} ms" in report.render()


def test_bad_options_exit_2() -> None:
    assert fakeapollo("check-client", "--cmd", "true", "--property", "nope").returncode == 2
    assert fakeapollo("check-client", "--cmd", "true", "--examples", "0").returncode == 2


@pytest.mark.slow
def test_the_python_client_passes_against_a_running_emulator_and_stderr_holds_only_progress(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [PYTHON, "-m", "mock_server", "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base_url + "/openapi.json", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow on a busy machine
                time.sleep(0.1)
        # One client is enough here (the Node example has a test of its own).
        command = f"{PYTHON} {CLIENTS / 'python_client.py'}"
        result = fakeapollo("check-client", "--base-url", base_url, "--cmd", command, "--examples", "1")
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{len(PROPERTIES)} passed, 0 failed, 0 skipped" in result.stdout
        # Quiet: the hung connection of `timeouts` used to leave a cancelled task and a traceback behind.
        lines = result.stderr.splitlines()
        assert len(lines) == len(PROPERTIES), result.stderr
        assert all(line.startswith("check-client: ") for line in lines), result.stderr
        for noise in ("Traceback", "CancelledError", "Exception in ASGI application", "Cancel "):
            assert noise not in result.stderr + result.stdout
        journal = requests.get(base_url + "/__admin/requests", timeout=10).json()["requests"]
        assert {e["scenario"] for e in journal} >= {"respond", "slow"}  # the running server answered them
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def test_base_url_without_a_control_api_exits_2() -> None:
    result = fakeapollo("check-client", "--base-url", "http://127.0.0.1:9", "--cmd", "true")
    assert result.returncode == 2
    assert "no fakeapollo control API at http://127.0.0.1:9/__admin" in result.stderr


def test_the_help_shows_the_defaults_and_building_it_imports_no_hypothesis() -> None:
    from contract_tests.defaults import DEFAULT_EXAMPLES, DEFAULT_TIMEOUT

    script = (
        "import argparse, sys\n"
        "from contract_tests import check_client\n"
        "parser = argparse.ArgumentParser()\n"
        "check_client.add_arguments(parser)\n"
        "print(parser.format_help())\n"
        "print('hypothesis loaded:', 'hypothesis' in sys.modules)\n"
    )
    result = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    shown = " ".join(result.stdout.split())
    assert f"(default {DEFAULT_EXAMPLES};" in shown
    assert f"(default {DEFAULT_TIMEOUT:g})" in shown
    assert "hypothesis loaded: False" in shown
