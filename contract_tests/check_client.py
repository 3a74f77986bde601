"""`fakeapollo check-client`: the contract against a client in any language, run as a command.

For each case fakeapollo queues the case's answer(s) on its emulator (one it starts, or the one at
`--base-url`, through the control API) and runs the command with
`APOLLO_BASE_URL` (`http://127.0.0.1:PORT`), `APOLLO_API_URL` (the same plus `/api/v1`) and
`APOLLO_API_KEY` in its environment and one JSON object on stdin:

    {"operation": "people_match", "params": {...}}
    {"operation": "people_bulk_match", "details": [...]}
    {"operation": "receive_webhooks", "payloads": [...]}     (feed each payload to a fresh receiver)
    {"operation": "people_match_phones", "params": {...}}   (people/match, then poll the request_id)
    {"operation": "search_then_enrich", "params": {...}}     (search every page, enrich each found by id)

The command prints one JSON object on stdout and exits 0:

    {"outcome": "match", "person": {"id": ..., "email": ...}}     {"outcome": "no_match"}
    {"outcome": "bulk", "matches": [{"id": ...}, null, ...]}      {"outcome": "unauthorized"}
    {"outcome": "forbidden"}     {"outcome": "rate_limited"}     {"outcome": "error", "message": "..."}
    {"outcome": "webhook", "state": ...}     {"outcome": "unsupported"}  (skips the property)
    {"outcome": "phones", "request_id": "...", "phone_numbers": [...]}
    {"outcome": "people", "people": [{"id": ...}, null, ...]}     (search order, null for a miss)

A non-zero exit or stdout holding anything but exactly one JSON object counts as a crash (log on
stderr); a run past its budget (`--timeout` plus what its case makes it wait) is stopped. The
command is first tried once on a trivial job: if that fails, the run stops there (exit status 2).
With `--persistent` the command is started once and kept running: each case is one line on its stdin,
`{"request": <the object above>, "env": {"APOLLO_BASE_URL": ..., "APOLLO_API_URL": ...,
"APOLLO_API_KEY": ...}}`, answered by one outcome line (`contract_tests.drivers.LinesDriver`).
One progress line per property goes to stderr as it finishes; the report goes to stdout.
Hypothesis keeps its files in a temporary directory, not in the caller's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from contract_tests.control_http import base_url_flag
from contract_tests.defaults import (
    DEFAULT_EXAMPLES,
    DEFAULT_TIMEOUT,
    EXAMPLES_RANGE,
    SEED_RANGE,
    TIMEOUT_RANGE,
)
from mock_server.config import number_flag

#: Properties that run fewer cases whatever --examples says (they wait real seconds); a test checks
#: these against the contract's own caps.
CAPPED_EXAMPLES = {"rate_limited": 5, "timeouts": 2}
PROPERTY_NAMES = (
    "match, no_match, partial, unauthorized, forbidden, client_error, rate_limited, server_error, "
    "timeouts, valid_requests, bulk, bulk_errors, idempotent_webhooks, request_ids, search_then_enrich"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `check-client`."""
    parser.add_argument("--cmd", required=True, help='the client command, e.g. "node my_client.js"')
    parser.add_argument(
        "--examples",
        type=number_flag(True, *EXAMPLES_RANGE),
        default=DEFAULT_EXAMPLES,
        help=f"cases per property, {EXAMPLES_RANGE[0]} to {EXAMPLES_RANGE[1]} (default {DEFAULT_EXAMPLES}; "
        + ", ".join(f"{name} runs at most {cap}" for name, cap in CAPPED_EXAMPLES.items())
        + ")",
    )
    parser.add_argument(
        "--seed",
        type=number_flag(True, *SEED_RANGE),
        default=0,
        help=f"seed of the generated cases, {SEED_RANGE[0]} to 2**64 - 1 (default 0)",
    )
    parser.add_argument(
        "--property",
        dest="properties",
        action="append",
        metavar="NAME",
        help="run only this property (repeatable): " + PROPERTY_NAMES,
    )
    parser.add_argument(
        "--timeout",
        type=number_flag(False, *TIMEOUT_RANGE),
        default=DEFAULT_TIMEOUT,
        help=f"seconds ({TIMEOUT_RANGE[0]:g} to {TIMEOUT_RANGE[1]:g}) of its own one client run may take, "
        f"on top of what its case makes it wait (Retry-After, a slow or hung answer, back-off); past that "
        f"it is stopped as hung (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--cwd", help="working directory of the command (default: the current one)")
    parser.add_argument(
        "--persistent",
        action="store_true",
        help='start the command once and keep it running: each case is one JSON line on its stdin, '
        '{"request": <the job>, "env": {"APOLLO_BASE_URL": ..., "APOLLO_API_URL": ..., '
        '"APOLLO_API_KEY": ...}}, answered by one JSON outcome line on stdout; a crashed, hung or '
        "garbled process is killed and the next case starts a fresh one",
    )
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failing property")
    parser.add_argument(
        "--base-url",
        type=base_url_flag,
        help="test against the fakeapollo already serving at this http(s)://host[:port] URL "
        "(e.g. http://127.0.0.1:8765) instead of starting one",
    )
    parser.add_argument("--admin-token", help="the --admin-token of the emulator at --base-url, if any")


def import_hypothesis_alone() -> None:
    """Import Hypothesis without third-party plugins, leaving the environment (the client's) as it was.

    The contract draws only its own strategies; a plugin such as trio's imports pytest, about a third
    of a second of every run's start.
    """
    if "hypothesis" in sys.modules:
        return
    before = os.environ.get("HYPOTHESIS_NO_PLUGINS")
    os.environ["HYPOTHESIS_NO_PLUGINS"] = "1"
    try:
        import hypothesis  # noqa: F401
    finally:
        if before is None:
            del os.environ["HYPOTHESIS_NO_PLUGINS"]
        else:
            os.environ["HYPOTHESIS_NO_PLUGINS"] = before


def run(args: argparse.Namespace) -> int:
    """Run the contract, print the report; exit status 1 when a property failed."""
    import_hypothesis_alone()
    from contract_tests.drawing import use_home_dir

    # Nothing of Hypothesis's in the caller's directory (no .hypothesis/).
    use_home_dir(Path(tempfile.gettempdir()) / "fakeapollo-hypothesis")

    from contract_tests.contract import property_named
    from contract_tests.drivers import CommandDriver, LinesDriver
    from contract_tests.report import PropertyResult
    from contract_tests.runner import ClientDidNotRun, ContractServer, run_contract

    try:
        for name in args.properties or []:
            property_named(name)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    driver = (LinesDriver if args.persistent else CommandDriver)(args.cmd, args.timeout, args.cwd)

    def progress(result: PropertyResult) -> None:
        print(progress_line(result), file=sys.stderr, flush=True)

    server = None
    if args.base_url:
        server = ContractServer(args.base_url, args.admin_token)
        try:
            server.control.check()
        except RuntimeError as exc:
            print(f"check-client: {exc}", file=sys.stderr)
            return 2
    try:
        report = run_contract(
            driver,
            server=server,
            examples=args.examples,
            seed=args.seed,
            properties=args.properties,
            fail_fast=args.fail_fast,
            progress=progress,
            preflight=True,
        )
    except ClientDidNotRun as exc:
        print(f"check-client: {exc}", file=sys.stderr)
        return 2
    finally:
        if isinstance(driver, LinesDriver):
            driver.close()
        if server is not None:
            server.stop()
    print(report.render())
    return 0 if report.ok else 1


def progress_line(result: Any) -> str:
    """One line for a finished property: `check-client: match passed (10 cases, 2.1 s)`."""
    mark = "FAILED" if result.status == "failed" else result.status
    return f"check-client: {result.prop.name} {mark} ({result.cases} cases, {result.seconds:.1f} s)"


__all__ = ["add_arguments", "progress_line", "run"]
