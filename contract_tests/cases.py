"""The contract's vocabulary: `Case`, `Observation` and `Property`.

A `Case` is what the client is asked and what the emulator answers, an `Observation` what the
client did with it, a `Property` its cases, extremes and check.
"""

from __future__ import annotations

import dataclasses
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
    #: Answers for a variant of the request (matched on these parameters), served before
    #: `responses`: a bulk request that asks an identical detail only once gets its own answer.
    variants: list[tuple[dict[str, Any], list[CannedResponse]]] = field(default_factory=list)
    #: Answers for requests to one route (a scenario's `match`: `path`, and `params` when given),
    #: served before `responses`: a flow's search pages and each of its enrichments.
    routes: list[tuple[dict[str, Any], list[CannedResponse]]] = field(default_factory=list)
    #: More requests than this is a runaway client (None: `priming.DEFAULT_BUDGET`).
    budget: int | None = None

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
            if self.deliveries.lesser is not None:
                lines.append(f"  and once more without {self.deliveries.left_out}")
        for index, response in enumerate(self.responses):
            last = " (and every later request)" if index == len(self.responses) - 1 else ""
            lines.append(f"answer {index + 1}{last}: {response.describe()}")
        for where, answers in self.routes:
            asked = "".join(f" {k}={v}" for k, v in where.get("params", {}).items())
            for index, response in enumerate(answers):
                last = " (and every later one)" if index == len(answers) - 1 and len(answers) > 1 else ""
                lines.append(f"{where['path']}{asked}: answer {index + 1}{last}: {response.describe()}")
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
    #: The run budget of this client run (seconds): `--timeout` plus what the case makes it wait.
    timeout: float = 0.0
    #: The client was still running at its run budget and was stopped.
    stopped_at_limit: bool = False
    #: Wall-clock time (epoch seconds) the client's run ended.
    ended: float = 0.0


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


def deduplicated(details: list[Any]) -> list[Any]:
    """`details` with every identical repeat left out (first occurrences, in order)."""
    kept: list[Any] = []
    for detail in details:
        if detail not in kept:
            kept.append(detail)
    return kept


def recounted(document: dict[str, Any], matches: list[Any]) -> dict[str, Any]:
    """A bulk body around `matches`, its counters recounted where it keeps them true.

    Counters all at zero (which Apollo's OpenAPI allows beside matched persons) stay at zero.
    """
    body = {**document, "matches": matches}
    hits = sum(1 for m in matches if m is not None)
    if "total_requested_enrichments" in body:
        body["total_requested_enrichments"] = len(matches)
    if body.get("unique_enriched_records") or body.get("missing_records"):
        credits = body.get("credits_consumed")
        if isinstance(credits, int | float) and body["unique_enriched_records"]:
            each = credits / body["unique_enriched_records"]
            body["credits_consumed"] = hits * int(each) if each == int(each) else round(hits * each, 2)
        body["unique_enriched_records"] = hits
        body["missing_records"] = len(matches) - hits
    return body


def bulk_case(details: list[dict[str, Any]], answer: CannedResponse) -> Case:
    """A bulk case; identical details are answered by the same person, and asking them once works.

    Apollo matches identical details to the same person, so a client may ask each once: the
    emulator then answers the shorter request (a variant) with the same people.
    """
    case = Case("people_bulk_match", {"operation": "people_bulk_match", "details": details}, [answer])
    unique = deduplicated(details)
    document = answer.document
    if len(unique) == len(details) or not isinstance(document, dict):
        return case
    matches = document.get("matches")
    if not isinstance(matches, list) or len(matches) != len(details):
        return case
    first = {json.dumps(d, sort_keys=True): matches[details.index(d)] for d in unique}
    same = [first[json.dumps(d, sort_keys=True)] for d in details]
    fewer = [first[json.dumps(d, sort_keys=True)] for d in unique]
    case.responses = [dataclasses.replace(answer, document=recounted(document, same))]
    asked_once = dataclasses.replace(answer, document=recounted(document, fewer))
    case.variants = [({"details": unique}, [asked_once])]
    return case


__all__ = ["Case", "Check", "Observation", "Property", "bulk_case", "deduplicated", "recounted"]
