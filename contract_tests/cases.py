"""The contract's vocabulary: `Case`, `Observation` and `Property`.

A `Case` is what the client is asked and what the emulator answers, an `Observation` what the
client did with it, a `Property` its cases, extremes and check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from contract_tests.priming import Exchange
from contract_tests.strategies import CannedResponse, Deliveries


@dataclass
class Case:
    """One generated case: what the client is asked to do and what the emulator answers."""

    operation: str
    request: dict[str, Any]
    responses: list[CannedResponse] = field(default_factory=list)
    deliveries: Deliveries | None = None

    def describe(self) -> list[str]:
        """Readable lines for reports."""
        lines = [f"asked: {json.dumps(self.request, ensure_ascii=False)}"]
        if self.deliveries is not None:
            order = [self.deliveries.unique.index(p) + 1 for p in self.deliveries.delivered]
            lines.append(
                f"webhook deliveries: {len(self.deliveries.delivered)} "
                f"({len(self.deliveries.unique)} distinct), in this order: "
                + ", ".join(f"#{n}" for n in order)
            )
            for number, payload in enumerate(self.deliveries.unique, 1):
                text = json.dumps(payload, ensure_ascii=False)
                lines.append(f"  payload #{number}: " + (text if len(text) < 400 else text[:397] + "..."))
        for index, response in enumerate(self.responses):
            last = " (and every later request)" if index == len(self.responses) - 1 else ""
            lines.append(f"answer {index + 1}{last}: {response.describe()}")
        return lines

    def person_documents(self) -> list[dict[str, Any]]:
        """Every person object in the answers: what shrinking works on."""
        found: list[dict[str, Any]] = []
        for response in self.responses:
            document = response.document
            if not isinstance(document, dict):
                continue
            if isinstance(document.get("person"), dict):
                found.append(document["person"])
            for match in document.get("matches") or []:
                if isinstance(match, dict):
                    found.append(match)
        return found


@dataclass
class Observation:
    """What happened when the client ran one case."""

    outcome: dict[str, Any] | None
    exchanges: list[Exchange]
    crash: str | None = None
    output: str = ""
    runaway: bool = False
    seconds: float = 0.0
    api_key: str = ""
    #: The answers as served (HTTP dates filled in); the case's own when empty.
    served: list[CannedResponse] = field(default_factory=list)
    #: The run's time limit for one client run (seconds).
    timeout: float = 0.0


Check = Callable[[Case, Observation], list[str]]


@dataclass(frozen=True)
class Property:
    """One named property of the contract."""

    name: str
    description: str
    cases: Callable[[], st.SearchStrategy[Case]]
    check: Check
    #: "bulk" or "webhook" when the property needs that optional client operation.
    needs: str | None = None
    #: At most this many cases, whatever --examples says (some cases wait real seconds).
    max_examples: int | None = None
    #: Strategies of the fixed, deliberate extremes drawn before the random cases, in order.
    extremes: Callable[[], list[st.SearchStrategy[Case]]] = lambda: []


__all__ = ["Case", "Check", "Observation", "Property"]
