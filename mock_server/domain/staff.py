"""An organization's searchable staff: how many, and each one's role, a pure function of (seed, domain)."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from functools import lru_cache
from typing import Final

from mock_server.domain.vocabularies import TRACKS, Role

#: Identity kind of a staff member: its value is `<domain>#<slot>`.
STAFF_KIND: Final = "staff"
#: Staff a search can list at one organization, at most (the rest of its employees are not indexed).
MAX_STAFF: Final = 100
#: Roles in the order staff draws pick them, and their cumulative weights.
ROLES: Final = tuple(role for _, roles in TRACKS for role in roles)
_CUMULATIVE: Final = tuple(
    itertools.accumulate(
        track_weight * role.weight / sum(r.weight for r in roles)
        for track_weight, roles in TRACKS
        for role in roles
    )
)


def staff_identity_value(domain: str, slot: int) -> str:
    """The identity value of the staff member in `slot` at `domain`."""
    return f"{domain}#{slot}"


def parse_staff(value: str) -> tuple[str, int] | None:
    """(domain, slot) of a staff identity value; None when it is not one."""
    domain, _, slot = value.rpartition("#")
    if not domain or not slot.isdigit() or int(slot) >= MAX_STAFF:
        return None
    return domain, int(slot)


def _rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@lru_cache(maxsize=4096)
def staff_roles(seed: int, domain: str, employees: int) -> tuple[Role, ...]:
    """The role of each searchable staff member at `domain` (a smaller company lists fewer)."""
    rng = _rng(seed, "staff", domain)
    size = min(MAX_STAFF, max(1, employees), int(10 ** rng.uniform(0.7, 2.0)))
    total = _CUMULATIVE[-1]
    # The first member runs the company, as every company has someone at the top.
    founders = [r for r in ROLES if "CEO" in r.title or "Chief Executive" in r.title]
    roles = [rng.choice(founders)]
    for _ in range(size - 1):
        roles.append(ROLES[min(bisect.bisect_right(_CUMULATIVE, rng.random() * total), len(ROLES) - 1)])
    return tuple(roles)
