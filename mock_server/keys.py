"""The key registry: which API key belongs to which team, plan, credit balance and scopes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.errors import Forbidden, Unauthorized

PLANS = ("free", "basic", "professional", "custom")
# FACTS.md 2.5 / examples/errors/observed_live_error_bodies.json: enrichment is not on the free plan.
FREE_PLAN_BLOCKED = frozenset({"api/v1/people/match", "api/v1/people/bulk_match"})


@dataclass(frozen=True)
class ApiKey:
    """One registered key and what it may do."""

    key: str
    team: str
    plan: str
    credits: float | None
    scopes: frozenset[str] | None
    limits: Mapping[str, int | None] | None = None

    @property
    def masked(self) -> str:
        """The key with all but its last four characters hidden."""
        return "*" * max(len(self.key) - 4, 0) + self.key[-4:]


class KeyRegistry:
    """Keys by value; looks up the caller and checks plan and scope for an endpoint."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys = {k.key: k for k in keys}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> KeyRegistry:
        """Build the registry from a `fixtures/keys.json`-shaped document."""
        keys = []
        for entry in document["keys"]:
            scopes = entry.get("scopes")
            keys.append(
                ApiKey(
                    key=entry["key"],
                    team=entry["team"],
                    plan=entry["plan"],
                    credits=entry.get("credits"),
                    scopes=None if scopes is None else frozenset(scopes),
                    limits=entry.get("limits"),
                )
            )
        return cls(keys)

    def __iter__(self) -> Any:
        return iter(self._keys.values())

    def authenticate(self, key: str | None, message: str) -> ApiKey:
        """The registered key, or Apollo's 401 with `message`."""
        found = self._keys.get(key) if key else None
        if found is None:
            raise Unauthorized(message)
        return found

    @staticmethod
    def authorize(api_key: ApiKey, endpoint: str) -> None:
        """Raise Apollo's 403 when the key's plan or scope does not cover `endpoint`."""
        if api_key.plan == "free" and endpoint in FREE_PLAN_BLOCKED:
            # Live wording, observed 2026 (FACTS.md 2.5).
            raise Forbidden(
                f"The {endpoint} API is not included in your Free plan and is not accessible,"
                " even with a master key."
            )
        if api_key.scopes is not None and endpoint not in api_key.scopes:
            # 2026 docs wording for a key outside its configured scope (FACTS.md 2.5).
            raise Forbidden(
                f"This API key is not authorized to access {endpoint}. Request an API key from"
                " your administrator that includes this endpoint in its configured scope."
            )
