"""The key registry: which API key belongs to which team, plan, credit balance and scopes."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mock_server.domain.control_input import text_problem
from mock_server.domain.errors import ControlConflict, Forbidden, InvalidControlRequest, Unauthorized

PLANS = ("free", "basic", "professional", "custom")
# docs/apollo-facts.md 2.5 / examples/errors/observed_live_error_bodies.json: enrichment is not on the free
# plan.
FREE_PLAN_BLOCKED = frozenset({"api/v1/people/match", "api/v1/people/bulk_match"})
log = logging.getLogger("fakeapollo.keys")

DOCUMENT = "keys"


class Documents(Protocol):
    """The store's named JSON documents, shared by every worker."""

    def get_document(self, name: str) -> Any:
        """The document stored under `name`, or None."""
        ...

    def set_document(self, name: str, document: Any) -> None:
        """Store `document` under `name`."""
        ...


@dataclass(frozen=True)
class ApiKey:
    """One registered key and what it may do."""

    key: str
    team: str
    plan: str
    credits: float | None
    scopes: frozenset[str] | None
    limits: Mapping[str, int | None] | None = None
    # "api_key" (sent as x-api-key) or "oauth_token" (sent as Authorization: Bearer, docs/apollo-facts.md
    # 1.3).
    kind: str = "api_key"
    # Credits per record found: Apollo's credits_consumed "can be fractional depending on your
    # plan's credit pricing" (OAS bulk_match); 1 unless the registry says otherwise.
    credit_price: float = 1.0

    def describe(self, mask: Any) -> dict[str, Any]:
        """The key as the control API shows it, the key itself masked."""
        return {
            "key": mask(self.key),
            "team": self.team,
            "plan": self.plan,
            "credits": self.credits,
            "scopes": None if self.scopes is None else sorted(self.scopes),
            "limits": None if self.limits is None else dict(self.limits),
            "kind": self.kind,
            "credit_price": self.credit_price,
        }

    def entry(self) -> dict[str, Any]:
        """The key as a registry entry, unmasked: stored, never shown."""
        entry = self.describe(lambda secret: secret)
        if entry["limits"] is None:
            del entry["limits"]
        if entry["kind"] == "api_key":
            del entry["kind"]
        if entry["credit_price"] == 1.0:
            del entry["credit_price"]
        return entry


def key_from_entry(entry: Mapping[str, Any], *, checked: bool = True) -> ApiKey:
    """An ApiKey from a `fixtures/keys.json` entry; 400 naming what is wrong.

    `checked=False` skips the schema (the shipped registry, which tests/test_fixtures.py validates).
    """
    if not isinstance(entry, Mapping):
        raise InvalidControlRequest("A key must be a JSON object")
    if checked:
        from mock_server.domain.data import SchemaViolation, validate

        try:
            validate("key_registry", {"keys": [dict(entry)]})
        except SchemaViolation as exc:
            raise InvalidControlRequest(
                f"Invalid key: {'; '.join(f'{p}: {m}' for p, m in exc.violations)}"
            ) from exc
    problems = entry_problems(entry)
    if problems:
        raise InvalidControlRequest(f"Invalid key: {'; '.join(f'{p}: {m}' for p, m in problems)}")
    scopes = entry.get("scopes")
    return ApiKey(
        key=entry["key"],
        team=entry["team"],
        plan=entry["plan"],
        credits=entry.get("credits"),
        scopes=None if scopes is None else frozenset(scopes),
        limits=entry.get("limits"),
        kind=entry.get("kind", "api_key"),
        credit_price=float(entry.get("credit_price", 1.0)),
    )


def entry_problems(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) for what key_registry.json cannot say of an entry that conforms to it.

    JSON Schema's bounds let NaN through (every comparison with it is false), its "integer" takes
    1.0, and its patterns cannot name a lone surrogate; each would reach the answers' headers, the
    generators' hashing or a store that cannot encode it.
    """
    problems = []
    team = entry.get("team")
    problem = text_problem(team) if isinstance(team, str) else None
    if problem is not None:
        problems.append(("team", problem))
    credits = entry.get("credits")
    if isinstance(credits, float) and not math.isfinite(credits):
        problems.append(("credits", "must be a finite number from 0 to 1e12, or null"))
    limits = entry.get("limits")
    for window, limit in limits.items() if isinstance(limits, Mapping) else ():
        if isinstance(limit, float):
            shown = f" (write {int(limit)})" if math.isfinite(limit) and limit.is_integer() else ""
            problems.append((f"limits.{window}", f"must be an integer or null, got {limit!r}{shown}"))
    price = entry.get("credit_price", 1.0)
    if isinstance(price, float) and not math.isfinite(price):
        problems.append(("credit_price", "must be a finite number above 0, at most 100"))
    return problems


def load_registry(path: Path | None = None) -> dict[str, Any]:
    """The start-up key registry (data.load_key_registry); a --keys file's entries held to entry_problems too.

    A SchemaViolation naming the file and each problem, as for any other bad registry file.
    """
    from mock_server.domain import data

    registry = data.load_key_registry(path)
    if path is not None:
        problems = registry_problems(registry)
        if problems:
            raise data.SchemaViolation("key_registry", problems, source=str(path))
    return registry


def registry_problems(registry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, problem) for each entry_problems of a registry that conforms to key_registry.json."""
    return [
        (f"$.keys[{index}].{field}", problem)
        for index, entry in enumerate(registry["keys"])
        for field, problem in entry_problems(entry)
    ]


def check_stored_registry(stored: Any) -> None:
    """ValueError saying what is wrong with a key registry as the store keeps it (a list of entries)."""
    if not isinstance(stored, list):
        raise ValueError(f"the key registry must be a list of keys, got {type(stored).__name__}")
    for entry in stored:
        try:
            key_from_entry(entry)
        except InvalidControlRequest as exc:
            raise ValueError(str(exc)) from exc


class KeyRegistry:
    """Keys by value: the start-up registry, changed at run time through the control API.

    Changes live in the store, so every worker process sees them; a reset restores the start-up keys.
    """

    def __init__(self, keys: list[ApiKey], documents: Documents | None = None) -> None:
        self._initial = {k.key: k for k in keys}
        self._documents = documents
        self._cache: tuple[Any, dict[str, ApiKey]] | None = None
        self._grants: tuple[dict[str, ApiKey], dict[str, float | None]] | None = None

    @classmethod
    def from_document(
        cls, document: Mapping[str, Any], documents: Documents | None = None, *, checked: bool = True
    ) -> KeyRegistry:
        """Build the registry from a `fixtures/keys.json`-shaped document (`checked`: see key_from_entry)."""
        return cls([key_from_entry(entry, checked=checked) for entry in document["keys"]], documents)

    def _keys(self) -> dict[str, ApiKey]:
        """The keys in force now."""
        stored = self._documents.get_document(DOCUMENT) if self._documents is not None else None
        if stored is None:
            return self._initial
        if self._cache is None or (self._cache[0] is not stored and self._cache[0] != stored):
            try:
                check_stored_registry(stored)
                keys = {e["key"]: key_from_entry(e) for e in stored}
            except ValueError as exc:  # damaged outside the emulator: never a 500 on every route
                log.warning("the stored key registry is damaged (%s): the start-up keys are in force", exc)
                keys = self._initial
            self._cache = (stored, keys)
        return self._cache[1]

    def _save(self, keys: dict[str, ApiKey]) -> None:
        if self._documents is None:
            raise InvalidControlRequest("This registry cannot be changed")
        document = [k.entry() for k in keys.values()]
        self._documents.set_document(DOCUMENT, document)
        # What was just saved needs no second reading (each entry was checked on its way in).
        self._cache = (document, keys)

    def __iter__(self) -> Iterator[ApiKey]:
        return iter(list(self._keys().values()))

    def get(self, key: str) -> ApiKey | None:
        """The registered key, or None."""
        return self._keys().get(key)

    def add(self, entry: Mapping[str, Any]) -> ApiKey:
        """Add a new key; 409 when the key exists already (change one with `put`)."""
        key = key_from_entry(entry)
        keys = dict(self._keys())
        if key.key in keys:
            raise ControlConflict("This key exists already; change it with PATCH /__admin/keys/{key}")
        keys[key.key] = key
        self._save(keys)
        return key

    def put(self, entry: Mapping[str, Any]) -> ApiKey:
        """Add a key, or replace the one with the same value."""
        key = key_from_entry(entry)
        keys = dict(self._keys())
        keys[key.key] = key
        self._save(keys)
        return key

    def remove(self, key: str) -> bool:
        """Remove a key; False when there is none."""
        keys = dict(self._keys())
        if keys.pop(key, None) is None:
            return False
        self._save(keys)
        return True

    def team_credits(self, team: str) -> float | None:
        """A team's credit grant: the first of its keys sets it (None: unlimited, or no such team)."""
        keys = self._keys()
        grants = self._grants
        if grants is None or grants[0] is not keys:  # worked out once per registry in force
            table: dict[str, float | None] = {}
            for key in keys.values():
                table.setdefault(key.team, key.credits)
            grants = self._grants = (keys, table)
        return grants[1].get(team)

    def teams(self) -> list[str]:
        """Every team with a key."""
        return sorted({k.team for k in self._keys().values()})

    def known(self, key: str | None) -> bool:
        """Whether `key` is a registered key."""
        return bool(key) and key in self._keys()

    def authenticate(self, key: str | None, message: str, *, bearer: bool = False) -> ApiKey:
        """The registered key, or Apollo's 401 with `message`.

        An API key is accepted only as x-api-key, an OAuth token only as a Bearer token: an API
        key sent as Bearer is Apollo's 401 (docs/apollo-facts.md 1.3), and so, here, is the reverse.
        """
        found = self._keys().get(key) if key else None
        if found is None or found.kind != ("oauth_token" if bearer else "api_key"):
            raise Unauthorized(message)
        return found

    @staticmethod
    def authorize(api_key: ApiKey, endpoint: str, *, free_plan_blocked: bool = False) -> None:
        """Raise Apollo's 403 when the key's plan or scope does not cover `endpoint`.

        `free_plan_blocked`: the free plan's 403 on people/match and bulk_match (docs/apollo-facts.md 2.5).
        An OAuth token's refusals name the access token (docs/apollo-facts.md 2.5).
        """
        oauth = api_key.kind == "oauth_token"
        if free_plan_blocked and api_key.plan == "free" and endpoint in FREE_PLAN_BLOCKED:
            if oauth:
                # Quoted from a live OAuth connection, 2026-03 (docs/apollo-facts.md 2.5).
                raise Forbidden(
                    f"{endpoint} is not accessible with this access token on a free plan."
                    " Please upgrade your plan from https://app.apollo.io/."
                )
            # Live wording, observed 2026 (docs/apollo-facts.md 2.5).
            raise Forbidden(
                f"The {endpoint} API is not included in your Free plan and is not accessible,"
                " even with a master key."
            )
        if api_key.scopes is not None and endpoint not in api_key.scopes:
            if oauth:
                raise inaccessible(api_key, endpoint)
            # 2026 docs wording for a key outside its configured scope (docs/apollo-facts.md 2.5).
            raise Forbidden(
                f"This API key is not authorized to access {endpoint}. Request an API key from"
                " your administrator that includes this endpoint in its configured scope."
            )


def inaccessible(api_key: ApiKey, endpoint: str) -> Forbidden:
    """Apollo's `API_INACCESSIBLE` naming the endpoint and what the caller sent (docs/apollo-facts.md 2.5).

    An API key: `... with this api_key` (Apollo's docs); an OAuth token: `... with this access token`
    (a recorded 403, 2026-05-18).
    """
    noun = "access token" if api_key.kind == "oauth_token" else "api_key"
    return Forbidden(f"{endpoint} is not accessible with this {noun}")
