"""`make bench-quick`: this checkout against an older commit in under a minute (a slowdown shows that day).

Usage: `.venv/bin/python bench/quick.py [--before REV] [--seconds S] [--rounds N]` (REV defaults to
HEAD~1; `make bench-quick BEFORE=0b4d4ee`). REV is checked out into a temporary git worktree and run
from its own sources with this checkout's packages. Two figures for each, taken alternately so a
busy moment of the machine falls on both:

- in-process µs of CPU per request on bench/'s mix (bench/hotpath.py: the ASGI application called
  directly, warm; the minimum of several repeats, the figure to compare), and the same requests
  through `fakeapollo serve`'s uvicorn protocol on in-memory connections (`--through-protocol`: the
  served path but the sockets; it moves with a change to the protocol, which the first does not see,
  and the machine's other work moves it less than the served figures);
- single-process requests per second over HTTP (`fakeapollo serve`, default settings, wrk with 2
  threads and 8 connections on the same mix drawn from 1,000 addresses instead of 10,000, each
  asked for once before the warm-up, so every person is cached as after a long run; or the Python
  load generator without wrk; the median of the rounds), and the server's CPU a request over the
  same rounds (user + system, from /proc: one process on one core serves 1 s / that figure, and
  other work on the machine moves it less than the requests/s).

The load average is printed beside every figure: on a shared machine compare figures of one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import run as bench

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = Path(sys.executable)


def loadavg() -> str:
    """The 1-, 5- and 15-minute load averages."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


@contextmanager
def checkout(rev: str) -> Iterator[tuple[Path, str]]:
    """A temporary worktree of `rev` (removed afterwards) and its short commit id."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], capture_output=True,
                            text=True, check=True, timeout=30).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix="fakeapollo-before-"))
    tree = folder / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach", str(tree), commit],
                   check=True, timeout=120)
    try:
        yield tree, commit
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def source_env(tree: Path | None) -> dict[str, str]:
    """The environment that runs fakeapollo from `tree`'s sources (None: this checkout's)."""
    env = bench.clean_env()
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def hotpath(tree: Path | None, requests: int, repeats: int, *flags: str) -> dict[str, Any]:
    """bench/hotpath.py's figures for `tree`'s sources (this checkout's script, their code)."""
    done = subprocess.run(
        [str(PYTHON), "-P", str(BENCH / "hotpath.py"),
         "--requests", str(requests), "--repeats", str(repeats), *flags],
        capture_output=True, text=True, timeout=300, env=source_env(tree), cwd=tree or ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/hotpath.py failed: {done.stderr[-800:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def serve_command(port: int) -> list[str]:
    """`fakeapollo serve` from the sources on PYTHONPATH (-P: not from the working directory)."""
    return [str(PYTHON), "-P", "-m", "mock_server", "serve", "--port", str(port)]


def throughput(tree: Path | None, label: str, load: Callable[..., bench.Load], warmup: float,
               seconds: float) -> tuple[bench.Running, float]:
    """Start `fakeapollo serve` from `tree`'s sources, warm it up; the server and its start-up seconds."""
    server = bench.Server(label, label, serve_command, env=source_env(tree))
    running, startup = bench.start(server)
    if running is None or startup is None:
        raise RuntimeError(f"{label} did not answer; see {bench.LOGS}")
    bench.sweep(running.port)  # every recurring person once
    load(running.port, warmup)
    return running, startup


def main(argv: list[str] | None = None) -> int:
    """Measure, print one table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of load per round (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="load rounds per server (default 3)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load (default 2)")
    parser.add_argument("--requests", type=int, default=3_000, help="in-process requests per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="in-process repeats (the minimum is kept)")
    parser.add_argument("--pool", type=int, default=1_000, help="distinct addresses of the HTTP mix")
    args = parser.parse_args(argv)
    bench.POOL = args.pool
    bench.LOGS.mkdir(parents=True, exist_ok=True)
    load = bench.wrk_load if shutil.which("wrk") else bench.python_load
    generator = "wrk -t2 -c8" if load is bench.wrk_load else "the Python load generator (no wrk)"
    with checkout(args.before) as (tree, commit):
        sides: list[tuple[str, Path | None]] = [("this checkout", None), (f"before ({commit})", tree)]
        inproc: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
        protocol: dict[str, dict[str, Any] | None] = {}
        for name, folder in sides:
            inproc[name].append(hotpath(folder, args.requests, args.repeats))
        for name, folder in sides:
            try:
                protocol[name] = hotpath(folder, args.requests, args.repeats, "--through-protocol")
            except RuntimeError as exc:  # a checkout older than the protocol bench's imports
                print(f"bench-quick: no figure through the protocol for {name}: {exc}", file=sys.stderr)
                protocol[name] = None
        rates: dict[str, list[float]] = {name: [] for name, _ in sides}
        cpu: dict[str, list[float]] = {name: [] for name, _ in sides}
        loads: dict[str, list[str]] = {name: [] for name, _ in sides}
        startups: dict[str, float] = {}
        running = {}
        try:
            for name, folder in sides:
                running[name], startups[name] = throughput(folder, name, load, args.warmup, args.seconds)
            for round_ in range(args.rounds):
                order = sides if round_ % 2 == 0 else sides[::-1]
                for name, _ in order:
                    result = bench.measured_load(running[name], load, args.seconds)
                    rates[name].append(result.rps)
                    if result.server_cpu_us is not None:
                        cpu[name].append(result.server_cpu_us)
                    loads[name].append(loadavg())
        finally:
            for server in running.values():
                bench.stop(server.process)
    print(f"\nbench-quick: this checkout against {commit}, load by {generator}, {os.cpu_count()} CPUs\n")
    print("| figure | this checkout | before (" + commit + ") | ratio |")
    print("|---|---|---|---|")
    mine, theirs = (min(r["min_us"] for r in inproc[name]) for name, _ in sides)
    print(f"| in-process µs of CPU per request (min) | {mine:.1f} | {theirs:.1f} "
          f"| {theirs / mine:.2f}× faster |")
    for name, _ in sides:
        print(f"|   load average during it ({name}) | {' / '.join(r['loadavg'] for r in inproc[name])} | | |")
    through = [protocol[name] for name, _ in sides]
    shown = [f"{r['min_us']:.1f}" if r is not None else "–" for r in through]
    mine_p, theirs_p = through
    ratio = f"{theirs_p['min_us'] / mine_p['min_us']:.2f}× faster" if mine_p and theirs_p else ""
    print(f"| in-process µs through the served protocol, no sockets (min) | {shown[0]} | {shown[1]} "
          f"| {ratio} |")
    rate_mine, rate_theirs = (statistics.median(rates[name]) for name, _ in sides)
    print(f"| requests/s, one process (median of {args.rounds}) | {rate_mine:,.0f} | {rate_theirs:,.0f} "
          f"| {rate_mine / rate_theirs:.2f}× |")
    print(f"|   rounds (req/s) | {', '.join(f'{r:,.0f}' for r in rates[sides[0][0]])} "
          f"| {', '.join(f'{r:,.0f}' for r in rates[sides[1][0]])} | |")
    if all(cpu[name] for name, _ in sides):
        cpu_mine, cpu_theirs = (statistics.median(cpu[name]) for name, _ in sides)
        print(f"| server CPU µs a request (median of {args.rounds}) | {cpu_mine:.1f} | {cpu_theirs:.1f} "
              f"| {cpu_theirs / cpu_mine:.2f}× less |")
        print(f"|   rounds (µs) | {', '.join(f'{c:.1f}' for c in cpu[sides[0][0]])} "
              f"| {', '.join(f'{c:.1f}' for c in cpu[sides[1][0]])} | |")
    print(f"|   load average after each round | {' / '.join(loads[sides[0][0]])} "
          f"| {' / '.join(loads[sides[1][0]])} | |")
    print(f"| start-up to first answer | {startups[sides[0][0]]:.3f} s | {startups[sides[1][0]]:.3f} s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
