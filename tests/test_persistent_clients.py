"""`check-client --persistent`: one client process serves case after case, one JSON line each way."""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.drivers import CommandDriver, LinesDriver, Reply, Target
from mock_server import cli

#: A client in lines mode that does what each case's params say, and reports its pid and count.
SCRIPTED = """
import json, os, sys, time
served = 0
for line in sys.stdin:
    served += 1
    job = json.loads(line)
    mode = job["request"]["params"].get("mode")
    if mode == "hang":
        time.sleep(60)
    if mode == "crash":
        print("KeyError: 'city'", file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == "debug":
        print("calling apollo...", flush=True)
    if mode == "chatty":
        for _ in range(2_000):
            print("x" * 500, file=sys.stderr)
        print("chatter ends", file=sys.stderr, flush=True)
    print(json.dumps({
        "outcome": "no_match", "pid": os.getpid(), "served": served, "key": job["env"]["APOLLO_API_KEY"],
        "env_key": os.environ.get("APOLLO_API_KEY"), "tz": os.environ.get("TZ"),
    }), flush=True)
"""

#: The same crash, as a per-case command (CommandDriver's protocol).
CRASH_PER_CASE = "import sys; sys.stdin.read(); print(\"KeyError: 'city'\", file=sys.stderr); sys.exit(3)"

#: A real client in lines mode: people/match over HTTP with each line's URL and key; logs its pid.
HTTP_CLIENT = """
import json, os, sys, urllib.error, urllib.request
for line in sys.stdin:
    job = json.loads(line)
    with open(sys.argv[1], "a") as log:
        log.write(f"{os.getpid()}\\n")
    env = job["env"]
    body = json.dumps(job["request"]["params"]).encode()
    headers = {"x-api-key": env["APOLLO_API_KEY"], "content-type": "application/json"}
    request = urllib.request.Request(env["APOLLO_API_URL"] + "/people/match", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            person = json.load(answer).get("person")
        miss = person is None or person.get("match_confidence") == "none"
        outcome = {"outcome": "no_match"} if miss else {"outcome": "match", "person": {"id": person["id"]}}
    except urllib.error.HTTPError as error:
        outcome = {"outcome": "unauthorized" if error.code == 401 else "error", "message": str(error)}
    print(json.dumps(outcome), flush=True)
"""

TARGET = Target("http://127.0.0.1:9", "key-one")


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[LinesDriver]:
    """A LinesDriver running SCRIPTED, closed after the test."""
    script = tmp_path / "scripted.py"
    script.write_text(SCRIPTED)
    with LinesDriver(f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", timeout=5) as driver:
        yield driver


def ask(
    driver: LinesDriver | CommandDriver, mode: str = "serve", limit: float = 5.0, target: Target = TARGET
) -> Reply:
    """One case for `driver`: a people_match whose params tell SCRIPTED what to do."""
    request = {"operation": "people_match", "params": {"mode": mode}}
    return driver.call(request, target, threading.Event(), limit)


def served_by(reply: Reply) -> tuple[int, int]:
    """The pid that answered and how many cases that process had served."""
    assert reply.outcome is not None, reply.crash
    return reply.outcome["pid"], reply.outcome["served"]


def gone(pid: int, seconds: float = 3.0) -> bool:
    """Whether process `pid` has ended (no longer running, or a zombie) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


def test_check_client_persistent_passes_a_client_serving_every_case_from_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process, Hypothesis's home stays this test process's own.
    monkeypatch.setattr("contract_tests.drawing.use_home_dir", lambda directory: None)
    script, log = tmp_path / "http_client.py", tmp_path / "pids.log"
    script.write_text(HTTP_CLIENT)
    command = " ".join(shlex.quote(str(part)) for part in (sys.executable, script, log))
    options = ["--examples", "1", "--property", "no_match", "--property", "unauthorized"]
    status = cli.main(["check-client", "--cmd", command, "--persistent", *options])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "2 passed, 0 failed" in out
    pids = log.read_text().split()
    assert len(pids) == 3, pids  # the pre-flight and one case of each property
    assert len(set(pids)) == 1, pids


def test_the_process_is_reused_and_each_line_carries_its_own_key(
    scripted: LinesDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APOLLO_API_KEY", "a-key-of-the-callers")
    first = ask(scripted)
    second = ask(scripted, target=Target(TARGET.base_url, "key-two"))
    assert served_by(first)[0] == served_by(second)[0]
    assert [served_by(first)[1], served_by(second)[1]] == [1, 2]
    assert scripted.started == 1
    assert second.outcome is not None and second.outcome["key"] == "key-two"
    assert second.outcome["env_key"] is None  # the target travels on the line, not in the environment
    assert second.outcome["tz"] == "Asia/Kolkata"
    assert first.crash is None and first.stopped is None


def test_a_case_past_its_limit_is_stopped_and_the_next_case_gets_a_fresh_process(
    scripted: LinesDriver,
) -> None:
    before = served_by(ask(scripted))[0]
    hung = ask(scripted, "hang", limit=0.5)
    assert (hung.outcome, hung.crash, hung.stopped) == (None, "still running after 0.5 s", "budget")
    assert gone(before)  # killed with its process group (the client runs under /bin/sh)
    after = served_by(ask(scripted))
    assert after[0] != before and after[1] == 1
    assert scripted.started == 2


def test_a_runaway_case_is_stopped_when_the_emulator_wakes_the_driver(scripted: LinesDriver) -> None:
    pid = served_by(ask(scripted))[0]
    wake = threading.Event()
    threading.Timer(0.3, wake.set).start()
    reply = scripted.call({"operation": "people_match", "params": {"mode": "hang"}}, TARGET, wake, 10)
    assert (reply.crash, reply.stopped) == ("stopped: the client kept sending requests", "runaway")
    assert reply.seconds < 5 and gone(pid)
    assert served_by(ask(scripted))[1] == 1


def test_a_client_exiting_mid_run_is_a_crash_with_its_status_and_stderr_as_per_case(
    scripted: LinesDriver, tmp_path: Path
) -> None:
    served_by(ask(scripted))
    crashed = ask(scripted, "crash")
    assert crashed.crash == "exit status 3 (KeyError: 'city')"
    assert crashed.exit_status == 3 and crashed.stopped is None
    assert "stderr: KeyError: 'city'" in crashed.output
    per_case = ask(CommandDriver(f"{shlex.quote(sys.executable)} -c {shlex.quote(CRASH_PER_CASE)}", 5))
    assert per_case.crash == crashed.crash
    assert served_by(ask(scripted))[1] == 1


def test_a_debug_line_on_stdout_fails_the_case_telling_to_log_on_stderr(scripted: LinesDriver) -> None:
    reply = ask(scripted, "debug")
    assert reply.outcome is None and reply.crash is not None
    assert reply.crash.endswith("(log on stderr)")
    assert "stdout: calling apollo..." in reply.output
    assert served_by(ask(scripted))[1] == 1


def test_a_chatty_client_never_blocks_and_its_stderr_goes_with_its_case(scripted: LinesDriver) -> None:
    # 1 MB on stderr a case: far past a pipe's buffer, so an undrained stderr would hang it.
    for served in (1, 2):
        reply = ask(scripted, "chatty", limit=5)
        assert served_by(reply)[1] == served
        assert reply.output.endswith("x" * 500 + "\nchatter ends"), reply.output[-200:]
        assert json.loads(reply.output.splitlines()[0].removeprefix("stdout: "))["served"] == served


def test_close_ends_the_idle_processes(scripted: LinesDriver) -> None:
    reply = ask(scripted)
    (client,) = scripted._idle
    scripted.close()
    assert client.process.returncode == 0  # it exited on its own when its stdin closed
    assert reply.outcome is not None


def test_a_persistent_client_that_cannot_start_is_told_how_to_try_a_line_by_hand() -> None:
    from contract_tests.runner import ClientDidNotRun, run_contract

    with pytest.raises(ClientDidNotRun) as refused:
        run_contract(LinesDriver("exit 3", 5), properties=["no_match"], examples=1, preflight=True)
    hint = str(refused.value).splitlines()[-1]
    assert hint.startswith(
        """(stopped before generating any case; try it by hand: echo '{"request": {"operation\""""
    )
    assert '"env": {"APOLLO_BASE_URL": "http://127.0.0.1:' in hint and hint.endswith("' | exit 3)")
