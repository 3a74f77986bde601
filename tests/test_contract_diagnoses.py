"""What check-client says matches what happened: exits, crashes, hangs, the rule behind a verdict.

Also the pre-flight: a command that cannot run stops the run at once, with one message. (Quiet runs,
nothing on stderr but progress lines: tests/test_check_client.py, the Python client as a command.)
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contract_tests import AdapterDriver, ContractServer, check_command, run_contract
from contract_tests.misses import THIN_PERSON, miss_rule

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "examples" / "clients"
BROKEN = CLIENTS / "broken"
sys.path.insert(0, str(BROKEN))
sys.path.insert(0, str(CLIENTS))
PYTHON = sys.executable

#: A client with a 3 s read timeout that gives up on a hung connection by exiting 1, as a script
#: whose author logs the timeout and lets the process fail.
GIVES_UP_BY_EXITING = """
import json, os, sys, time, urllib.request
json.load(sys.stdin)
started = time.monotonic()
request = urllib.request.Request(
    os.environ["APOLLO_API_URL"] + "/people/match",
    data=b'{"email": "a@b.example"}',
    headers={"x-api-key": os.environ["APOLLO_API_KEY"], "content-type": "application/json"},
)
try:
    person = json.load(urllib.request.urlopen(request, timeout=3)).get("person")
except TimeoutError:
    print(f"timed out after {time.monotonic() - started:.2f}s", file=sys.stderr)
    sys.exit(1)
print(json.dumps({"outcome": "match", "person": {"id": person["id"]}} if person else {"outcome": "no_match"}))
"""


def fakeapollo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mock_server", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.mark.slow
def test_a_client_that_exits_on_its_own_is_a_crash_with_its_status_never_a_hang(tmp_path: Path) -> None:
    script = tmp_path / "gives_up.py"
    script.write_text(GIVES_UP_BY_EXITING, encoding="utf-8")
    # --timeout 1: the client's own second is less than its 3 s read timeout; the hang it is served
    # is what makes it wait, and the run budget counts that in.
    report = check_command(
        f"{PYTHON} {script}", examples=2, properties=["timeouts"], timeout=1, shrink_runs=0
    )
    text = report.render()
    assert report.failed == ["timeouts"], text
    assert "still running" not in text and "without giving up" not in text, text
    assert "the client crashed: exit status 1 (timed out after 3." in text, text


def test_a_crash_shows_its_exit_status_and_the_last_lines_of_stderr() -> None:
    command = (
        "echo starting >&2; echo 'retrying once' >&2; echo 'giving up: HTTP 200 without person' >&2; exit 7"
    )
    report = check_command(command, examples=1, properties=["no_match"], shrink_runs=0)
    text = report.render()
    assert "the client crashed: exit status 7 (giving up: HTTP 200 without person)" in text, text
    assert "retrying once" in text and "starting" in text, text  # the earlier lines of stderr too


def test_a_minimal_no_match_case_keeps_the_stub_marker_and_names_the_rule() -> None:
    adapter = importlib.import_module("stub_as_match").Adapter
    with ContractServer.start() as server:
        for seed in (0, 1, 2):
            report = run_contract(
                AdapterDriver(adapter, 5), server=server, seed=seed, properties=["no_match"]
            )
            failure = report.results[0].failure
            assert failure is not None, report.render()
            person = failure.case.responses[-1].document["person"]
            assert person["match_confidence"] == "none", person  # shrinking kept what makes it a miss
            text = report.render()
            assert 'decided by: person.match_confidence = "none": a stub person' in text, text
            assert "docs/apollo-facts.md 2.1" in text  # the rule's source


def test_a_minimal_rate_limit_case_keeps_its_status_and_the_header_under_test() -> None:
    adapter = importlib.import_module("retries_429_immediately").Adapter
    with ContractServer.start() as server:
        report = run_contract(
            AdapterDriver(adapter, 5), server=server, properties=["rate_limited"], examples=5
        )
    failure = report.results[0].failure
    assert failure is not None, report.render()
    first = failure.case.responses[0]
    assert first.status == 429
    assert "Retry-After" in first.headers or first.retry_after_date is not None
    assert "decided by: answer 1: HTTP 429; Retry-After" in report.render()


def test_a_client_crashing_on_the_thin_person_is_shown_that_person_and_its_source() -> None:
    adapter = importlib.import_module("crashes_on_thin_person").Adapter
    with ContractServer.start() as server:
        report = run_contract(AdapterDriver(adapter, 5), server=server, properties=["partial"], examples=3)
    failure = report.results[0].failure
    assert failure is not None, report.render()
    person = failure.case.responses[-1].document["person"]
    assert miss_rule(person) is THIN_PERSON, person  # the minimal case is still the thin person
    assert "organization" not in person and "city" not in person
    text = report.render()
    assert "the thin person Apollo creates for an email it has no one for" in text, text
    assert "people_match_thin-person-unknown-email_nango_2026-05-18.json" in text
    assert "KeyError" in text


def test_the_thin_person_may_be_reported_as_the_person_or_as_no_match() -> None:
    either = "import json, sys; r = json.load(sys.stdin); print(json.dumps({'outcome': 'no_match'}))"
    report = check_command(f'{PYTHON} -c "{either}"', examples=1, properties=["partial"], shrink_runs=0)
    assert report.ok, report.render()  # the first partial case is the thin person
    good = importlib.import_module("python_client").PythonClientAdapter()
    with ContractServer.start() as server:
        assert run_contract(AdapterDriver(good, 5), server=server, properties=["partial"], examples=1).ok


@pytest.mark.slow
def test_a_typo_in_the_command_stops_at_once_with_one_message_showing_its_stderr() -> None:
    started = time.monotonic()
    result = fakeapollo("check-client", "--cmd", f"{PYTHON} my_clinet.py")
    seconds = time.monotonic() - started
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("check-client: the client command did not run:"), result.stderr
    assert "can't open file" in lines[0] and "my_clinet.py" in lines[0]
    assert len(lines) <= 4 and "Traceback" not in result.stderr, result.stderr
    assert seconds < 30, seconds  # one client run, no case generated (bench/ measures the real figure)


@pytest.mark.slow
def test_a_command_that_prints_nothing_stops_at_once_naming_that() -> None:
    result = fakeapollo("check-client", "--cmd", "true")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the client exited 0 and printed nothing on stdout" in result.stderr, result.stderr
