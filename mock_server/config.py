"""Every setting of the emulator in one frozen dataclass, from CLI flags and environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "FAKEAPOLLO_"


@dataclass(frozen=True)
class Config:
    """Settings for one emulator instance; `create_app(Config(...))` builds an app from them."""

    host: str = "127.0.0.1"
    port: int = 8765
    seed: int = 0
    fixtures: Path | None = None
    keys: Path | None = None
    # FACTS.md 1.3: `api_key` in body/query gets a 422 since late 2025; older clients still send it.
    legacy_api_key: bool = False
    # FACTS.md 2.4: live answers `Invalid access credentials.`; the 2026 docs show another string.
    unauthorized_message: str = "Invalid access credentials."
    # FACTS.md 2.3: the missing-webhook_url error is reported as 400 by most, 422 by one project.
    webhook_url_error_status: int = 400
    # FACTS.md 1.2: Apollo reads both query and body; which wins is undocumented. We let the body win.
    body_wins: bool = True
    # FACTS.md 3.3: bulk_match gets this share of the per-minute limit (docs as quoted in 2025).
    bulk_share: float = 0.5
    journal_size: int = 1_000
    admin: bool = True
    admin_token: str | None = None
    max_body_bytes: int = 1 << 20
    threads: int = 8
    workers: int = 1
    person_cache_size: int = 2_000
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with the given settings changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Settings from `FAKEAPOLLO_*` environment variables, defaults for the rest."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or f.name == "extra":
                continue
            values[f.name] = _coerce(f.name, str(f.type), raw)
        return cls(**values)


def _coerce(name: str, type_name: str, raw: str) -> Any:
    """Turn an environment string into the field's type."""
    if type_name == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if type_name == "int":
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{name.upper()} must be an integer, got {raw!r}") from exc
    if type_name == "float":
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a number, got {raw!r}") from exc
    if type_name.startswith("Path"):
        return Path(raw) if raw else None
    return raw
