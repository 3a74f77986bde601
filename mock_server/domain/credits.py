"""Apollo's credit costs and the per-team ledger that charges them."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.domain.keys import KeyRegistry
from mock_server.domain.store import Store

# docs/apollo-facts.md 5 ("Credit usage: 1-9 credits per person"): 1 for demographics or email, plus 8 when a
# mobile phone is returned; 0 when no credit-consuming data is found.
MATCH_CREDITS = 1
MOBILE_PHONE_CREDITS = 8.0
# (team, reason) pairs whose counter names the ledger keeps made.
_COUNTER_NAMES = 1_024


@dataclass(frozen=True)
class Balance:
    """What a team has spent and what it has left (None: unlimited)."""

    team: str
    spent: float
    granted: float | None

    @property
    def left(self) -> float | None:
        """Credits left, or None when the team's credits are unlimited."""
        return None if self.granted is None else max(self.granted - self.spent, 0.0)


class Ledger:
    """Credits spent per team, kept in the store so every worker sees the same numbers."""

    def __init__(self, store: Store, keys: KeyRegistry) -> None:
        self.store = store
        self.keys = keys
        # The counter names of each (team, reason) charged: `credits:<team>` and its tally by reason.
        self._counters: dict[tuple[str, str], tuple[str, str]] = {}

    def spend(self, team: str, amount: float, reason: str = "match") -> bool:
        """Charge `amount` only if the team's grant covers it, checked and charged in one step."""
        if amount <= 0:
            return True
        limit = self.keys.team_credits(team)
        counters = self._counters.get((team, reason))
        if counters is None:
            if len(self._counters) >= _COUNTER_NAMES:
                self._counters.clear()
            counters = self._counters[(team, reason)] = (f"credits:{team}", f"credits:{team}:{reason}")
        return self.store.spend(counters[0], amount, limit, counters[1])

    def refund(self, team: str, amount: float, reason: str = "match") -> None:
        """Give back credits charged for an answer that was never delivered (it ended in a 5xx)."""
        if amount <= 0:
            return
        self.store.incr(f"credits:{team}", -amount)
        self.store.incr(f"credits:{team}:{reason}", -amount)

    def spent(self, team: str, reason: str | None = None) -> float:
        """Credits `team` has spent, in all or for one reason."""
        if self.keys.team_credits(team) is None:
            self.store.settle()  # an uncapped team's charges may still be on their way (Store.spend)
        return self._read(team, reason)

    def _read(self, team: str, reason: str | None = None) -> float:
        return self.store.get(f"credits:{team}" if reason is None else f"credits:{team}:{reason}")

    def statement(self, reasons: tuple[str, ...]) -> list[tuple[Balance, dict[str, float]]]:
        """Every team's balance and its spending per reason in `reasons`, read after one settle."""
        self.store.settle()
        return [
            (
                Balance(team, self._read(team), self.keys.team_credits(team)),
                {reason: self._read(team, reason) for reason in reasons},
            )
            for team in self.teams()
        ]

    def balance(self, team: str) -> Balance:
        """What `team` has spent and has left."""
        return Balance(team, self.spent(team), self.keys.team_credits(team))

    def teams(self) -> list[str]:
        """Every team with a key."""
        return self.keys.teams()
