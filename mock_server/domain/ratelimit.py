"""Apollo's fixed-window rate limits per team and endpoint: counting, headers, the 429 and Retry-After."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from mock_server.domain.clock import Clock
from mock_server.domain.errors import RateLimited
from mock_server.domain.keys import ApiKey


@dataclass(frozen=True)
class Window:
    """One fixed window: its length and the names Apollo gives its headers (docs/apollo-facts.md 3.1)."""

    name: str
    seconds: int
    limit_header: str
    usage_header: str
    left_header: str
    word: str


WINDOWS = (
    Window("minute", 60, "x-rate-limit-minute", "x-minute-usage", "x-minute-requests-left", "minute"),
    Window("hour", 3_600, "x-rate-limit-hourly", "x-hourly-usage", "x-hourly-requests-left", "hour"),
    # docs/apollo-facts.md 2.7: `day` in a 2023 message (tests/data/recorded); no later 429 names the window.
    Window("day", 86_400, "x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left", "day"),
)
# docs/apollo-facts.md 3.2 (docs, 2026-07-28): enrichment endpoints per plan; None means no limit.
PLAN_LIMITS: Mapping[str, Mapping[str, int | None]] = {
    "free": {"minute": 50, "hour": 200, "day": 600},
    "basic": {"minute": 1_000, "hour": None, "day": None},
    "professional": {"minute": 1_000, "hour": None, "day": None},
    "custom": {"minute": None, "hour": None, "day": None},
}
ENRICHMENT_ENDPOINTS = frozenset(
    {
        "api/v1/people/match",
        "api/v1/people/bulk_match",
        "api/v1/organizations/enrich",
        "api/v1/organizations/bulk_enrich",
    }
)
# docs/apollo-facts.md 3.2, "All other APIs" (the daily row from api-evangelist's summary): used for the poll
# and
# usage-stats endpoints.
OTHER_PLAN_LIMITS: Mapping[str, Mapping[str, int | None]] = {
    "free": {"minute": 50, "hour": 200, "day": 600},
    "basic": {"minute": 200, "hour": 400, "day": 2_000},
    "professional": {"minute": 200, "hour": 600, "day": 2_000},
    "custom": {"minute": None, "hour": None, "day": None},
}
# docs/apollo-facts.md 3.3: a free team's bulk_match limits as its answers' headers give them (a 2026
# recording); other plans' bulk minute limit is the bulk share of the single endpoint's.
BULK_PLAN_LIMITS: Mapping[str, Mapping[str, int | None]] = {"free": {"minute": 20, "hour": 100, "day": 600}}
# docs/apollo-facts.md 3.3: bulk_match is throttled to 50% of the single endpoint's per-minute limit.
DEFAULT_BULK_SHARE = 0.5
BULK_ENDPOINT = "api/v1/people/bulk_match"
UPGRADE_URL = "https://app.apollo.io/#/settings/plans/upgrade"
# docs/apollo-facts.md 2.7: the live 429 (2026-10) links with `?source=api_rate_limit`; the docs' without.
RATE_LIMIT_UPGRADE_URL = UPGRADE_URL + "?source=api_rate_limit"


class Counters(Protocol):
    """The store's atomic window counter."""

    def take(self, scope: str, windows: list[tuple[str, int, int | None]]) -> tuple[bool, list[int]]:
        """Count one call in each (name, index, limit) window unless one is full; usages."""
        ...

    def peek(self, scope: str, windows: list[tuple[str, int]]) -> list[int]:
        """The usage of each (name, index) window without counting."""
        ...


@dataclass(frozen=True)
class WindowState:
    """How far one window is used, and when it resets."""

    window: Window
    limit: int
    usage: int
    reset_in: float

    @property
    def left(self) -> int:
        """Calls left in this window."""
        return max(self.limit - self.usage, 0)


@dataclass(frozen=True)
class RateState:
    """The limited windows of one team and endpoint after a call."""

    windows: tuple[WindowState, ...]

    def headers(self) -> dict[str, str]:
        """Apollo's rate-limit headers, for every limited window."""
        headers = {}
        for state in self.windows:
            headers[state.window.limit_header] = str(state.limit)
            headers[state.window.usage_header] = str(state.usage)
            headers[state.window.left_header] = str(state.left)
        return headers

    def describe(self) -> dict[str, dict[str, int]]:
        """The state as the control API and journal show it."""
        return {s.window.name: {"limit": s.limit, "usage": s.usage, "left": s.left} for s in self.windows}


# Keys whose lack of limits the limiter remembers.
_KEYS_KEPT = 1_024
# The state of a call no window limits (a shared value: RateState is frozen).
UNLIMITED = RateState(())


def too_many(endpoint: str, exhausted: WindowState, state: RateState) -> RateLimited:
    """Apollo's 429 for an exhausted window, with headers and Retry-After (docs/apollo-facts.md 2.7)."""
    body = {
        "message": f"The maximum number of api calls allowed for {endpoint} is {exhausted.limit} times"
        f" per {exhausted.window.word}. Please upgrade your plan from {RATE_LIMIT_UPGRADE_URL}.",
        "error_details": {"code": "USAGE.RATE_LIMIT.API_RATE_LIMIT_EXCEEDED"},
    }
    headers = state.headers()
    headers["Retry-After"] = str(max(1, math.ceil(exhausted.reset_in)))
    return RateLimited(body, headers)


class RateLimiter:
    """Counts calls per team and endpoint in Apollo's fixed windows, by the one clock."""

    def __init__(self, counters: Counters, clock: Clock, bulk_share: float = DEFAULT_BULK_SHARE) -> None:
        self.counters = counters
        self.clock = clock
        self.bulk_share = bulk_share
        # Whether a plan's key (no limits of its own) is limited on an endpoint at all, by (plan, endpoint).
        self._plan_limited: dict[tuple[str, str], bool] = {}
        # Keys with limits of their own, none of them set (the load-test key): never counted.
        self._unlimited_keys: dict[int, ApiKey] = {}

    def limits_for(self, api_key: ApiKey, endpoint: str) -> dict[str, int | None]:
        """The key's limits for `endpoint`: its plan's, or its own on a custom plan."""
        table = PLAN_LIMITS if endpoint in ENRICHMENT_ENDPOINTS else OTHER_PLAN_LIMITS
        limits = dict(table.get(api_key.plan, table["professional"]))
        if api_key.limits is not None:
            limits.update({k: v for k, v in api_key.limits.items() if k in limits})
        elif endpoint == BULK_ENDPOINT and api_key.plan in BULK_PLAN_LIMITS:
            return dict(BULK_PLAN_LIMITS[api_key.plan])
        minute = limits.get("minute")
        if endpoint == BULK_ENDPOINT and minute is not None:
            limits["minute"] = max(1, math.floor(minute * self.bulk_share))
        return limits

    def _windows(self, api_key: ApiKey, endpoint: str) -> list[tuple[Window, int, int, float]]:
        """(window, index, limit, seconds to reset) for each limited window."""
        own = api_key.limits
        if own is None:
            if self._plan_limited.get((api_key.plan, endpoint)) is False:
                return []
        elif self._unlimited_keys.get(id(api_key)) is api_key:
            return []  # a key of its own without limits (the load-test key)
        elif all(own.get(window.name, 0) is None for window in WINDOWS):
            if len(self._unlimited_keys) < _KEYS_KEPT:  # kept: the id cannot be another key's
                self._unlimited_keys[id(api_key)] = api_key
            return []  # a key of its own without limits (the load-test key)
        limits = self.limits_for(api_key, endpoint)
        limited = any(limit is not None for limit in limits.values())
        if own is None:
            self._plan_limited[(api_key.plan, endpoint)] = limited
        if not limited:
            return []  # unlimited (a custom plan's load-test key): no clock, no counting
        now = self.clock.timestamp()
        found = []
        for window in WINDOWS:
            limit = limits.get(window.name)
            if limit is None:
                continue
            index = math.floor(now / window.seconds)
            found.append((window, index, limit, (index + 1) * window.seconds - now))
        return found

    def hit(self, api_key: ApiKey, endpoint: str) -> RateState:
        """Count one call; Apollo's 429 when a window is full (the call is then not counted)."""
        windows = self._windows(api_key, endpoint)
        if not windows:
            return UNLIMITED
        allowed, usages = self.counters.take(
            _scope(api_key, endpoint), [(w.name, index, limit) for w, index, limit, _ in windows]
        )
        state = _state(windows, usages)
        if not allowed:
            exhausted = max((s for s in state.windows if s.left == 0), key=lambda s: s.reset_in)
            raise too_many(endpoint, exhausted, state)
        return state

    def peek(self, api_key: ApiKey, endpoint: str) -> RateState:
        """The windows' state without counting a call."""
        windows = self._windows(api_key, endpoint)
        usages = self.counters.peek(
            _scope(api_key, endpoint), [(w.name, index) for w, index, _, _ in windows]
        )
        return _state(windows, usages)

    def exhausted(self, api_key: ApiKey, endpoint: str) -> RateLimited:
        """The 429 a forced `rate_limited` outcome answers: the minute window used up."""
        windows = self._windows(api_key, endpoint) or [
            (WINDOWS[0], 0, PLAN_LIMITS["professional"]["minute"] or 1_000, 60 - self.clock.timestamp() % 60)
        ]
        state = _state(windows, [limit for _, _, limit, _ in windows])
        return too_many(endpoint, state.windows[0], state)


def _scope(api_key: ApiKey, endpoint: str) -> str:
    """Where a team's calls to one endpoint are counted: Apollo limits per team and endpoint."""
    return f"{api_key.team}|{endpoint}"


def _state(windows: list[tuple[Window, int, int, float]], usages: list[int]) -> RateState:
    """The RateState of `windows` (window, index, limit, seconds to reset) at `usages`."""
    return RateState(
        tuple(
            WindowState(w, limit, usage, reset)
            for (w, _, limit, reset), usage in zip(windows, usages, strict=True)
        )
    )
