"""fakeapollo's benchmark: the emulator side by side with a bare-Flask baseline, WireMock and Prism.

Usage: `.venv/bin/python bench/run.py [--quick] [--rounds N] [--seconds S] [--soak N] [--only NAMES]`
(or `make bench`). Prints one table and writes it to bench/results/latest.md. See bench/README.md.

Over 600 lines on purpose: one script a user runs as is, outside the package, with each rival's
start-up, the load generators and the table side by side so a run's method reads in one place.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TOOLS = BENCH / ".tools"
RESULTS = BENCH / "results"
LOGS = RESULTS / "logs"
PYTHON = Path(sys.executable)
BIN = PYTHON.parent
KEY = "load-test-key"
MATCH_PATH = "/api/v1/people/match"
PROBE_BODY = b'{"email":"tim@apollo.io"}'
FIXTURE = ROOT / "fixtures" / "persons" / "tim-zheng.json"
LUA = BENCH / "match.lua"
WRK_THREADS = 2
CONNECTIONS = 8
# WireMock's JIT warms for long: after 6 s of load its rounds rose 4,770 → 5,305 → 6,160 req/s in one
# run, after 18 s 6,177 → 7,452 → 8,817 in the next, and 3 s steps never levelled off for long. It
# gets 60 s, so it is measured as a long CI run meets it (bench/README.md, "Answers sent at the end
# of the loop's turn").
WIREMOCK_WARMUP_FACTOR = 20.0
INSTALL_TIMEOUT = 300.0
MB = 1_000_000
# Distinct addresses the realistic mix draws from (bench/quick.py uses fewer, so a short warm-up caches them).
POOL = 10_000
# bench/hotpath.py's second figure: as many bodies as a few seconds of wrk send, so the parse memo and
# the caches see the served mix's spread (about 30,000 distinct bodies) instead of 4,000 repeats.
SPREAD_REQUESTS = 30_000
# The servers that run fakeapollo (their persons are generated, then cached): swept before the rounds.
EMULATORS = frozenset({"fakeapollo", "before", "granian", "sqlite2w", "redis1p", "redis2p"})

# -- targets ---------------------------------------------------------------------------------------
TARGET_WIREMOCK_RATIO = 1.3
TARGET_HOTPATH_US = 25.0
TARGET_PRISM_RATIO = 3.0
TARGET_P99_MS = 5.0
TARGET_FIRST_PERSON_US = 1000.0
TARGET_STARTUP_S = 0.3
TARGET_IMPORT_S = 0.15
TARGET_RSS_MB = 100.0
TARGET_GROWTH_PCT = 5.0


# -- processes ---------------------------------------------------------------------------------------

_children: list[subprocess.Popen[bytes]] = []
_logs: list[TextIO] = []


def spawn(name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `command` in its own process group (so it and its children can be killed together)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}.log", "a", encoding="utf-8")  # noqa: SIM115 - closed in stop_all
    _logs.append(log)
    log.write(f"\n$ {shlex.join(command)}\n")
    log.flush()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
        start_new_session=True,
    )
    _children.append(process)
    return process


def stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process group, SIGKILL it after `grace` seconds; reap the leader."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            process.wait(timeout=wait)
            # The leader is gone; make sure no worker of its group outlives it.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            break
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.wait(timeout=5)
    if process in _children:
        _children.remove(process)


def stop_all() -> None:
    """Stop every process this run started (atexit, Ctrl-C, errors)."""
    for process in reversed(list(_children)):
        stop(process, grace=3.0)
    for log in _logs:
        log.close()
    _logs.clear()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_mb(root: int) -> float | None:
    """Resident memory (VmRSS) summed over the process tree of `root`, in MB (10^6 bytes)."""
    total_kb, seen = 0, False
    for pid in tree_pids(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if match:
            total_kb += int(match.group(1))
            seen = True
    return total_kb * 1024 / MB if seen else None


def cpu_seconds(root: int) -> float:
    """User and system CPU seconds used so far by `root` and its descendants (every thread), from /proc."""
    ticks = 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def probe(port: int, timeout: float = 1.0) -> bool:
    """Whether POST people/match with the load-test key answers 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", MATCH_PATH, body=PROBE_BODY,
                     headers={"x-api-key": KEY, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


# -- servers -----------------------------------------------------------------------------------------


@dataclass
class Server:
    """One server under test: how to start it on a port, and what it is."""

    name: str
    label: str
    command: Callable[[int], list[str]]
    ready_limit: float = 30.0
    warmup_factor: float = 1.0
    env: dict[str, str] | None = None
    note: str = ""


@dataclass
class Running:
    """A started server."""

    server: Server
    process: subprocess.Popen[bytes]
    port: int


def start(server: Server) -> tuple[Running | None, float | None]:
    """Start `server` on a free port; the seconds from process start to its first 200 (None: failed)."""
    port = free_port()
    started = time.perf_counter()
    process = spawn(server.name, server.command(port), env=server.env)
    while time.perf_counter() - started < server.ready_limit:
        if process.poll() is not None:
            break
        if probe(port, timeout=0.5):
            return Running(server, process, port), time.perf_counter() - started
        time.sleep(0.005)
    stop(process)
    return None, None


def fakeapollo_command(port: int) -> list[str]:
    """`fakeapollo serve` on `port`, every other setting at its default."""
    return [str(BIN / "fakeapollo"), "serve", "--port", str(port)]


def clean_env() -> dict[str, str]:
    """The environment minus FAKEAPOLLO_* settings, so `serve` runs at its defaults.

    PYTHONDONTWRITEBYTECODE goes too (as `make bench` unexports it): with it, every start of a
    checkout whose bytecode is stale compiles its sources again, and the start-up figure says so.
    """
    dropped = ("PYTHONDONTWRITEBYTECODE",)
    return {k: v for k, v in os.environ.items() if not k.startswith("FAKEAPOLLO_") and k not in dropped}


def default_threads() -> int:
    """Threads per worker that `fakeapollo serve` uses by default (the baseline gets the same)."""
    code = "from mock_server.config import Config; print(Config().threads)"
    out = subprocess.run([str(PYTHON), "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env=clean_env())
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip().isdigit() else 8


def static_body() -> bytes:
    """The static body every comparison server answers: Apollo's example person, compact JSON."""
    person = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return json.dumps({"person": person}, separators=(",", ":")).encode()


def npm_install(package: str, marker: Path) -> str | None:
    """Install `package` under bench/.tools unless `marker` exists; None when ready, else why not."""
    if marker.exists():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    TOOLS.mkdir(parents=True, exist_ok=True)
    print(f"  installing {package} with npm into bench/.tools ...", flush=True)
    try:
        done = subprocess.run([npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", package],
                              capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"npm install {package} took longer than {INSTALL_TIMEOUT:.0f} s"
    if done.returncode != 0 or not marker.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"npm install {package} failed: {' | '.join(tail) or f'exit {done.returncode}'}"
    return None


def wiremock_server(body: bytes) -> Server | str:
    """WireMock standalone (from the npm package's jar), one stub; or why it is skipped."""
    java = shutil.which("java")
    if java is None:
        return "java is not installed"
    jar_dir = TOOLS / "node_modules" / "wiremock" / "build"
    why = npm_install("wiremock", TOOLS / "node_modules" / "wiremock" / "package.json")
    if why:
        return why
    jars = sorted(jar_dir.glob("wiremock-standalone-*.jar"))
    if not jars:
        return f"no wiremock-standalone jar under {jar_dir}"
    root = TOOLS / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    (root / "__files").mkdir(parents=True, exist_ok=True)
    (root / "__files" / "person.json").write_bytes(body)
    stub = {
        "request": {"method": "POST", "urlPath": MATCH_PATH},
        "response": {"status": 200, "bodyFileName": "person.json",
                     "headers": {"Content-Type": "application/json"}},
    }
    (root / "mappings" / "people-match.json").write_text(json.dumps(stub, indent=2))
    version = jars[-1].stem.removeprefix("wiremock-standalone-")

    def command(port: int) -> list[str]:
        return [java, "-jar", str(jars[-1]), "--port", str(port), "--bind-address", "127.0.0.1",
                "--root-dir", str(root), "--no-request-journal", "--disable-request-logging",
                "--disable-banner"]

    return Server("wiremock", f"WireMock {version}", command, ready_limit=60.0,
                  warmup_factor=WIREMOCK_WARMUP_FACTOR,
                  note="JVM defaults, request journal and request logging off")


def prism_server(body: bytes) -> Server | str:
    """Prism `mock` on a one-operation OpenAPI file whose example is the static body; or why skipped."""
    if shutil.which("node") is None:
        return "node is not installed"
    package = TOOLS / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    why = npm_install("@stoplight/prism-cli", package)
    if why:
        return why
    prism = TOOLS / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        return f"{prism} is missing"
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "fakeapollo bench", "version": "1.0.0"},
        "paths": {MATCH_PATH: {"post": {
            "operationId": "peopleMatch",
            "requestBody": {"required": False,
                            "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "One person",
                                  "content": {"application/json": {"example": json.loads(body)}}}},
        }}},
    }
    path = TOOLS / "prism-openapi.json"
    path.write_text(json.dumps(spec))
    version = json.loads(package.read_text()).get("version", "?")

    def command(port: int) -> list[str]:
        return [str(prism), "mock", "--port", str(port), "--host", "127.0.0.1", "--verboseLevel", "error",
                str(path)]

    return Server("prism", f"Prism {version}", command, ready_limit=60.0,
                  note="static example, request logging at 'error'")


def granian_server() -> Server | str:
    """The same ASGI application as fakeapollo's, under granian instead of uvicorn; or why it is skipped."""
    granian = BIN / "granian"
    if not granian.exists():
        return "granian is not installed in .venv (make install)"

    def command(port: int) -> list[str]:
        return [str(granian), "--interface", "asgi", "--loop", "uvloop", "--http", "1", "--no-log",
                "--workers", "1", "--host", "127.0.0.1", "--port", str(port), "bench.granian_app:app"]

    return Server("granian", "fakeapollo on granian", command, env={**clean_env(), "PYTHONPATH": str(ROOT)},
                  note="the same ASGI application (bench/granian_app.py) under granian, uvloop, HTTP/1")


def baseline_command(port: int) -> list[str]:
    """The bare-Flask baseline, served like fakeapollo's Flask routes (uvicorn + a2wsgi, default threads)."""
    return [str(PYTHON), str(BENCH / "baseline_app.py"), str(port)]


def asgi_baseline_command(port: int) -> list[str]:
    """The bare ASGI baseline, served like Apollo's routes (uvicorn, fakeapollo's protocol, no work)."""
    return [str(PYTHON), str(BENCH / "baseline_app.py"), str(port), "asgi"]


def before_server(folder: Path) -> Server:
    """An older checkout of fakeapollo (`git worktree add DIR COMMIT`), served from its own sources."""
    commit = subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%h"], capture_output=True,
                            text=True, timeout=30).stdout.strip() or folder.name

    def command(port: int) -> list[str]:
        # -P: the sources come from PYTHONPATH (the old checkout), not from this one (the cwd).
        return [str(PYTHON), "-P", "-m", "mock_server", "serve", "--port", str(port)]

    return Server("before", f"fakeapollo before ({commit})", command,
                  env={**clean_env(), "PYTHONPATH": str(folder.resolve())},
                  note=f"`fakeapollo serve` of {commit}, default settings, this checkout's packages")


def build_servers(only: set[str] | None, before: Path | None = None) -> tuple[list[Server], dict[str, str]]:
    """Every server to compare, and why any was skipped."""
    threads = default_threads()
    body = static_body()
    servers: list[Server] = [
        Server("fakeapollo", "fakeapollo", fakeapollo_command, env=clean_env(),
               note="`fakeapollo serve --port P`, default settings"),
    ]
    if before is not None:
        servers.append(before_server(before))
    skipped: dict[str, str] = {}
    if only is None or "granian" in only:
        made_granian = granian_server()
        if isinstance(made_granian, str):
            skipped["granian"] = made_granian
        else:
            servers.append(made_granian)
    servers.append(Server("asgi1w", "ASGI 1w", asgi_baseline_command, env=clean_env(),
                          note="bare ASGI application, static body, uvicorn with fakeapollo's protocol"))
    servers.append(Server("flask1w", "Flask 1w", baseline_command, env=clean_env(),
                          note=f"bare Flask, static body, uvicorn + a2wsgi ({threads} threads)"))
    for name, factory in (("wiremock", wiremock_server), ("prism", prism_server)):
        if only is not None and name not in only:
            continue
        made = factory(body)
        if isinstance(made, str):
            skipped[name] = made
            print(f"  skipping {name}: {made}", flush=True)
        else:
            servers.append(made)
    if only is not None:
        servers = [s for s in servers if s.name in only]
    return servers, skipped


# -- load --------------------------------------------------------------------------------------------


@dataclass
class Load:
    """One load run: counts, throughput and latency percentiles."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    # CPU (user + system) the server's processes used during the run, per request; None when unmeasured.
    server_cpu_us: float | None = None

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def wrk_load(port: int, seconds: float, mix: str = "realistic", stop_after: int = 0,
             seed: int = 8) -> Load:
    """Drive the server with wrk (2 threads, 8 connections) and bench/match.lua; at most `stop_after`."""
    per_thread = -(-stop_after // WRK_THREADS) if stop_after else 0
    env = dict(os.environ, BENCH_MIX=mix, BENCH_STOP=str(per_thread), BENCH_SEED=str(seed),
               BENCH_POOL=str(POOL))
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency",
               "--timeout", "5s", "-s", str(LUA), f"http://127.0.0.1:{port}{MATCH_PATH}"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {done.stdout[-400:]} {done.stderr[-400:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Load(data["requests"], data["duration_us"] / 1e6, errors, data["p50_us"] / 1000,
                data["p90_us"] / 1000, data["p99_us"] / 1000)


def measured_load(running: Running, load: Callable[..., Load], seconds: float, **options: Any) -> Load:
    """`load` on `running`'s port, with the server's CPU a request over the run (`Load.server_cpu_us`)."""
    used = cpu_seconds(running.process.pid)
    result = load(running.port, seconds, **options)
    used = cpu_seconds(running.process.pid) - used
    if result.requests:
        result.server_cpu_us = used / result.requests * 1e6
    return result


def sweep(port: int) -> Load:
    """Ask for each of the mix's recurring addresses once (the Python generator: it ends when done)."""
    return python_load(port, 600, mix="sweep", stop_after=POOL, seed=1)


def mix_email(rng: random.Random, mix: str, counter: int, tag: str, index: int = 0) -> str:
    """The same request mix as bench/match.lua, for the Python load generator."""
    if mix == "sweep":
        swept = ((counter - 1) * CONNECTIONS + index) % POOL + 1
        return f"person{swept}@corp{swept % 200}.example.com"
    if mix == "unique":
        return f"fresh-{tag}-{counter}@soak{counter % 97}.example.com"
    roll, n = rng.randint(1, 100), rng.randint(1, POOL)
    if roll <= 90:
        return f"person{n}@corp{n % 200}.example.com"
    return f"person{n}@{'nomatch' if roll <= 95 else 'partial'}.test"


def python_load(port: int, seconds: float, mix: str = "realistic", stop_after: int = 0,
                seed: int = 8) -> Load:
    """Fallback load generator: 8 threads, one keep-alive http.client connection each (GIL-bound)."""
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(CONNECTIONS)]
    errors = [0] * CONNECTIONS
    per_thread = -(-stop_after // CONNECTIONS) if stop_after else 0

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        headers = {"x-api-key": KEY, "Content-Type": "application/json"}
        count = 0
        while time.perf_counter() < deadline and (not per_thread or count < per_thread):
            count += 1
            body = json.dumps({"email": mix_email(rng, mix, count, f"{seed}-{index}", index)})
            began = time.perf_counter()
            try:
                conn.request("POST", MATCH_PATH, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                continue
            latencies[index].append(time.perf_counter() - began)
        conn.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(CONNECTIONS)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - began
    merged = sorted(x for chunk in latencies for x in chunk) or [0.0]

    def pct(p: float) -> float:
        return merged[min(len(merged) - 1, int(len(merged) * p))] * 1000

    return Load(len(merged), elapsed, sum(errors), pct(0.5), pct(0.9), pct(0.99))


# -- in-process figures ------------------------------------------------------------------------------


def median_of(values: list[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def import_time(module: str, runs: int = 5) -> float:
    """Median seconds a fresh interpreter takes to `import module` (the import alone)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(runs):
        done = subprocess.run([str(PYTHON), "-c", code], capture_output=True, text=True, timeout=60,
                              cwd=ROOT, env=clean_env())
        if done.returncode != 0:
            raise RuntimeError(f"import {module} failed: {done.stderr[-400:]}")
        samples.append(float(done.stdout.strip()))
    return median_of(samples)


def hotpath(*flags: str) -> dict[str, Any]:
    """bench/hotpath.py: CPU µs per request of the bench mix, the ASGI application called directly, warm."""
    done = subprocess.run([str(PYTHON), str(BENCH / "hotpath.py"), *flags], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env=clean_env())
    if done.returncode != 0:
        raise RuntimeError(f"bench/hotpath.py failed: {done.stderr[-600:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def first_person(count: int) -> dict[str, dict[str, float]]:
    """bench/inproc.py: µs per first person for never-seen emails (in-process client, service, find)."""
    done = subprocess.run([str(PYTHON), str(BENCH / "inproc.py"), str(count)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env=clean_env())
    if done.returncode != 0:
        raise RuntimeError(f"bench/inproc.py failed: {done.stderr[-600:]}")
    result: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- check-client ------------------------------------------------------------------------------------


TARGET_CHECK_OVERHEAD_MS = 20.0
TARGET_PREFLIGHT_S = 5.0
#: Rounds of (the client alone, then check-client's cases) the overhead is the median of, after one
#: uncounted run of check-client, as the client's own runs have one. Three rounds gave 31.5, 4.1 and
#: 17.8 ms in one run (2026-12-07 11:41): the median of three moved with one noisy round.
CHECK_ROUNDS = 5
#: The client's own runs timed in each round.
OWN_RUNS = 10
#: A property's line in check-client's report: its verdict, cases and seconds.
CASE_ROW = r"^\s+\S+\s+(?:passed|FAILED|failed|skipped)\s+(\d+)\s+([\d.]+)"


def run_check(command: list[str]) -> subprocess.CompletedProcess[str] | None:
    """`fakeapollo check-client` as `command` runs it, or None when it takes longer than 600 s."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=clean_env())
    except subprocess.TimeoutExpired:
        return None


def check_client_overhead(client: Path) -> dict[str, Any]:
    """Per-case overhead of `fakeapollo check-client` over the client's own run time, or why skipped.

    Only the single-request properties run (match, no_match, partial): the others wait out Retry-After,
    retry 5xx or call the client twice, which is the client's time, not the runner's.
    """
    fakeapollo = str(BIN / "fakeapollo")
    helped = subprocess.run([fakeapollo, "--help"], capture_output=True, text=True, timeout=60,
                            env=clean_env())
    if "check-client" not in helped.stdout:
        return {"skipped": "`fakeapollo check-client` does not exist (yet)"}
    if not client.exists():
        return {"skipped": f"{client.relative_to(ROOT)} is missing"}
    command = f"{shlex.quote(str(PYTHON))} {shlex.quote(str(client.relative_to(ROOT)))}"
    running, _ = start(Server("fakeapollo-client", "fakeapollo", fakeapollo_command, env=clean_env()))
    if running is None:
        return {"skipped": "fakeapollo did not start for the client's own timing"}
    properties = [arg for name in ("match", "no_match", "partial") for arg in ("--property", name)]
    # Each round times the client alone, then check-client's cases, back to back: the overhead is the
    # median of the rounds' differences, so a machine busier in one minute than the next moves both.
    per_case: list[float] = []
    own_medians: list[float] = []
    try:
        env = dict(clean_env(), APOLLO_API_URL=f"http://127.0.0.1:{running.port}/api/v1",
                   APOLLO_BASE_URL=f"http://127.0.0.1:{running.port}", APOLLO_API_KEY="test-key")
        request = json.dumps({"operation": "people_match", "params": {"email": "ada@example.com"}})
        check = [fakeapollo, "check-client", "--cmd", command, *properties]
        if run_check(check) is None:  # uncounted, as each round's first run of the client
            return {"skipped": "check-client took longer than 600 s"}
        for _ in range(CHECK_ROUNDS):
            alone = []
            for attempt in range(1 + OWN_RUNS):  # the first warms the page cache and is not counted
                began = time.perf_counter()
                done = subprocess.run(shlex.split(command), input=request, capture_output=True, text=True,
                                      timeout=60, cwd=ROOT, env=env)
                if attempt:
                    alone.append(time.perf_counter() - began)
                if done.returncode != 0:
                    return {"skipped": f"the client failed on its own: {done.stderr[-300:]}"}
            began = time.perf_counter()
            checked = run_check(check)
            if checked is None:
                return {"skipped": "check-client took longer than 600 s"}
            done = checked
            wall = time.perf_counter() - began
            rows = re.findall(CASE_ROW, done.stdout, re.M)
            cases, seconds = sum(int(c) for c, _ in rows), sum(float(s) for _, s in rows)
            if cases == 0:
                return {"skipped": f"could not count check-client's cases (exit {done.returncode}): "
                                   f"{(done.stdout or done.stderr)[-200:]!r}"}
            per_case.append(seconds / cases)
            own_medians.append(median_of(alone))
    finally:
        stop(running.process)
    # The last round's run gives the fixed start-up, the exit and check-client's own report.
    overheads = [case - own for case, own in zip(per_case, own_medians, strict=True)]
    own_s = median_of(own_medians)
    reported = re.search(r"per case:([^)\n]*)", done.stdout)
    # A typo'd command: the pre-flight must stop the run within seconds, before any case.
    began = time.perf_counter()
    typo = subprocess.run([fakeapollo, "check-client", "--cmd", f"{shlex.quote(str(PYTHON))} my_clinet.py"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=clean_env())
    typo_s = time.perf_counter() - began
    # The whole contract as a user runs it: every property, 10 examples, the real waits included
    # (Retry-After, the slow and the hung answer, retries of 5xx).
    began = time.perf_counter()
    whole = subprocess.run([fakeapollo, "check-client", "--cmd", command], capture_output=True, text=True,
                           timeout=600, cwd=ROOT, env=clean_env())
    whole_s = time.perf_counter() - began
    return {"cases": cases, "wall_s": wall, "fixed_s": wall - seconds, "client_s": own_s,
            "per_case_ms": median_of(per_case) * 1000, "overhead_ms": median_of(overheads) * 1000,
            "overheads_ms": [round(o * 1000, 1) for o in overheads],
            "exit": done.returncode, "reported": reported.group(1).strip() if reported else "",
            "whole_s": whole_s, "whole_exit": whole.returncode,
            "typo_s": typo_s, "typo_exit": typo.returncode}


# -- the Redis store ------------------------------------------------------------------------------

TARGET_REDIS_RATIO = 5.0  # two processes on one Redis vs the SQLite `--workers 2` figure
TARGET_REDIS_P99_MS = 10.0
STORE_SERVERS = ("sqlite2w", "redis1p", "redis2p")


def start_redis() -> Any:
    """A redis-server on a free loopback port (tests/redis_helpers.py), or why there is none (a str)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from redis_helpers import NOT_FOUND, RedisServer, redis_server_binary

    binary = redis_server_binary()
    if binary is None:
        return NOT_FOUND
    server = RedisServer(binary).start()
    atexit.register(server.close)
    return server


def store_servers(redis_url: str | None) -> list[Server]:
    """The state-sharing setups: SQLite with 2 workers, and Redis with 1 and 2 processes."""

    def serve(*extra: str) -> Callable[[int], list[str]]:
        return lambda port: fakeapollo_command(port) + list(extra)

    servers = [Server("sqlite2w", "SQLite 2w", serve("--workers", "2"), env=clean_env(),
                      note="`fakeapollo serve --workers 2`: two processes sharing one SQLite file")]
    if redis_url is not None:
        one = serve("--store", redis_url, "--store-prefix", "bench-1p")
        servers.append(Server("redis1p", "Redis 1p", one, env=clean_env(),
                              note="`fakeapollo serve --store redis://…`: one process"))
        servers.append(Server("redis2p", "Redis 2p",
                              serve("--workers", "2", "--store", redis_url, "--store-prefix", "bench-2p"),
                              env=clean_env(), note="`fakeapollo serve --workers 2 --store redis://…`: "
                              "two processes on one Redis (the same redis-server as Redis 1p)"))
    return servers


def redis_info(url: str) -> dict[str, float]:
    """The Redis server's CPU seconds and read events so far (INFO)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("all")
    finally:
        client.close()
    return {"cpu": float(info["used_cpu_user"]) + float(info["used_cpu_sys"]),
            "reads": float(info.get("total_reads_processed", 0)),
            "commands": float(info["total_commands_processed"])}


def measure_redis_cost(server: Server, url: str, args: argparse.Namespace, load: Callable[..., Load],
                       results: Results) -> None:
    """One load run on a fresh `server` with Redis's counters read around it: what a request costs Redis."""
    running, _ = start(server)
    if running is None:
        results.notes.append(f"{server.label} did not start for the Redis cost run")
        return
    try:
        load(running.port, args.warmup, seed=1)
        before = redis_info(url)
        result = load(running.port, args.seconds, seed=90)
        after = redis_info(url)
    finally:
        stop(running.process)
    n = max(result.requests, 1)
    trips = (after["reads"] - before["reads"]) / n  # one read event per request a client sends
    cpu_us = (after["cpu"] - before["cpu"]) / n * 1e6
    results.redis_cost[server.name] = {
        "rps": result.rps, "trips": trips, "commands": (after["commands"] - before["commands"]) / n,
        "cpu_us": cpu_us, "cpu_per_trip_us": cpu_us / trips if trips else float("nan"),
    }
    print(f"  Redis cost {server.label}: {trips:.2f} read events, {cpu_us:.1f} µs of Redis CPU per request",
          flush=True)


def redis_rows(results: Results, row: Callable[..., None]) -> None:
    """The store figures: ratio and p99 targets, and what a request costs Redis."""
    redis2p, sqlite2w = results.median("redis2p", "rps"), results.median("sqlite2w", "rps")
    if redis2p and sqlite2w:
        ratio = redis2p / sqlite2w
        row("throughput Redis 2p / SQLite 2w", {"redis2p": fmt(ratio, "×")}, f"≥ {TARGET_REDIS_RATIO:g}×",
            ratio >= TARGET_REDIS_RATIO)
    p99 = results.median("redis2p", "p99_ms")
    if p99 is not None:
        row("latency p99, Redis 2p", {"redis2p": fmt(p99, "ms")}, f"< {TARGET_REDIS_P99_MS:g} ms",
            p99 < TARGET_REDIS_P99_MS)
    mine, memory = results.median("redis1p", "rps"), results.median("fakeapollo", "rps")
    if mine and memory:
        row("throughput Redis 1p / in-memory 1p", {"redis1p": fmt(mine / memory, "×")})
    costs = results.redis_cost
    if not costs:
        return
    # Redis's read events: one per round trip, but a pipelined batch of journal entries (~5 KB
    # each) takes about one per 16 KB, so this reads above the client's round trips (bench/README.md).
    row("Redis read events per request (≈ round trips)", {n: f"{c['trips']:.2f}" for n, c in costs.items()})
    row("Redis commands per request (inside scripts counted)",
        {n: f"{c['commands']:.1f}" for n, c in costs.items()})
    row("Redis CPU per request / per read event",
        {n: f"{c['cpu_us']:.1f} µs / {c['cpu_per_trip_us']:.1f} µs" for n, c in costs.items()})
    row("Redis's own ceiling (1 s of its CPU / CPU per request)",
        {n: fmt(1e6 / c["cpu_us"] if c["cpu_us"] > 0 else None, "req/s") for n, c in costs.items()})


def run_store_bench(args: argparse.Namespace, load: Callable[..., Load], results: Results,
                    only: set[str] | None) -> list[Server]:
    """Start Redis, add the store servers to the run; returns them (their load rounds run with the rest)."""
    if only is not None and not only & set(STORE_SERVERS):
        return []
    redis_server = start_redis()
    url = None if isinstance(redis_server, str) else str(redis_server.url)
    if url is None:
        for name in ("redis1p", "redis2p"):
            results.skipped[name] = str(redis_server)
    results.redis_url = url
    servers = store_servers(url)
    return [s for s in servers if only is None or s.name in only]


# -- the run -----------------------------------------------------------------------------------------


@dataclass
class Results:
    """Everything measured, by server name where it applies."""

    servers: list[Server] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    startup: dict[str, float | None] = field(default_factory=dict)
    rounds: dict[str, list[Load]] = field(default_factory=dict)
    rss_after: dict[str, float | None] = field(default_factory=dict)
    import_s: float | None = None
    import_app_s: float | None = None
    inproc: dict[str, dict[str, float]] = field(default_factory=dict)
    hotpath: dict[str, Any] = field(default_factory=dict)
    hotpath_spread: dict[str, Any] = field(default_factory=dict)
    hotpath_protocol: dict[str, Any] = field(default_factory=dict)
    soak: dict[str, Any] = field(default_factory=dict)
    check_client: dict[str, Any] = field(default_factory=dict)
    redis_url: str | None = None
    redis_cost: dict[str, dict[str, float]] = field(default_factory=dict)
    loadavg_start: str = ""
    notes: list[str] = field(default_factory=list)

    def median(self, name: str, attr: str) -> float | None:
        """Median over the rounds of one figure of one server."""
        loads = self.rounds.get(name)
        return median_of([getattr(x, attr) for x in loads]) if loads else None


def measure_startups(servers: list[Server], starts: int, results: Results) -> None:
    """Median seconds from process start to the first 200, over `starts` cold starts each."""
    for server in servers:
        samples = []
        for _ in range(starts):
            running, seconds = start(server)
            if running is None or seconds is None:
                break
            samples.append(seconds)
            stop(running.process)
        results.startup[server.name] = median_of(samples) if samples else None
        shown = f"{results.startup[server.name]:.3f} s" if samples else "did not start"
        print(f"  start-up {server.label}: {shown}  ({', '.join(f'{x:.3f}' for x in samples)})", flush=True)


def run_load(servers: list[Server], args: argparse.Namespace, load: Callable[..., Load],
             results: Results) -> None:
    """Start every server, warm each up, then alternate them round by round."""
    running: list[Running] = []
    try:
        for server in servers:
            started, _ = start(server)
            if started is None:
                results.notes.append(f"{server.label} did not start for the load runs")
                continue
            running.append(started)
        for item in running:
            if item.server.name in EMULATORS:
                # Every recurring person of the mix generated once, as after a long run: the rounds
                # then measure answering, not first-time generation (bench/README.md, "The load").
                print(f"  sweep {item.server.label}: the mix's {POOL:,} recurring addresses once", flush=True)
                sweep(item.port)
            warm = args.warmup * item.server.warmup_factor
            print(f"  warm-up {item.server.label}: {warm:.0f} s", flush=True)
            load(item.port, warm, seed=1)
        for number in range(args.rounds):
            order = running[number % len(running):] + running[:number % len(running)] if running else []
            for item in order:
                result = measured_load(item, load, args.seconds, seed=10 + number)
                results.rounds.setdefault(item.server.name, []).append(result)
                print(f"  round {number + 1}/{args.rounds} {item.server.label:<16} {result.rps:9.0f} req/s  "
                      f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  errors {result.errors}  "
                      f"server CPU {fmt(result.server_cpu_us, 'µs', 1)} a request", flush=True)
        for item in running:
            results.rss_after[item.server.name] = rss_mb(item.process.pid)
    finally:
        for item in running:
            stop(item.process)


def run_soak(requests: int, mix: str, load: Callable[..., Load], results: Results) -> None:
    """A fresh fakeapollo, `requests` requests in wrk chunks: RSS at start, at 50% and at 100%."""
    running, _ = start(Server("fakeapollo-soak", "fakeapollo", fakeapollo_command, env=clean_env()))
    if running is None:
        results.soak = {"skipped": "fakeapollo did not start"}
        return
    soak: dict[str, Any] = {"target": requests, "mix": mix, "rss_start": rss_mb(running.process.pid)}
    done, seed = 0, 100
    rates: list[float] = []
    try:
        for label, goal in (("half", requests // 2), ("full", requests)):
            deadline = time.perf_counter() + min(1800.0, max(60.0, (goal - done) / 100))  # bounded
            errors = 0
            while done < goal and time.perf_counter() < deadline:
                remaining = goal - done
                # Full-length chunks measure the rate; the last one is capped and may idle a moment.
                need = remaining / rates[-1] if rates else 0.0
                if not rates:
                    seconds = 2
                elif need >= 3:
                    seconds = min(10, math.floor(need * 0.9))
                else:
                    seconds = math.ceil(need * 1.3) + 1
                # Each thread stops at its share, so a chunk never overshoots the goal.
                result = load(running.port, seconds, mix=mix, stop_after=remaining, seed=seed)
                seed += 1
                done += result.requests
                errors += result.errors
                if result.requests < remaining * 0.98:  # ran its whole duration: a fair rate
                    rates.append(result.rps)
            soak[f"requests_{label}"] = done
            soak[f"errors_{label}"] = errors
            soak[f"rss_{label}"] = rss_mb(running.process.pid)
            print(f"  soak: {done:,} requests ({errors} errors), RSS {soak[f'rss_{label}']:.1f} MB",
                  flush=True)
        soak["rps"] = median_of(rates) if rates else None
        results.soak = soak
    finally:
        stop(running.process)


# -- the table ---------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "", digits: int = 2) -> str:
    """A number with its unit, or an en dash when there is none."""
    if value is None or value != value:
        return "–"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    return f"{value:,.{digits}f} {unit}".strip()


def verdict(ok: bool | None) -> str:
    """The verdict cell: met, NOT met or n/a."""
    return "n/a" if ok is None else ("met" if ok else "**NOT met**")


def table(results: Results) -> list[str]:
    """The one Markdown table of every figure, with targets and verdicts."""
    names = [s.name for s in results.servers] + list(results.skipped)
    labels = {s.name: s.label for s in results.servers}
    pretty = {"wiremock": "WireMock", "prism": "Prism", "redis1p": "Redis 1p", "redis2p": "Redis 2p",
              "granian": "fakeapollo on granian"}
    labels.update({name: pretty.get(name, name) for name in results.skipped})
    rows: list[list[str]] = []

    def row(figure: str, cells: dict[str, str], target: str = "", ok: bool | None = None,
            show: bool = False) -> None:
        rows.append([figure] + [cells.get(n, "skipped" if n in results.skipped else "–") for n in names]
                    + [target, verdict(ok) if (target or show) else ""])

    def per_server(attr: str, unit: str) -> dict[str, str]:
        return {n: fmt(results.median(n, attr), unit) for n in results.rounds}

    fa_rps = results.median("fakeapollo", "rps")
    fa_p99 = results.median("fakeapollo", "p99_ms")
    hot = results.hotpath.get("min_us")
    row("per-request work in-process: CPU µs a request, the ASGI app called directly, warm (min of "
        f"{len(results.hotpath.get('runs_us', []))}; load average {results.hotpath.get('loadavg', '?')})",
        {"fakeapollo": fmt(hot, "µs", 1)}, f"< {TARGET_HOTPATH_US:g} µs",
        None if hot is None else hot < TARGET_HOTPATH_US)
    spread, spread_requests = results.hotpath_spread.get("min_us"), results.hotpath_spread.get("requests", 0)
    if spread is not None:
        row(f"per-request work in-process over {spread_requests:,} bodies of the mix "
            "(as served: most bodies unseen by the parse memo, persons spread over the cache; min of "
            f"{len(results.hotpath_spread.get('runs_us', []))})", {"fakeapollo": fmt(spread, "µs", 1)})
    through = results.hotpath_protocol.get("min_us")
    if through is not None:
        bodies = results.hotpath_protocol.get("requests", 0)
        row(f"the same {bodies:,} bodies through serve's protocol, sockets apart (bench/hotpath.py"
            " --through-protocol: eight in-memory connections; min of "
            f"{len(results.hotpath_protocol.get('runs_us', []))})", {"fakeapollo": fmt(through, "µs", 1)})
    row("throughput (median of rounds)", per_server("rps", "req/s"))
    for other, target in (("wiremock", TARGET_WIREMOCK_RATIO), ("prism", TARGET_PRISM_RATIO)):
        their = results.median(other, "rps")
        ratio = fa_rps / their if fa_rps and their else None
        name = {"wiremock": "WireMock", "prism": "Prism"}[other]
        row(f"throughput fakeapollo / {name}", {"fakeapollo": fmt(ratio, "×")}, f"≥ {target:.1f}×",
            None if ratio is None else ratio >= target)
    spread = {n: f"{min(x.rps for x in loads):,.0f}–{max(x.rps for x in loads):,.0f}"
              for n, loads in results.rounds.items()}
    row("throughput range over the rounds (min–max req/s)", spread)
    cpu = {n: [x.server_cpu_us for x in loads if x.server_cpu_us is not None]
           for n, loads in results.rounds.items()}
    row("server CPU a request: user + system of the server's processes, every thread (median of rounds)",
        {n: fmt(median_of(used) if used else None, "µs", 1) for n, used in cpu.items()})
    wiremock = results.median("wiremock", "rps")
    if wiremock:
        # One process on one core serves 1 s / (its CPU a request): the budget for the ratio's target.
        row(f"server CPU a request at which one core serves {TARGET_WIREMOCK_RATIO:g}× WireMock's median",
            {"fakeapollo": fmt(1e6 / (TARGET_WIREMOCK_RATIO * wiremock), "µs", 1)})
    stacks = (("asgi1w", "ASGI 1w", "Apollo's routes"), ("flask1w", "Flask 1w", "the control API's"))
    for name, label, stack in stacks:
        baseline = results.median(name, "rps")
        if fa_rps and baseline:
            row(f"throughput fakeapollo / {label} (share of the ceiling of {stack} stack)",
                {"fakeapollo": fmt(fa_rps / baseline, "×")})
        if baseline and wiremock:
            row(f"throughput {label} (bare stack, static body) / WireMock",
                {name: fmt(baseline / wiremock, "×")})
    row("latency p50", per_server("p50_ms", "ms"))
    row("latency p90", per_server("p90_ms", "ms"))
    row("latency p99 (8 connections)", per_server("p99_ms", "ms"), f"< {TARGET_P99_MS:g} ms",
        None if fa_p99 is None else fa_p99 < TARGET_P99_MS)
    errors = {n: str(sum(x.errors for x in loads)) for n, loads in results.rounds.items()}
    row("errors (non-2xx, socket) in rounds", errors)
    fa_start = results.startup.get("fakeapollo")
    startups = {n: fmt(v, "s", 3) for n, v in results.startup.items()}
    row("start-up to first answer (median of starts)", startups,
        f"< {TARGET_STARTUP_S:g} s", None if fa_start is None else fa_start < TARGET_STARTUP_S)
    row("RSS after the load rounds", {n: fmt(v, "MB", 1) for n, v in results.rss_after.items()})
    row("`import mock_server` (median of 5)", {"fakeapollo": fmt(results.import_s, "s", 3)},
        f"< {TARGET_IMPORT_S:g} s", None if results.import_s is None else results.import_s < TARGET_IMPORT_S)
    row("`import mock_server.web.app` (median of 5)", {"fakeapollo": fmt(results.import_app_s, "s", 3)})
    client = results.inproc.get("client", {}).get("median_us")
    row("first person, never-seen email: app via the in-process client (median)",
        {"fakeapollo": fmt(client, "µs", 0)}, f"< {TARGET_FIRST_PERSON_US / 1000:g} ms",
        None if client is None else client < TARGET_FIRST_PERSON_US)
    for key, what in (("service", "`service.people_match`"), ("find", "`directory.find`")):
        value = results.inproc.get(key, {})
        row(f"first person, never-seen email: {what} (median / p99)",
            {"fakeapollo": f"{fmt(value.get('median_us'), 'µs', 0)} / {fmt(value.get('p99_us'), 'µs', 0)}"})
    soak = results.soak
    if "skipped" in soak:
        row("memory soak", {"fakeapollo": f"skipped: {soak['skipped']}"})
    elif soak:
        n, half_n = soak.get("requests_full", 0), soak.get("requests_half", 0)
        full, half = soak.get("rss_full"), soak.get("rss_half")
        growth = (full - half) / half * 100 if full is not None and half else None
        short = "" if soak["target"] >= 200_000 else f" (only {n:,} requests: target is for 200,000)"
        row("RSS at soak start (idle)", {"fakeapollo": fmt(soak.get("rss_start"), "MB", 1)})
        row(f"RSS after {half_n:,} soak requests (50%)", {"fakeapollo": fmt(half, "MB", 1)})
        row(f"RSS after {n:,} soak requests (100%){short}", {"fakeapollo": fmt(full, "MB", 1)},
            f"< {TARGET_RSS_MB:g} MB", None if full is None else full < TARGET_RSS_MB)
        row("RSS growth between 50% and 100% of the soak", {"fakeapollo": fmt(growth, "%", 1)},
            f"< {TARGET_GROWTH_PCT:g} %", None if growth is None else growth < TARGET_GROWTH_PCT)
        soak_errors = soak.get("errors_half", 0) + soak.get("errors_full", 0)
        row("soak throughput / errors", {"fakeapollo": f"{fmt(soak.get('rps'), 'req/s')} / {soak_errors}"})
    check = results.check_client
    if "skipped" in check:
        row("check-client overhead per case", {"fakeapollo": f"skipped: {check['skipped']}"})
    elif check:
        row(f"check-client: time per case ({check['cases']} match/no_match/partial cases, median of "
            f"{CHECK_ROUNDS} rounds)", {"fakeapollo": fmt(check["per_case_ms"], "ms", 1)})
        row(f"check-client: the client's own run, one request (median of {OWN_RUNS} before each round)",
            {"fakeapollo": fmt(check["client_s"] * 1000, "ms", 1)})
        overheads = ", ".join(f"{o:g}" for o in check.get("overheads_ms", []))
        row(f"check-client: overhead per case (each round's time per case − client's own run; median of "
            f"{overheads} ms)", {"fakeapollo": fmt(check["overhead_ms"], "ms", 1)},
            f"< {TARGET_CHECK_OVERHEAD_MS:g} ms", check["overhead_ms"] < TARGET_CHECK_OVERHEAD_MS)
        row("check-client: a typo'd command stopped by the pre-flight (exit)",
            {"fakeapollo": f"{fmt(check['typo_s'], 's', 2)} ({check['typo_exit']})"},
            f"< {TARGET_PREFLIGHT_S:g} s", check["typo_s"] < TARGET_PREFLIGHT_S and check["typo_exit"] == 2)
        row("check-client: its own report per case / fixed start-up",
            {"fakeapollo": f"{check['reported'] or '–'} / {fmt(check['fixed_s'], 's', 2)}"})
        row("check-client: the whole contract, Python client, 10 examples (waits included; exit)",
            {"fakeapollo": f"{fmt(check['whole_s'], 's', 1)} ({check['whole_exit']})"})
    redis_rows(results, row)
    header = ["figure"] + [labels[n] for n in names] + ["target", "met?"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


def loadavg() -> str:
    """The machine's 1, 5 and 15 minute load averages."""
    try:
        return ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def context_lines(results: Results, args: argparse.Namespace, generator: str) -> list[str]:
    """What the figures were measured on and how."""
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30) \
        if shutil.which("java") else None
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        + (f", {java.stderr.splitlines()[0]}" if java and java.stderr else "") + ".",
        f"Load: {generator}, {CONNECTIONS if 'Python' in generator else WRK_THREADS} threads, "
        f"{CONNECTIONS} connections, {args.rounds} round(s) × "
        f"{args.seconds:g} s per server, servers alternating, warm-up {args.warmup:g} s first "
        f"(WireMock ×{WIREMOCK_WARMUP_FACTOR:g}). Body mix: 90% emails from 10,000 distinct addresses, "
        f"5% `@nomatch.test`, 5% `@partial.test`; every server gets the same requests; the others "
        f"answer one static {len(static_body()):,}-byte person.",
        f"Soak: {args.soak:,} requests ({args.soak_mix} mix) on a fresh `fakeapollo serve`; "
        f"RSS = VmRSS summed over the process tree (every process of the server), MB = 10^6 bytes.",
        f"Load average (1, 5, 15 min) at the start: {results.loadavg_start}; at the end: {loadavg()} "
        f"(other processes on the machine skew every column alike; the rounds alternate for that reason).",
    ]
    lines += [f"- {s.label}: {s.note}" for s in results.servers if s.note]
    lines += [f"- {name}: skipped: {why}" for name, why in results.skipped.items()]
    lines += [f"- note: {note}" for note in results.notes]
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 round x 2 s, 20,000-request soak")
    parser.add_argument("--rounds", type=int, help="rounds per server (default 3)")
    parser.add_argument("--seconds", type=float, help="seconds per round (default 5)")
    parser.add_argument("--warmup", type=float,
                        help=f"warm-up seconds per server (default 3; WireMock x{WIREMOCK_WARMUP_FACTOR:g})")
    parser.add_argument("--soak", type=int, help="soak requests (default 200,000; 0 skips)")
    parser.add_argument("--soak-mix", choices=["realistic", "unique"], default="realistic",
                        help="soak bodies: the realistic mix (default) or a never-seen email every time")
    parser.add_argument("--starts", type=int, default=3, help="cold starts per server (default 3)")
    parser.add_argument("--first-person", type=int, default=1000,
                        help="fresh emails in-process (default 1000)")
    parser.add_argument("--only", help="comma-separated servers: fakeapollo,before,granian,asgi1w,flask1w,"
                        "wiremock,prism,sqlite2w,redis1p,redis2p")
    parser.add_argument("--before", type=Path,
                        help="also serve this older checkout (a git worktree) for before/after figures")
    parser.add_argument("--no-check-client", action="store_true", help="skip the check-client overhead")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = max(1, args.rounds if args.rounds is not None else (1 if quick else 3))
    args.seconds = max(1.0, args.seconds if args.seconds is not None else (2.0 if quick else 5.0))
    args.warmup = max(0.0, args.warmup if args.warmup is not None else (1.0 if quick else 3.0))
    args.soak = max(0, args.soak if args.soak is not None else (20_000 if quick else 200_000))
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every measurement, print the table, write bench/results/latest.md."""
    args = parse_args(argv)
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = Results(loadavg_start=loadavg())
    if args.python_load or shutil.which("wrk") is None:
        load: Callable[..., Load] = python_load
        generator = ("Python load generator (threads + http.client keep-alive; it shares the CPUs and, "
                     "GIL-bound, is slower than wrk)")
        print("wrk not used: " + ("--python-load" if args.python_load else "wrk is not installed")
              + "; falling back to the Python load generator", flush=True)
    else:
        load = wrk_load
        generator = "wrk (bench/match.lua)"
    only = set(args.only.split(",")) if args.only else None
    print("== preparing servers", flush=True)
    results.servers, results.skipped = build_servers(only, args.before)
    results.servers += run_store_bench(args, load, results, only)
    print("== import time", flush=True)
    results.import_s = import_time("mock_server")
    results.import_app_s = import_time("mock_server.web.app")
    print(f"  import mock_server {results.import_s:.3f} s, mock_server.web.app {results.import_app_s:.3f} s",
          flush=True)
    print("== per-request work in-process (bench/hotpath.py)", flush=True)
    results.hotpath = hotpath()
    print(f"  {results.hotpath['min_us']} µs (min), load average {results.hotpath['loadavg']}", flush=True)
    results.hotpath_spread = hotpath("--requests", str(SPREAD_REQUESTS), "--repeats", "3")
    print(f"  {results.hotpath_spread['min_us']} µs over {SPREAD_REQUESTS:,} bodies (min)", flush=True)
    results.hotpath_protocol = hotpath("--through-protocol", "--requests", str(SPREAD_REQUESTS),
                                       "--repeats", "3")
    print(f"  {results.hotpath_protocol['min_us']} µs over the same bodies through serve's protocol (min)",
          flush=True)
    print("== first person for never-seen emails, in-process", flush=True)
    results.inproc = first_person(args.first_person)
    medians = {k: round(v["median_us"]) for k, v in results.inproc.items()}
    print(f"  median µs: {json.dumps(medians)}", flush=True)
    print("== start-up", flush=True)
    measure_startups(results.servers, args.starts, results)
    print("== load rounds", flush=True)
    run_load(results.servers, args, load, results)
    if results.redis_url is not None:
        print("== what a request costs Redis", flush=True)
        for server in results.servers:
            if server.name.startswith("redis"):
                measure_redis_cost(server, results.redis_url, args, load, results)
    if args.soak and (only is None or "fakeapollo" in only):
        print(f"== memory soak: {args.soak:,} requests", flush=True)
        run_soak(args.soak, args.soak_mix, load, results)
    if not args.no_check_client:
        print("== check-client overhead", flush=True)
        results.check_client = check_client_overhead(ROOT / "examples" / "clients" / "python_client.py")
    lines = table(results)
    context = context_lines(results, args, generator)
    print()
    print("\n".join(lines))
    print()
    print("\n".join(context))
    markdown = ["# fakeapollo benchmark (bench/run.py)", "", *lines, "", *context, ""]
    (RESULTS / "latest.md").write_text("\n".join(markdown), encoding="utf-8")
    print(f"\nwritten to {(RESULTS / 'latest.md').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every server started", file=sys.stderr)
        stop_all()
        sys.exit(130)
