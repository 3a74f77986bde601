"""The recorder's credit cap: what a call can cost before it is sent, and a count kept on disk."""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.domain.credits import MATCH_CREDITS, MOBILE_PHONE_CREDITS
from mock_server.domain.errors import ApolloError
from mock_server.domain.params import FLAGS, MAX_BULK_DETAILS, parse_bool
from mock_server.domain.scenarios import operation_of
from mock_server.recording.calls import names_a_parameter
from mock_server.recording.files import write_private

# Operations that cost nothing: polling a webhook result (docs/apollo-facts.md 4.1: 0 credits), usage stats
# and the health check (rate-limit bookkeeping only), People API Search and the team's own contacts and
# accounts (docs/apollo-facts.md 7.1).
FREE_OPERATIONS = frozenset(
    {"usage_stats/api_usage_stats", "auth/health", "mixed_people/api_search", "contacts", "accounts"}
)
FREE_PREFIXES = ("webhook_result/", "contacts/", "accounts/")
STATE_FILE = "credits.json"


@dataclass(frozen=True)
class Estimate:
    """The most a call can cost: credits charged with the answer, and credits a webhook may bring."""

    now: float
    later: float

    @property
    def total(self) -> float:
        """Everything the call can cost."""
        return self.now + self.later


def _flag(params: Mapping[str, Any], name: str) -> bool:
    """A reveal or waterfall flag; an unreadable value counts as set (the dearer reading)."""
    try:
        return parse_bool(name, names_a_parameter(params, name))
    except ApolloError:
        return True


def estimate(path: str, params: Mapping[str, Any]) -> Estimate:
    """The most the call to `path` with merged `params` can cost, before it is sent.

    docs/apollo-facts.md 5: 1 credit per matched person for demographics or email, plus 8 when a mobile phone
    is delivered (phone reveals and phone waterfalls, charged with the webhook). A waterfall email
    is counted as one more credit per person: Apollo documents no price for it, so the cap assumes
    the dearer reading. Operations the recorder does not know cost 1 per call, and every operation
    that is not free reserves at least 1: a call the estimate could get wrong is never free.
    """
    operation = operation_of(path)
    if operation in FREE_OPERATIONS or operation.startswith(FREE_PREFIXES):
        return Estimate(0.0, 0.0)
    flags = {name: _flag(params, name) for name in FLAGS}
    per_person_later = (MOBILE_PHONE_CREDITS if flags["reveal_phone_number"] else 0.0) + (
        MOBILE_PHONE_CREDITS if flags["run_waterfall_phone"] else 0.0
    )
    per_person_later += MATCH_CREDITS if flags["run_waterfall_email"] else 0.0
    if operation == "people/bulk_match":
        # docs/apollo-facts.md 2.3: more than 10 details is refused with a 400 and costs nothing; count at
        # most 10. Details that are not a list are counted as 10 (the dearer reading).
        people = _count(names_a_parameter(params, "details"))
        return Estimate(float(max(people, 1) * MATCH_CREDITS), people * per_person_later)
    if operation == "organizations/bulk_enrich":
        details = names_a_parameter(params, "details")
        domains = names_a_parameter(params, "domains")
        listed = details if details is not None else domains
        return Estimate(float(max(1 if isinstance(listed, str) else _count(listed), 1)), 0.0)
    if operation == "people/match":
        return Estimate(float(MATCH_CREDITS), per_person_later)
    return Estimate(float(MATCH_CREDITS), 0.0)


def _count(listed: Any) -> int:
    """How many records a bulk call names: its list's length up to Apollo's 10, 0 when absent."""
    if listed is None:
        return 0
    return min(len(listed), MAX_BULK_DETAILS) if isinstance(listed, list) else MAX_BULK_DETAILS


def charged_now(path: str, status: int | None, body: Any, reserved: Estimate) -> float:
    """What the upstream's answer says the call cost (without what a webhook may add later).

    `credits_consumed` wins where the body has it (bulk_match, docs/apollo-facts.md 5); a people/match answer
    costs 1 when it holds a person; an error answer (4xx) costs nothing; when nothing useful came
    back (a reset, a timeout, a 5xx) the reservation is kept, as Apollo may have charged anyway.
    """
    if status is None or status >= 500:
        return reserved.now
    if status >= 400:
        return 0.0
    if isinstance(body, Mapping):
        consumed = body.get("credits_consumed")
        if isinstance(consumed, int | float) and not isinstance(consumed, bool) and math.isfinite(consumed):
            return max(float(consumed), 0.0)
        if operation_of(path) == "people/match":
            return float(MATCH_CREDITS) if body.get("person") else 0.0
    return reserved.now


class CapReached(Exception):
    """A call could cross the cap; the message says by how much and what was spent."""

    def __init__(self, cost: float, spent: float, pending: float, cap: float) -> None:
        self.cost, self.spent, self.pending, self.cap = cost, spent, pending, cap
        waiting = f" and {_number(pending)} reserved for webhooks not yet delivered" if pending else ""
        super().__init__(
            f"fakeapollo record: this call could cost up to {_number(cost)} credits, but "
            f"{_number(spent)} of the {_number(cap)} allowed by --max-credits are spent{waiting}; "
            "it was not sent to the upstream"
        )


def _number(value: float) -> str:
    """A credit amount as people write it: `3`, `1.5`."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class CreditCap:
    """Credits spent and reserved during one recording, kept in DIR/credits.json across restarts.

    A call reserves its estimate before it is sent; the answer settles the part charged now, and
    a webhook (identified by the token the recorder gave it) settles the part charged later.
    """

    def __init__(self, folder: Path, cap: float | None) -> None:
        self.path = folder / STATE_FILE
        self.cap = cap
        self._lock = threading.Lock()
        self.spent = 0.0
        self.pending: dict[str, float] = {}
        if self.path.exists():
            state = json.loads(self.path.read_text(encoding="utf-8"))
            self.spent = float(state.get("spent", 0.0))
            self.pending = {str(k): float(v) for k, v in dict(state.get("pending", {})).items()}

    @property
    def reserved(self) -> float:
        """Credits held for calls in flight and webhooks not yet delivered."""
        return sum(self.pending.values())

    def reserve(self, cost: Estimate) -> str:
        """Hold `cost` for one call, or raise CapReached when it could cross the cap; a ticket."""
        with self._lock:
            if self.cap is not None and self.spent + self.reserved + cost.total > self.cap + 1e-9:
                raise CapReached(cost.total, self.spent, self.reserved, self.cap)
            ticket = secrets.token_hex(12)  # also names the call's webhook receiver: not guessable
            self.pending[ticket] = cost.total
            self._save()
            return ticket

    def settle(self, ticket: str, charged: float, *, still_pending: float = 0.0) -> None:
        """The call behind `ticket` cost `charged`; `still_pending` stays held for its webhook."""
        with self._lock:
            if ticket not in self.pending:
                return
            self.spent += max(charged, 0.0)
            if still_pending > 0:
                self.pending[ticket] = still_pending
            else:
                del self.pending[ticket]
            self._save()

    def describe(self) -> dict[str, Any]:
        """The state as the recorder reports it."""
        return {"spent": self.spent, "reserved": self.reserved, "max_credits": self.cap}

    def _save(self) -> None:
        """Write the state atomically (a crash leaves the old file or the new one, never half)."""
        state = {"spent": self.spent, "pending": self.pending, "max_credits": self.cap}
        write_private(self.path, json.dumps(state, indent=2) + "\n")
