"""Every setting of the emulator in one frozen dataclass, from CLI flags and environment variables."""

from __future__ import annotations

import argparse
import difflib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from mock_server.domain.control_input import has_control_characters

ENV_PREFIX = "FAKEAPOLLO_"
T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    """What the command line, the environment, `--help` and docs/configuration.md say of one setting."""

    help: str
    group: str
    # Both ends included, for numbers; flags, FAKEAPOLLO_* and settings given in code alike.
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    # The default as the docs write it, when its value alone would not say it well.
    shown_default: str | None = None
    # The longest text a flag or variable may hold (a comma-separated list's whole text).
    max_length: int = 1_000
    # What else its text must be: a few words saying what is wrong with `text`, or None.
    check: Callable[[str], str | None] | None = None


def _setting(default: T, help: str, group: str, **details: Any) -> T:
    """A Config field carrying its Setting (the one source of the flag, the variable and the docs)."""
    return field(default=default, metadata={"setting": Setting(help, group, **details)})


_WHOLE = (-(2**63), 2**63 - 1)


def _host_problem(text: str) -> str | None:
    """Why `text` cannot be the address to bind: empty (every interface, unasked) or half-bracketed."""
    if not text.strip():
        return "must not be empty (write 0.0.0.0 to listen on every interface)"
    if text.startswith("[") != text.endswith("]") or text.count("[") + text.count("]") not in (0, 2):
        return "has unbalanced brackets (write an IPv6 address as ::1 or [::1])"
    return None


def token_problem(text: str) -> str | None:
    """Why `text` cannot be the admin token: one no client can send in an Authorization header."""
    if not text.strip():
        return "must not be empty"
    if has_control_characters(text):
        return "must not hold control characters (a line break, a tab, ...)"
    return None


@dataclass(frozen=True)
class Config:
    """Settings for one emulator instance; `create_app(Config(...))` builds an app from them.

    Every field is a `serve` flag, a `FAKEAPOLLO_*` environment variable and a `fakeapollo_options`
    name; its `Setting` (help, range, choices) is what all three and the docs are derived from.
    """

    host: str = _setting(
        "127.0.0.1",
        "address to bind (loopback only unless told otherwise)",
        "server",
        metavar="HOST",
        check=_host_problem,
    )
    port: int = _setting(
        8765, "port to bind; 0 picks a free one", "server", range=(0, 65_535), metavar="PORT"
    )
    seed: int = _setting(
        0, "seed of the generated people; given, request ids are reproducible too", "answers", range=_WHOLE
    )
    request_id_seed: int | None = _setting(
        None,
        "seed of request ids; unset, a secret is drawn at start so ids cannot be predicted",
        "answers",
        range=_WHOLE,
        shown_default="the seed when one is given, else drawn at start",
    )
    fixtures: Path | None = _setting(
        None,
        "folder of person JSON files served besides the bundled ones (they win)",
        "answers",
        metavar="DIR",
    )
    bundled_fixtures: bool = _setting(
        True, "serve the bundled fixture persons (tim@apollo.io and the others)", "answers"
    )
    scrub_key_file: Path | None = _setting(
        None,
        "the scrub.key of a `record --scrub` recording served as --fixtures, so its persons answer the "
        "recorded inputs",
        "answers",
        metavar="FILE",
        shown_default="DIR/scrub.key beside a recording's DIR/persons",
    )
    keys: Path | None = _setting(
        None, "key registry JSON file", "answers", metavar="FILE", shown_default="fixtures/keys.json"
    )
    # docs/apollo-facts.md 1.3: `api_key` in body/query gets a 422 since late 2025; older clients still send
    # it.
    legacy_api_key: bool = _setting(
        False, "accept api_key in the body or query string, as Apollo did before late 2025", "answers"
    )
    # docs/apollo-facts.md 2.4: live answers `Invalid access credentials.`; the 2026 docs show another string.
    unauthorized_message: str = _setting(
        "Invalid access credentials.", "the text body of a 401", "answers", metavar="TEXT"
    )
    # docs/apollo-facts.md 2.3: the missing-webhook_url error is reported as 400 by most, 422 by one project.
    webhook_url_error_status: int = _setting(
        400, "status of the missing-webhook_url error", "answers", range=(400, 499), metavar="STATUS"
    )
    # docs/apollo-facts.md 1.2: Apollo reads both query and body; which wins is undocumented. We let the body
    # win.
    body_wins: bool = _setting(
        True, "the JSON body wins over the query string when both name a parameter", "answers"
    )
    # docs/apollo-facts.md 3.3: bulk_match gets this share of the per-minute limit (docs as quoted in 2025).
    bulk_share: float = _setting(
        0.5, "share of the per-minute limit bulk_match gets", "answers", range=(0.001, 1)
    )
    # docs/apollo-facts.md 2.5: whether a free-plan team gets the 403 on people/match and bulk_match
    # (older reports) or is served (a 2026 recording, the 2026-10 bulk docs: the default).
    free_plan_blocked: bool = _setting(
        False,
        "answer a free-plan team's people/match and bulk_match with Apollo's older 403 (2026: served)",
        "answers",
    )
    # docs/apollo-facts.md 2.2: an email Apollo has no one for is answered with a thin person (recorded
    # 2026-05); no source gives how often, docs/emulation.md says why this default.
    thin_share: float = _setting(
        0.1,
        "share of never-seen emails answered with the thin person of an email Apollo has no one for",
        "answers",
        range=(0, 1),
    )
    # No source documents what Apollo answers a team with no credits left (docs/emulation.md).
    out_of_credits: str = _setting(
        "error",
        "what a team with no credits left gets: a 422 INSUFFICIENT_CREDITS (error) or no match",
        "answers",
        choices=("error", "no_match"),
    )
    # docs/apollo-facts.md 4.1: seconds from a request to its webhook, fixed ("5") or uniform in a range
    # ("2-10"); Apollo's are a minute to several minutes. On the emulator's clock: tests advance it.
    webhook_delay: str = _setting(
        "60-300",
        "seconds from a request to its webhook: fixed (5) or a range (2-10), at most 31536000 (a year)",
        "webhooks",
        metavar="SECONDS",
    )
    webhook_attempts: int = _setting(
        5, "attempts per delivery, the first included, before it is marked failed", "webhooks", range=(1, 100)
    )
    webhook_timeout: float = _setting(
        5.0,
        "seconds one delivery attempt may take as a whole (connecting, sending, the whole answer)",
        "webhooks",
        range=(0.001, 600),
        metavar="SECONDS",
    )
    webhook_backoff: float = _setting(
        2.0,
        "seconds before the first retry; each further retry waits twice as long",
        "webhooks",
        range=(0, 86_400),
        metavar="SECONDS",
    )
    # docs/apollo-facts.md 4.1 ("Apollo may retry"): share of deliveries sent twice, same payload and
    # request_id.
    webhook_duplicate_rate: float = _setting(
        0.0, "share of deliveries sent twice with the same request_id", "webhooks", range=(0, 1)
    )
    webhook_out_of_order: bool = _setting(
        False, "jitter due times and send deliveries due together newest first", "webhooks"
    )
    webhook_allow: tuple[str, ...] = _setting(
        (),
        "also allow webhooks to this network or host (CIDR, name, *.suffix, or * for any; repeatable, "
        "comma-separated in the environment); 'none' drops the default loopback and private networks",
        "webhooks",
        metavar="CIDR|HOST",
        shown_default="loopback and private networks",
        max_length=10_000,
    )
    # docs/apollo-facts.md 4.2: Apollo's phone payload (docs example, a live capture) has no request_id.
    webhook_phone_request_id: bool = _setting(
        False, "the phone webhook payload carries the request_id (Apollo's does not)", "webhooks"
    )
    webhook_concurrency: int = _setting(
        4, "deliveries to different URLs sent at once (one URL's go in order)", "webhooks", range=(1, 256)
    )
    # docs/apollo-facts.md 4.1: poll results are kept 30 days after delivery, then answer 410.
    webhook_retention_days: float = _setting(
        30.0,
        "days a delivered result can be polled before it answers 410",
        "webhooks",
        range=(0, 3_650),
        metavar="DAYS",
    )
    journal_size: int = _setting(
        1_000, "requests the journal keeps, oldest dropped first", "journal", range=(1, 1_000_000)
    )
    journal_bytes: int = _setting(
        64 << 20,
        "bytes of bodies, headers and query strings the journal keeps, oldest dropped first",
        "journal",
        range=(64 * 1_024, 1 << 40),
        shown_default="67108864 (64 MiB)",
    )
    access_log: bool = _setting(
        False, "print one line per request: time, method, path, status, masked key, outcome, ms", "journal"
    )
    admin: bool = _setting(True, "serve the control API (/__admin/) and the inspector page", "control API")
    admin_token: str | None = _setting(
        None,
        "require 'Authorization: Bearer TOKEN' on every control call (a flag shows in the process list: "
        "prefer FAKEAPOLLO_ADMIN_TOKEN or --admin-token-file)",
        "control API",
        metavar="TOKEN",
        check=token_problem,
    )
    admin_token_file: Path | None = _setting(
        None, "read the admin token from this file's first line", "control API", metavar="FILE"
    )
    # mock_server/web/sameorigin.py: any other Host is refused, a defence against DNS rebinding.
    allowed_hosts: tuple[str, ...] = _setting(
        (),
        "a host name the control API answers to besides IP addresses and localhost "
        "(exact, *.suffix or *; repeatable, comma-separated in the environment)",
        "control API",
        metavar="NAME",
        shown_default="none",
        max_length=10_000,
    )
    max_body_bytes: int = _setting(
        1 << 20,
        "largest request body accepted; a larger one gets a 413",
        "server",
        range=(1_024, 1 << 30),
        shown_default="1048576 (1 MiB)",
    )
    threads: int = _setting(8, "threads per process for the Flask routes", "server", range=(1, 1_024))
    workers: int = _setting(
        1, "processes; more than one share all state through a SQLite file", "server", range=(1, 256)
    )
    # Generated persons kept, least recently asked for dropped first. Each costs ~2.5 KB with its
    # aliases (bench/); 16,000 keep bench/'s 10,000 recurring persons cached under its 5% one-offs.
    person_cache_size: int = _setting(
        16_000,
        "generated persons kept in memory, least recently asked for dropped first",
        "server",
        range=(1, 10_000_000),
    )
    state_file: Path | None = _setting(
        None,
        "keep all state in this SQLite file: pending deliveries survive a crash",
        "state",
        metavar="PATH",
    )
    # mock_server/stores/redis_store.py. Wins over state_file.
    store: str | None = _setting(
        None,
        "keep all state in this Redis (or Valkey) server: every process and host naming it "
        "serves one emulator",
        "state",
        metavar="redis://HOST:PORT/DB",
    )
    store_prefix: str = _setting(
        "fakeapollo",
        "start every key in the store with NAME: (one per deployment sharing a server)",
        "state",
        metavar="NAME",
    )
    store_lease: float = _setting(
        30.0,
        "seconds a claimed webhook delivery stays with its process before another may send it",
        "state",
        range=(1, 86_400),
        metavar="SECONDS",
    )

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with the given settings changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def with_token_from_file(self) -> Config:
        """A copy whose `admin_token` is the first line of `admin_token_file`, when one is named.

        SettingError when the file cannot be read, its first line is empty, or a token is given too.
        """
        if self.admin_token_file is None:
            return self
        if self.admin_token is not None:
            raise SettingError("--admin-token and --admin-token-file both give a token: choose one")
        from mock_server.domain.files import FileRefused, read_text

        try:
            lines = read_text(self.admin_token_file).splitlines()
        except FileRefused as exc:
            raise SettingError(f"--admin-token-file {self.admin_token_file}: {exc.problem}") from None
        except OSError as exc:
            problem = f"--admin-token-file {self.admin_token_file}: cannot read it ({exc})"
            raise SettingError(problem) from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise SettingError(f"--admin-token-file {self.admin_token_file}: its first line is empty")
        unusable = token_problem(token)
        if unusable is not None:
            raise SettingError(f"--admin-token-file {self.admin_token_file}: its first line {unusable}")
        return replace(self, admin_token=token)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Settings from `FAKEAPOLLO_*` environment variables, defaults for the rest.

        SettingError (one line naming the variable) for a value of the wrong form or out of range.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in SETTINGS:
            raw = env.get(env_name(name))
            if raw is None:
                continue
            try:
                values[name] = parse_setting(name, raw)
            except SettingError as exc:
                raise SettingError(f"{env_name(name)} {exc}") from None
        return cls(**with_request_id_seed(values))

    def check(self) -> None:
        """SettingError naming the first setting out of its range (for settings given in code)."""
        for name, setting in SETTINGS.items():
            value = getattr(self, name)
            if setting.range is not None and value is not None and not _within(value, *setting.range):
                raise SettingError(f"{flag_name(name)} {_range_text(name)}, got {value!r}")
            if setting.choices and value not in setting.choices:
                raise SettingError(f"{flag_name(name)} must be one of {', '.join(setting.choices)}")


class SettingError(ValueError):
    """A setting of the wrong form or out of its range; the message is one line naming it."""


#: Every setting by its name (a Config field's), in the order `--help` and the docs list them.
SETTINGS: dict[str, Setting] = {f.name: f.metadata["setting"] for f in fields(Config)}
#: FAKEAPOLLO_* names the project's scripts, test suite and contract runs read (CASE_CACHE:
#: contract_tests/case_cache.py); not settings of `serve`, never warned about.
OTHER_ENVIRONMENT_NAMES = frozenset(
    ENV_PREFIX + name
    for name in (
        "LOG",
        "REQUIREMENT",
        "FUZZ_REQUESTS",
        "FUZZ_SEED",
        "SCHEMATHESIS_EXAMPLES",
        "SCREENSHOT",
        "REDIS_SERVER",
        "CASE_CACHE",
    )
)
# How a boolean setting may be written; anything else is refused rather than read as false.
BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_TYPES = {f.name: str(f.type) for f in fields(Config)}
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Config)}


def env_name(name: str) -> str:
    """The environment variable of a setting: `FAKEAPOLLO_PORT` for `port`."""
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    """The `serve` flag of a setting: `--port`; `--no-admin` for a switch that is on by default."""
    dashed = name.replace("_", "-")
    return f"--no-{dashed}" if _DEFAULTS[name] is True else f"--{dashed}"


def is_switch(name: str) -> bool:
    """Whether a setting is a yes/no switch (a flag without a value)."""
    return _TYPES[name] == "bool"


def is_list(name: str) -> bool:
    """Whether a setting takes several values (a repeatable flag, comma-separated in the environment)."""
    return _TYPES[name].startswith("tuple")


def with_request_id_seed(values: dict[str, Any]) -> dict[str, Any]:
    """A seed asked for makes request ids reproducible too, unless their own seed is given."""
    if values.get("seed") is not None and values.get("request_id_seed") is None:
        return {**values, "request_id_seed": values["seed"]}
    return values


def default_text(name: str) -> str:
    """A setting's default as `--help` and the docs show it."""
    setting = SETTINGS[name]
    if setting.shown_default is not None:
        return setting.shown_default
    default = _DEFAULTS[name]
    if default is None:
        return "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    return str(default)


def allowed_text(name: str) -> str:
    """What values a setting takes, as `--help` and the docs show it."""
    setting = SETTINGS[name]
    if setting.range is not None:
        return _range_text(name).removeprefix("must be ")
    if setting.choices:
        return "one of " + ", ".join(setting.choices)
    if is_switch(name):
        return "yes or no"
    return ""


def unknown_environment(env: Mapping[str, str] | None = None) -> list[str]:
    """One warning per `FAKEAPOLLO_*` variable that is no setting, naming the closest valid one."""
    env = os.environ if env is None else env
    warnings = []
    for variable in sorted(env):
        if not variable.startswith(ENV_PREFIX) or variable in OTHER_ENVIRONMENT_NAMES:
            continue
        name = variable.removeprefix(ENV_PREFIX).lower()
        if name in SETTINGS and variable == env_name(name):
            continue
        close = closest_setting(name)
        hint = f"; did you mean {env_name(close)}?" if close else "; `fakeapollo serve --help` lists them"
        warnings.append(f"{variable} is not a setting and is ignored{hint}")
    return warnings


def closest_setting(name: str) -> str | None:
    """The setting whose name is closest to a mistyped one, if any is close."""
    close = difflib.get_close_matches(name.lower(), list(SETTINGS), n=1, cutoff=0.6)
    return close[0] if close else None


def markdown_table() -> str:
    """The settings table of docs/configuration.md, from the same Settings as `serve --help`."""
    lines = [
        "| setting (`fakeapollo_options`) | flag | environment | default | values | what |",
        "|---|---|---|---|---|---|",
    ]
    for name, setting in SETTINGS.items():
        flag = flag_name(name) + ("" if is_switch(name) else f" {metavar(name)}")
        cells = [f"`{name}`", f"`{flag}`", f"`{env_name(name)}`", default_text(name), allowed_text(name)]
        escaped = [cell.replace("|", "\\|").replace("*", "\\*") for cell in [*cells, setting.help]]
        lines.append("| " + " | ".join(escaped) + " |")
    return "\n".join(lines) + "\n"


#: The lines between which docs/configuration.md holds markdown_table()'s output.
TABLE_START, TABLE_END = "<!-- settings table: start -->", "<!-- settings table: end -->"


def update_settings_table(path: str | Path) -> None:
    """Rewrite the settings table between the markers of a Markdown file (`make settings-table`)."""
    page = Path(path)
    text = page.read_text(encoding="utf-8")
    head, _, rest = text.partition(TABLE_START + "\n")
    _, _, tail = rest.partition(TABLE_END)
    page.write_text(f"{head}{TABLE_START}\n{markdown_table()}{TABLE_END}{tail}", encoding="utf-8")


def metavar(name: str) -> str:
    """The placeholder of a setting's value in `--help`: `N`, `DIR`, `{error,no_match}`."""
    setting = SETTINGS[name]
    if setting.metavar is not None:
        return setting.metavar
    if setting.choices:
        return "{" + ",".join(setting.choices) + "}"
    return "N" if setting.range is not None else "TEXT"


def _within(value: Any, low: float, high: float) -> bool:
    """Whether a number is finite and within [low, high]."""
    return isinstance(value, int | float) and math.isfinite(value) and low <= value <= high


def _range_text(name: str) -> str:
    """`must be a whole number from 0 to 65535` for a setting with a range."""
    range_ = SETTINGS[name].range
    assert range_ is not None
    return range_text(_TYPES[name].startswith("int"), *range_)


def range_text(whole: bool, low: float, high: float) -> str:
    """`must be a whole number from 0 to 65535`: a range (both ends included) as every flag says it."""
    if (low, high) == _WHOLE:
        return "must be a whole number that fits in 64 bits (signed)"
    kind = "a whole number" if whole else "a number"
    return f"must be {kind} from {_number(low)} to {_number(high)}"


def parse_number(raw: str, whole: bool, low: float, high: float) -> Any:
    """A whole number (int) or a number (float) from its text, within [low, high]; SettingError if not."""
    text = raw.strip()
    try:
        value: float = _ascii_number(text, whole)
    except ValueError:  # not a number, or an integer of more than 4,300 digits
        value = math.nan
    if not _within(value, low, high):
        raise SettingError(f"{range_text(whole, low, high)}, got {raw!r}")
    return value


def _ascii_number(text: str, whole: bool) -> float:
    """int() or float() of `text`, refusing other scripts' digits (which they read: ٣ as 3)."""
    if not text.isascii():
        raise ValueError(text)
    return int(text) if whole else float(text)


def number_flag(whole: bool, low: float, high: float) -> Callable[[str], Any]:
    """An argparse type reading a flag as `parse_number` does (`argument --timeout: must be ...`)."""

    def read(raw: str) -> Any:
        try:
            return parse_number(raw, whole, low, high)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = "whole number" if whole else "number"
    return read


def _number(value: float) -> str:
    """A range end as written: whole numbers in full, others as short decimals."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def parse_setting(name: str, raw: str) -> Any:
    """A setting's value from its text (a flag's or an environment variable's); SettingError if bad."""
    type_name = _TYPES[name]
    setting = SETTINGS[name]
    if len(raw) > setting.max_length:
        raise SettingError(f"must be at most {setting.max_length:,} characters, got {len(raw):,}")
    text = raw.strip()
    if type_name == "bool":
        if text.lower() not in BOOLEAN_WORDS:
            raise SettingError(f"must be one of {', '.join(BOOLEAN_WORDS)}, got {raw!r}")
        return BOOLEAN_WORDS[text.lower()]
    if type_name in ("int", "int | None", "float"):
        if setting.range is not None:
            return parse_number(raw, type_name != "float", *setting.range)
        try:
            value: float = _ascii_number(text, type_name != "float")
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise SettingError(f"must be a finite number, got {raw!r}")
        return value
    if setting.choices and text not in setting.choices:
        raise SettingError(f"must be one of {', '.join(setting.choices)}, got {raw!r}")
    if is_list(name):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if type_name.startswith("Path"):
        if not text:
            raise SettingError("must not be an empty path, got ''")
        return Path(raw)
    problem = setting.check(raw) if setting.check is not None else None
    if problem is not None:
        raise SettingError(f"{problem}, got {raw[:60]!r}")
    return raw
