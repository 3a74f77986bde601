"""The `fakeapollo` command: serve the emulator, print its OpenAPI document, validate documents."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from mock_server import __version__
from mock_server.config import (
    SETTINGS,
    Config,
    SettingError,
    allowed_text,
    default_text,
    env_name,
    flag_name,
    is_list,
    is_switch,
    metavar,
    parse_setting,
    with_request_id_seed,
)


class _Parser(argparse.ArgumentParser):
    """argparse whose errors say what to do: a bad value in one line, anything else with the usage.

    `fakeapollo serve: argument --port: must be ...` for a value; a missing command lists the
    commands; an unknown flag names the closest one.
    """

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument ") and ": " in message:
            self.exit(2, f"{self.prog}: {message}\n")  # a value of a known flag: one line naming it
        if "required: command" in message:
            self.exit(2, f"{self.format_help()}\n{self.prog}: a command is needed (listed above)\n")
        self.exit(2, f"{self.format_usage()}{self.prog}: {message}\n")

    def unrecognized(self, extras: list[str]) -> NoReturn:
        """Stop on arguments no flag takes, suggesting the flag each mistyped one is closest to."""
        message = f"unrecognized arguments: {' '.join(extras)}"
        flags = [option for option in self._option_string_actions if option.startswith("--")]
        for extra in extras:
            close = difflib.get_close_matches(extra.split("=")[0], flags, n=1, cutoff=0.6)
            if extra.startswith("-") and close:
                message += f"; did you mean {close[0]}?"
        self.error(message)


def _setting(name: str) -> Callable[[str], Any]:
    """An argparse type that reads a flag as the setting `name` (config.py's one rule for both)."""

    def read(raw: str) -> Any:
        try:
            return parse_setting(name, raw)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = name
    return read


def _read_document(path: Path) -> bytes:
    """The bytes of `path` (`-`: stdin); FileRefused for anything but a regular file (a FIFO would hang)."""
    from mock_server.domain.files import read_bytes

    return sys.stdin.buffer.read() if str(path) == "-" else read_bytes(path)


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
        description="Run the emulator. Every setting is a flag here, a FAKEAPOLLO_<SETTING> environment "
        "variable (shown in brackets) and a fakeapollo_options name in the pytest plugin; a flag wins "
        "over the environment. docs/configuration.md has the same table.",
    )
    _add_setting_flags(serve)

    commands.add_parser(
        "openapi",
        help="print the OpenAPI document of the emulated endpoints",
        description="Print the OpenAPI 3.1 document of the emulated endpoints (built from schemas/) "
        "on stdout: the same document a running emulator serves at /openapi.json.",
    )

    validate = commands.add_parser(
        "validate",
        help="validate a JSON document against a schema",
        description="Validate a JSON document against one of fakeapollo's schemas and list every "
        "violation; exit status 0 when valid, 1 when not, 2 when the file or schema cannot be read.",
    )
    validate.add_argument("schema", help="schema name, e.g. people_match.response")
    validate.add_argument("document", type=Path, help="JSON file to check ('-' for stdin)")
    _add_contract_commands(commands)
    _add_record_command(commands)
    for command in commands.choices.values():
        command.set_defaults(parser=command)  # whose usage and flags an unknown argument is checked against
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
        print(f"fakeapollo record: {problem}", file=sys.stderr)
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


def _add_setting_flags(serve: argparse.ArgumentParser) -> None:
    """One flag per Config setting, from its metadata: help, default, range, choices, variable."""
    groups: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        if setting.group not in groups:
            groups[setting.group] = serve.add_argument_group(setting.group)
        allowed = allowed_text(name)
        details = f"default {default_text(name)}"
        if allowed and not is_switch(name):
            details += f"; {allowed}"
        off = "turn off: " if flag_name(name).startswith("--no-") else ""
        text = f"{off}{setting.help} ({details}) [{env_name(name)}]".replace("%", "%%")
        group = groups[setting.group]
        if is_switch(name):
            action = "store_false" if flag_name(name).startswith("--no-") else "store_true"
            group.add_argument(flag_name(name), action=action, dest=name, default=None, help=text)
        else:
            group.add_argument(
                flag_name(name),
                dest=name,
                type=_setting(name),
                action="append" if is_list(name) else "store",
                metavar=metavar(name),
                help=text,
            )


def _flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags (None for those not given), lists flattened."""
    values = {name: getattr(args, name) for name in SETTINGS}
    for name in SETTINGS:
        if is_list(name) and values[name] is not None:
            values[name] = tuple(item for given in values[name] for item in given)
    return with_request_id_seed(values)


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
    if config.store is None:
        return None
    try:
        from mock_server.stores.redis_client import check_prefix, connect
    except ImportError:
        return "--store redis:// needs the Redis extra: pip install 'fakeapollo[redis]'"

    if config.state_file is not None:
        return "--store and --state-file name two different stores: choose one"

    try:
        check_prefix(config.store_prefix)
        connect(config.store).close()
    except ValueError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fakeapollo` console script."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        args.parser.unrecognized(extras)
    if args.command == "serve":
        from mock_server.config import unknown_environment
        from mock_server.web.server import serve

        for warning in unknown_environment():
            print(f"fakeapollo serve: warning: {warning}", file=sys.stderr)
        try:
            environment = Config.from_env()
        except SettingError as exc:
            print(f"fakeapollo serve: {exc}", file=sys.stderr)
            return 2
        config = environment.with_overrides(**_flag_settings(args))
        try:
            config = config.with_token_from_file()
        except SettingError as exc:
            print(f"fakeapollo serve: {exc}", file=sys.stderr)
            return 2
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
    from mock_server.domain.encoding import NotDecodable, decode_text, loads_strictly
    from mock_server.domain.files import FileRefused
    from mock_server.domain.keys import registry_problems

    try:
        document = loads_strictly(decode_text(_read_document(path)))
    except OSError as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    except FileRefused as exc:
        print(f"cannot read {path}: {exc.problem}", file=sys.stderr)
        return 2
    except NotDecodable as exc:
        print(f"{path} {exc}", file=sys.stderr)
        return 2
    try:
        validate(schema, document)
        # What serve refuses of a registry past its schema (a NaN credit, a 1.0 limit), validate too.
        problems = registry_problems(document) if schema.removesuffix(".json") == "key_registry" else []
        if problems:
            raise SchemaViolation("key_registry", problems)
    except SchemaViolation as exc:
        print(exc, file=sys.stderr)
        return 1
    except UnknownSchema as exc:
        print(f"unknown schema {schema!r}: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: valid {schema}")
    return 0
