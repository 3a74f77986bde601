"""A webhook delivery as every store keeps it: one typed record and its one JSON document."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

DeliveryStatus = Literal["pending", "in_flight", "delivered", "failed"]
STATUSES: frozenset[str] = frozenset({"pending", "in_flight", "delivered", "failed"})
FINISHED: frozenset[str] = frozenset({"delivered", "failed"})
KINDS: frozenset[str] = frozenset({"phone", "waterfall"})


class Attempt(TypedDict, total=False):
    """One attempt at sending a delivery, as /__admin/webhooks shows it."""

    attempt: int
    at: str
    url: str
    status: int | None
    error: str | None
    duration_ms: float
    dropped: bool
    duplicate: bool


class DeliveryChanges(TypedDict, total=False):
    """What the dispatcher changes in a delivery after an attempt (`Store.update_delivery`)."""

    status: DeliveryStatus
    due_at: float
    attempts: list[Attempt]
    payload: dict[str, Any]
    charged: bool
    last_dispatched_at: str | None
    completed_at: str | None
    completed_ts: float | None
    failure_reason: str | None


class DamagedDelivery(ValueError):
    """A stored delivery document that is not a delivery (a damaged row or value)."""


@dataclass(slots=True)
class Delivery:
    """One webhook delivery: what to send where, its state and its attempts.

    The fields are in the order of its JSON document, which /__admin/webhooks answers with.
    """

    id: str
    request_id: int
    request_type: str  # "phone" or "waterfall"
    webhook_url: str
    team: str
    person_ids: list[str]
    payload: dict[str, Any]
    phone_credits: float
    sequence: int
    created_at: str | None
    due_at: float
    status: DeliveryStatus
    max_attempts: int
    attempts: list[Attempt]
    copies: int
    drop: bool
    scenario: str | None
    charged: bool
    last_dispatched_at: str | None
    completed_at: str | None
    completed_ts: float | None
    failure_reason: str | None

    @property
    def finished(self) -> bool:
        """Whether it was delivered or failed for good."""
        return self.status in FINISHED

    def document(self) -> dict[str, Any]:
        """The JSON document stores keep and the control API shows (attempts copied)."""
        document = {name: getattr(self, name) for name in _FIELDS}
        document["attempts"] = [dict(a) for a in self.attempts]
        return document

    def changed(self, changes: DeliveryChanges) -> Delivery:
        """A copy with `changes` applied."""
        return dataclasses.replace(self, **changes)

    def copy(self) -> Delivery:
        """A copy whose attempts list is its own."""
        return dataclasses.replace(self, attempts=list(self.attempts))

    @classmethod
    def from_document(cls, document: Any) -> Delivery:
        """The delivery a stored JSON document holds; DamagedDelivery saying what is wrong with it.

        Fields a document lacks take their defaults, except the few no delivery can go without.
        """
        if not isinstance(document, dict):
            raise DamagedDelivery(f"a delivery must be a JSON object, got {type(document).__name__}")
        values: dict[str, Any] = {}
        for name, (check, default) in _FIELDS.items():
            if name not in document:
                if default is _REQUIRED:
                    raise DamagedDelivery(f"a delivery needs {name!r}")
                values[name] = default() if callable(default) else default
                continue
            value = document[name]
            if not check(value):
                raise DamagedDelivery(f"delivery field {name!r} has an unusable value {value!r:.60}")
            values[name] = value
        return cls(**values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


_REQUIRED = object()
# Each field of a stored document: what its value must be, and its default when absent.
_FIELDS: dict[str, tuple[Callable[[Any], bool], Any]] = {
    "id": (_is_str, _REQUIRED),
    "request_id": (_is_int, _REQUIRED),
    "request_type": (lambda v: v in KINDS, _REQUIRED),
    "webhook_url": (_is_str, _REQUIRED),
    "team": (_is_str, _REQUIRED),
    "person_ids": (lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v), list),
    "payload": (lambda v: isinstance(v, dict), _REQUIRED),
    "phone_credits": (_is_number, 0),
    "sequence": (_is_int, 0),
    "created_at": (_optional(_is_str), None),
    "due_at": (_is_number, _REQUIRED),
    "status": (lambda v: v in STATUSES, "pending"),
    "max_attempts": (_is_int, 1),
    "attempts": (lambda v: isinstance(v, list) and all(isinstance(a, dict) for a in v), list),
    "copies": (_is_int, 1),
    "drop": (lambda v: isinstance(v, bool), False),
    "scenario": (_optional(_is_str), None),
    "charged": (lambda v: isinstance(v, bool), False),
    "last_dispatched_at": (_optional(_is_str), None),
    "completed_at": (_optional(_is_str), None),
    "completed_ts": (_optional(_is_number), None),
    "failure_reason": (_optional(_is_str), None),
}
