"""Every setting of the emulator in one frozen dataclass, from CLI flags and environment variables."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "FAKEAPOLLO_"


@dataclass(frozen=True)
class Config:
    """Settings for one emulator instance; `create_app(Config(...))` builds an app from them."""

    host: str = "127.0.0.1"
    port: int = 8765
    seed: int = 0
    # The seed of request ids; None (the default) draws a secret at start, so ids cannot be
    # predicted across runs. `--seed` / FAKEAPOLLO_SEED set it to the seed: reproducible ids.
    request_id_seed: int | None = None
    # A folder of person fixtures served besides the bundled ones (its persons win on a shared id/email).
    fixtures: Path | None = None
    # Serve the bundled fixtures (Tim Zheng and the others in fixtures/persons).
    bundled_fixtures: bool = True
    keys: Path | None = None
    # docs/apollo-facts.md 1.3: `api_key` in body/query gets a 422 since late 2025; older clients still send
    # it.
    legacy_api_key: bool = False
    # docs/apollo-facts.md 2.4: live answers `Invalid access credentials.`; the 2026 docs show another string.
    unauthorized_message: str = "Invalid access credentials."
    # docs/apollo-facts.md 2.3: the missing-webhook_url error is reported as 400 by most, 422 by one project.
    webhook_url_error_status: int = 400
    # docs/apollo-facts.md 4.1: seconds from a request to its webhook, fixed ("5") or uniform in a range
    # ("2-10"); Apollo's are a minute to several minutes. On the emulator's clock: tests advance it.
    webhook_delay: str = "60-300"
    # Attempts per webhook delivery, the first included, before it is marked failed.
    webhook_attempts: int = 5
    # Seconds one delivery attempt may take (connecting, and each read) before it is a timeout.
    webhook_timeout: float = 5.0
    # Seconds before the first retry; every further retry waits twice as long (by the clock).
    webhook_backoff: float = 2.0
    # docs/apollo-facts.md 4.1 ("Apollo may retry"): share of deliveries sent twice, same payload and
    # request_id.
    webhook_duplicate_rate: float = 0.0
    # Jitter due times and send deliveries that fall due together newest first.
    webhook_out_of_order: bool = False
    # Where webhooks may go besides loopback and private networks: CIDRs, hostnames, "*." suffixes, "*".
    webhook_allow: tuple[str, ...] = ()
    # docs/apollo-facts.md 4.2: Apollo's phone payload (docs example, a live capture) has no request_id.
    webhook_phone_request_id: bool = False
    # Deliveries to different URLs sent at once (those to one URL go one after another, in order).
    webhook_concurrency: int = 4
    # docs/apollo-facts.md 4.1: poll results are kept 30 days after delivery, then answer 410.
    webhook_retention_days: float = 30.0
    # docs/apollo-facts.md 1.2: Apollo reads both query and body; which wins is undocumented. We let the body
    # win.
    body_wins: bool = True
    # docs/apollo-facts.md 3.3: bulk_match gets this share of the per-minute limit (docs as quoted in 2025).
    bulk_share: float = 0.5
    # docs/apollo-facts.md 2.5: whether a free-plan team gets the 403 on people/match and bulk_match
    # (older reports) or is served (a 2026 recording, the 2026-10 bulk docs: the default).
    free_plan_blocked: bool = False
    # What a team with no credits left gets; no source documents Apollo's answer (README):
    # "error" answers 422 INSUFFICIENT_CREDITS, "no_match" answers as if nobody matched.
    out_of_credits: str = "error"
    journal_size: int = 1_000
    # The journal's byte budget: bodies, headers and query of its entries together (oldest go first).
    journal_bytes: int = 64 << 20
    admin: bool = True
    admin_token: str | None = None
    max_body_bytes: int = 1 << 20
    threads: int = 8
    workers: int = 1
    # A SQLite file holding all state: shared by --workers, and pending deliveries survive a crash.
    state_file: Path | None = None
    # A Redis (or Valkey) server holding all state, `redis://HOST:PORT/DB`: shared by every process
    # that names it, on this host or others (mock_server/stores/redis_store.py). Wins over state_file.
    store: str | None = None
    # Every key this deployment keeps in that server starts with `<store_prefix>:`, so several
    # deployments can share one server.
    store_prefix: str = "fakeapollo"
    # Seconds a claimed webhook delivery stays with the process that claimed it (renewed while it
    # lives); after a crash another process sends it once this has passed.
    store_lease: float = 30.0
    # Generated persons kept, least recently asked for dropped first. Each costs ~2.5 KB with its
    # aliases (bench/); 16,000 keep bench/'s 10,000 recurring persons cached under its 5% one-offs.
    person_cache_size: int = 16_000
    # One line per request on stdout: time, method, path, status, masked key, outcome, milliseconds.
    access_log: bool = False

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with the given settings changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Settings from `FAKEAPOLLO_*` environment variables, defaults for the rest.

        SettingError (one line naming the variable) for a value of the wrong form or out of range.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            try:
                values[f.name] = parse_setting(f.name, raw)
            except SettingError as exc:
                raise SettingError(f"{ENV_PREFIX}{f.name.upper()} {exc}") from None
        if "seed" in values and "request_id_seed" not in values:
            values["request_id_seed"] = values["seed"]  # a seed asked for: reproducible request ids
        return cls(**values)

    def check(self) -> None:
        """SettingError naming the first setting out of its range (for settings given in code)."""
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if value is not None and not _within(value, low, high):
                raise SettingError(f"--{name.replace('_', '-')} {_range_text(name)}, got {value!r}")
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise SettingError(f"--{name.replace('_', '-')} must be one of {', '.join(choices)}")


class SettingError(ValueError):
    """A setting of the wrong form or out of its range; the message is one line naming it."""


# The range of every numeric setting, both ends included; flags and FAKEAPOLLO_* alike.
RANGES: dict[str, tuple[float, float]] = {
    "port": (0, 65_535),
    "seed": (-(2**63), 2**63 - 1),
    "request_id_seed": (-(2**63), 2**63 - 1),
    "webhook_url_error_status": (400, 499),
    "webhook_attempts": (1, 100),
    "webhook_timeout": (0.001, 600),
    "webhook_backoff": (0, 86_400),
    "webhook_duplicate_rate": (0, 1),
    "webhook_concurrency": (1, 256),
    "webhook_retention_days": (0, 3_650),
    "bulk_share": (0.001, 1),
    "journal_size": (1, 1_000_000),
    "journal_bytes": (64 * 1_024, 1 << 40),
    "max_body_bytes": (1_024, 1 << 30),
    "threads": (1, 1_024),
    "workers": (1, 256),
    "person_cache_size": (1, 10_000_000),
}
# Settings that take one of a few words.
CHOICES: dict[str, tuple[str, ...]] = {"out_of_credits": ("error", "no_match")}
# How a boolean setting may be written; anything else is refused rather than read as false.
BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_TYPES = {f.name: str(f.type) for f in fields(Config)}


def _within(value: Any, low: float, high: float) -> bool:
    """Whether a number is finite and within [low, high]."""
    return isinstance(value, int | float) and math.isfinite(value) and low <= value <= high


def _range_text(name: str) -> str:
    """`must be a whole number from 0 to 65535` for a setting in RANGES."""
    low, high = RANGES[name]
    kind = "a whole number" if _TYPES[name].startswith("int") else "a number"
    return f"must be {kind} from {_number(low)} to {_number(high)}"


def _number(value: float) -> str:
    """A range end as written: whole numbers in full, others as short decimals."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def parse_setting(name: str, raw: str) -> Any:
    """A setting's value from its text (a flag's or an environment variable's); SettingError if bad."""
    type_name = _TYPES[name]
    text = raw.strip()
    if type_name == "bool":
        if text.lower() not in BOOLEAN_WORDS:
            raise SettingError(f"must be one of {', '.join(BOOLEAN_WORDS)}, got {raw!r}")
        return BOOLEAN_WORDS[text.lower()]
    if type_name in ("int", "int | None", "float"):
        try:
            value: float = float(text) if type_name == "float" else int(text)
        except ValueError:
            value = math.nan
        if name in RANGES and not _within(value, *RANGES[name]):
            raise SettingError(f"{_range_text(name)}, got {raw!r}")
        if not math.isfinite(value):
            raise SettingError(f"must be a finite number, got {raw!r}")
        return value
    if name in CHOICES and text not in CHOICES[name]:
        raise SettingError(f"must be one of {', '.join(CHOICES[name])}, got {raw!r}")
    if type_name.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if type_name.startswith("Path"):
        return Path(raw) if raw else None
    return raw
