"""The `fakeapollo` command: serve the emulator, print its OpenAPI document, validate documents."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from mock_server import __version__
from mock_server.config import Config, SettingError, parse_setting


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `fakeapollo serve: argument --port: must be ...`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def _setting(name: str) -> Callable[[str], Any]:
    """An argparse type that reads a flag as the setting `name` (config.py's one rule for both)."""

    def read(raw: str) -> Any:
        try:
            return parse_setting(name, raw)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = name
    return read


def build_parser() -> argparse.ArgumentParser:
    """The command line, with one sub-command per task."""
    parser: argparse.ArgumentParser = _Parser(
        prog="fakeapollo", description="An offline emulator of Apollo.io's People Enrichment API."
    )
    parser.add_argument("--version", action="version", version=f"fakeapollo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the emulator",
        description="Run the emulator. Every option can also be set as FAKEAPOLLO_<OPTION> "
        "(for example FAKEAPOLLO_PORT=9000); a flag wins over the environment.",
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1, loopback only)")
    serve.add_argument(
        "--port", type=_setting("port"), help="port to bind (default 8765; 0 picks a free one)"
    )
    serve.add_argument(
        "--seed",
        type=_setting("seed"),
        help="seed of the generated people (default 0); given, request ids are reproducible too",
    )
    serve.add_argument(
        "--fixtures", type=Path, help="folder of canned person JSON files, served besides the bundled ones"
    )
    serve.add_argument(
        "--no-bundled-fixtures",
        action="store_false",
        dest="bundled_fixtures",
        default=None,
        help="leave out the bundled fixture persons (tim@apollo.io and the others)",
    )
    serve.add_argument("--keys", type=Path, help="key registry JSON file (default: fixtures/keys.json)")
    serve.add_argument(
        "--legacy-api-key",
        action="store_true",
        default=None,
        help="accept api_key in the body or query string, as Apollo did before late 2025",
    )
    serve.add_argument("--threads", type=_setting("threads"), help="threads per worker process (default 8)")
    serve.add_argument(
        "--workers",
        type=_setting("workers"),
        help="worker processes (default 1); more than one share all state through a SQLite file",
    )
    serve.add_argument(
        "--state-file",
        type=Path,
        help="keep all state in this SQLite file: pending webhook deliveries survive a crash",
    )
    _add_store_flags(serve)
    serve.add_argument(
        "--journal-size",
        type=_setting("journal_size"),
        help="requests the journal keeps, oldest dropped first (default 1000)",
    )
    serve.add_argument(
        "--journal-bytes",
        type=_setting("journal_bytes"),
        help="bytes of bodies and headers the journal keeps, oldest dropped first (default 64 MiB)",
    )
    serve.add_argument(
        "--out-of-credits",
        choices=["error", "no_match"],
        help="what a team with no credits left gets: a 422 (default) or no match",
    )
    serve.add_argument(
        "--free-plan-blocked",
        action="store_true",
        default=None,
        help="answer a free-plan team's people/match and bulk_match with Apollo's 403 (older reports;"
        " default: served, as in 2026)",
    )
    serve.add_argument(
        "--bulk-share",
        type=_setting("bulk_share"),
        help="share of the per-minute limit bulk_match gets (default 0.5)",
    )
    serve.add_argument("--admin-token", help="require 'Authorization: Bearer TOKEN' on /__admin/")
    serve.add_argument(
        "--no-admin", action="store_false", dest="admin", default=None, help="remove the control API"
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        default=None,
        help="print one line per request: time, method, path, status, masked key, outcome, ms",
    )
    _add_webhook_flags(serve)

    commands.add_parser("openapi", help="print the OpenAPI document of the emulated endpoints")

    validate = commands.add_parser("validate", help="validate a JSON document against a schema")
    validate.add_argument("schema", help="schema name, e.g. people_match.response")
    validate.add_argument("document", type=Path, help="JSON file to check ('-' for stdin)")
    _add_contract_commands(commands)
    _add_record_command(commands)
    return parser


def _add_record_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`record` : a recording proxy in front of Apollo (mock_server/recording/proxy.py)."""
    record = commands.add_parser(
        "record",
        help="proxy to Apollo and record its answers as fixtures, under a credit cap",
        description="Forward Apollo calls with the key in APOLLO_API_KEY and record every exchange, "
        "the matched persons (as fixtures for `serve --fixtures DIR/persons`) and the drift from the "
        "schemas. DIR holds personal data unless --scrub is given.",
    )
    record.add_argument(
        "--upstream", required=True, help="base URL to forward to, e.g. https://api.apollo.io"
    )
    record.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to record into")
    record.add_argument(
        "--max-credits",
        type=float,
        help="refuse any call that could take the credits spent past N (required for a non-local upstream)",
    )
    record.add_argument("--scrub", action="store_true", help="replace personal data with consistent fakes")
    record.add_argument(
        "--port", type=_setting("port"), default=8766, help="port on 127.0.0.1 (default 8766; 0: any)"
    )
    record.add_argument(
        "--webhook-base",
        metavar="URL",
        help="public URL at which the upstream reaches this proxy's webhook receiver (a tunnel); "
        "default http://127.0.0.1:PORT, which only a local upstream can reach",
    )
    record.add_argument(
        "--upstream-timeout", type=float, default=60.0, help="seconds to wait for the upstream (default 60)"
    )
    record.add_argument(
        "--webhook-allow",
        action="append",
        metavar="CIDR|HOST",
        help="also pass webhooks on to this network or host (loopback and private networks always)",
    )


def _record(args: argparse.Namespace) -> int:
    """Run `fakeapollo record` with the key from APOLLO_API_KEY."""
    import os

    from mock_server.recording.proxy import RecordSettings, record, settings_problem

    settings = RecordSettings(
        upstream=args.upstream,
        out=args.out,
        api_key=os.environ.get("APOLLO_API_KEY", "").strip(),
        max_credits=args.max_credits,
        scrub=args.scrub,
        port=args.port,
        webhook_base=args.webhook_base,
        upstream_timeout=args.upstream_timeout,
        webhook_allow=tuple(args.webhook_allow or ()),
    )
    problem = settings_problem(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    return record(settings)


def _add_contract_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`check-client` and `verify`; their code lives in contract_tests."""
    from contract_tests import check_client, verify

    check = commands.add_parser(
        "check-client",
        help="run the client contract against a client command (any language)",
        description=(check_client.__doc__ or "").split("\n")[0],
    )
    check_client.add_arguments(check)
    probe = commands.add_parser(
        "verify",
        help="probe a real Apollo (or any URL) and report drift from the schemas",
        description=(verify.__doc__ or "").split("\n")[0],
    )
    verify.add_arguments(probe)


def _add_store_flags(serve: argparse.ArgumentParser) -> None:
    """The flags of the shared Redis store."""
    serve.add_argument(
        "--store",
        metavar="redis://HOST:PORT/DB",
        help="keep all state in this Redis (or Valkey) server: every process and host naming it "
        "serves one emulator (rate limits, credits, journal, clock, webhooks)",
    )
    serve.add_argument(
        "--store-prefix",
        metavar="NAME",
        help="start every key in the store with NAME: (default fakeapollo); deployments sharing "
        "one server use different ones",
    )
    serve.add_argument(
        "--store-lease",
        type=float,
        metavar="SECONDS",
        help="how long a claimed webhook delivery stays with its process before another may send it "
        "after a crash (default 30)",
    )


def _add_webhook_flags(serve: argparse.ArgumentParser) -> None:
    """The flags of webhook deliveries."""
    hooks = serve.add_argument_group("webhooks")
    hooks.add_argument(
        "--webhook-delay",
        metavar="SECONDS",
        help="seconds from a request to its webhook: fixed (5) or a range (2-10); default 2-5",
    )
    hooks.add_argument(
        "--webhook-attempts",
        type=_setting("webhook_attempts"),
        help="attempts per delivery before it is marked failed (default 5)",
    )
    hooks.add_argument(
        "--webhook-timeout",
        type=_setting("webhook_timeout"),
        help="seconds one delivery attempt may take (default 5)",
    )
    hooks.add_argument(
        "--webhook-backoff",
        type=_setting("webhook_backoff"),
        help="seconds before the first retry, doubling after (default 2)",
    )
    hooks.add_argument(
        "--webhook-duplicate-rate",
        type=_setting("webhook_duplicate_rate"),
        help="share of deliveries sent twice with the same request_id, 0 to 1 (default 0)",
    )
    hooks.add_argument(
        "--webhook-out-of-order",
        action="store_true",
        default=None,
        help="jitter due times and send deliveries due together newest first",
    )
    hooks.add_argument(
        "--webhook-allow",
        action="append",
        metavar="CIDR|HOST",
        help="also allow webhooks to this network or host (repeatable; '*' allows any); "
        "loopback and private networks are allowed unless 'none' is given",
    )


def _config_problem(config: Config) -> str | None:
    """Why `serve` cannot run with these settings (one line naming the setting), or None."""
    from mock_server.domain.webhooks.outbox import Settings
    from mock_server.domain.webhooks.transport import Allowlist

    store_problem = _store_problem(config)
    if store_problem is not None:
        return store_problem
    try:
        config.check()
        Settings.from_config(config)
        Allowlist(config.webhook_allow).close()
    except ValueError as exc:
        return str(exc)
    return None


def _store_problem(config: Config) -> str | None:
    """Why the store settings cannot work, or None (whether the server answers is checked at start)."""
    import math

    if config.store is None:
        return None
    try:
        from mock_server.stores.redis_client import check_prefix, connect
    except ImportError:
        return "--store redis:// needs the Redis extra: pip install 'fakeapollo[redis]'"

    if config.state_file is not None:
        return "--store and --state-file name two different stores: choose one"

    if not (math.isfinite(config.store_lease) and 1 <= config.store_lease <= 86_400):
        return "--store-lease must be between 1 and 86400 seconds"
    try:
        check_prefix(config.store_prefix)
        connect(config.store).close()
    except ValueError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fakeapollo` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from mock_server.web.server import serve

        try:
            environment = Config.from_env()
        except SettingError as exc:
            print(f"fakeapollo serve: {exc}", file=sys.stderr)
            return 2
        config = environment.with_overrides(
            host=args.host,
            port=args.port,
            seed=args.seed,
            request_id_seed=args.seed,
            fixtures=args.fixtures,
            bundled_fixtures=args.bundled_fixtures,
            keys=args.keys,
            legacy_api_key=args.legacy_api_key,
            threads=args.threads,
            workers=args.workers,
            state_file=args.state_file,
            store=args.store,
            store_prefix=args.store_prefix,
            store_lease=args.store_lease,
            journal_size=args.journal_size,
            journal_bytes=args.journal_bytes,
            out_of_credits=args.out_of_credits,
            bulk_share=args.bulk_share,
            free_plan_blocked=args.free_plan_blocked,
            admin_token=args.admin_token,
            admin=args.admin,
            access_log=args.access_log,
            webhook_delay=args.webhook_delay,
            webhook_attempts=args.webhook_attempts,
            webhook_timeout=args.webhook_timeout,
            webhook_backoff=args.webhook_backoff,
            webhook_duplicate_rate=args.webhook_duplicate_rate,
            webhook_out_of_order=args.webhook_out_of_order,
            webhook_allow=tuple(args.webhook_allow) if args.webhook_allow else None,
        )
        problem = _config_problem(config)
        if problem is not None:
            print(f"fakeapollo serve: {problem}", file=sys.stderr)
            return 2
        return serve(config)
    if args.command == "openapi":
        from mock_server.web.openapi import build_openapi

        json.dump(build_openapi(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.command == "check-client":
        from contract_tests import check_client

        return check_client.run(args)
    if args.command == "verify":
        from contract_tests import verify

        return verify.run(args)
    if args.command == "record":
        return _record(args)
    return _validate(args.schema, args.document)


def _validate(schema: str, path: Path) -> int:
    """Print every violation of `path` against `schema`; exit status 1 when there are any."""
    from mock_server.domain.data import SchemaViolation, UnknownSchema, validate

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        validate(schema, document)
    except SchemaViolation as exc:
        print(exc, file=sys.stderr)
        return 1
    except UnknownSchema as exc:
        print(f"unknown schema {schema!r}: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: valid {schema}")
    return 0
