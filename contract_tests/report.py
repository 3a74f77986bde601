"""The run's results: each property's verdict, the minimal failing case, and the rendered report."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from contract_tests.cases import Case, Observation, Property
from contract_tests.misses import miss_rule
from contract_tests.strategies import definition

ALL_SKIPPED = (
    "every property was skipped (the client answered unsupported): nothing was checked. A client must "
    "support people_match for every identifier it is given (email; first_name, last_name and domain; "
    "name and organization_name; linkedin_url; id), and people_bulk_match and receive_webhooks for "
    "the bulk and webhook properties."
)


@dataclass
class Failure:
    """The minimal failing case of a property and what the client did with it."""

    case: Case
    observation: Observation
    problems: list[str]
    shrink_runs: int = 0


@dataclass
class PropertyResult:
    """How one property fared."""

    prop: Property
    status: str  # passed, failed or skipped
    cases: int = 0
    failure: Failure | None = None
    seconds: float = 0.0
    client_seconds: float = 0.0
    generation_seconds: float = 0.0
    shrink_seconds: float = 0.0
    note: str = ""


@dataclass
class Report:
    """The whole run."""

    client: str
    seed: int
    examples: int
    results: list[PropertyResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no property failed and not every property was skipped."""
        return all(r.status != "failed" for r in self.results) and not self.all_skipped

    @property
    def all_skipped(self) -> bool:
        """True when every property run was skipped: nothing about the client was checked."""
        return bool(self.results) and all(r.status == "skipped" for r in self.results)

    @property
    def failed(self) -> list[str]:
        """Names of the failed properties."""
        return [r.prop.name for r in self.results if r.status == "failed"]

    def _cases(self) -> int:
        return sum(r.cases + (r.failure.shrink_runs if r.failure else 0) for r in self.results)

    def overhead_ms(self) -> float:
        """Mean time per case spent outside the client and case generation (priming, HTTP, checks)."""
        cases = self._cases()
        client = sum(r.client_seconds + r.generation_seconds for r in self.results)
        return 0.0 if cases == 0 else max(0.0, self.seconds - client) / cases * 1000

    def generation_ms(self) -> float:
        """Mean time per case spent generating cases with Hypothesis."""
        cases = sum(r.cases for r in self.results)
        generation = sum(r.generation_seconds for r in self.results)
        return 0.0 if cases == 0 else generation / cases * 1000

    def render(self) -> str:
        """The table of properties, then every failure with its minimal case."""
        lines = [
            f"fakeapollo contract: {self.client} (seed {self.seed}, up to {self.examples} examples each)",
            "",
        ]
        width = max(len(r.prop.name) for r in self.results) if self.results else 8
        lines.append(f"  {'property'.ljust(width)}  result   cases  seconds")
        for result in self.results:
            mark = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[result.status]
            lines.append(
                f"  {result.prop.name.ljust(width)}  {mark.ljust(7)}  {str(result.cases).rjust(5)}"
                f"  {result.seconds:7.2f}" + (f"  {result.note}" if result.note else "")
            )
        for result in self.results:
            if result.failure is None:
                continue
            failure = result.failure
            lines += ["", f"FAILED {result.prop.name}: {result.prop.description}"]
            shrunk = f" (shrunk in {failure.shrink_runs} runs)" if failure.shrink_runs else ""
            lines.append(f"  minimal failing case{shrunk}:")
            lines += [f"    {line}" for line in failure.case.describe()]
            lines += [f"  decided by: {line}" for line in deciding_lines(failure.case)]
            lines += [f"  the field: {line}" for line in fields_in_question(failure)]
            obs = failure.observation
            if obs.exchanges:
                lines.append(f"  the client sent {len(obs.exchanges)} request(s):")
                start = obs.exchanges[0].arrived
                for exchange in obs.exchanges[:6]:
                    lines.append(
                        f"    +{exchange.arrived - start:.3f}s {exchange.describe()} -> {exchange.status}"
                    )
            reported = json.dumps(obs.outcome, ensure_ascii=False) if obs.outcome is not None else "nothing"
            lines.append(f"  the client reported: {reported[:500]}")
            if obs.output:
                lines += [f"    {line}" for line in obs.output.splitlines()[-12:]]
            lines.append("  problems:")
            problems = failure.problems or [NO_PROBLEM]
            lines += [f"    - {problem}" for problem in problems]
        if self.all_skipped:
            lines += ["", ALL_SKIPPED]
        passed = sum(1 for r in self.results if r.status == "passed")
        failed = len(self.failed)
        skipped = sum(1 for r in self.results if r.status == "skipped")
        lines += [
            "",
            f"{passed} passed, {failed} failed, {skipped} skipped in {self.seconds:.1f} s "
            f"({self._cases()} client runs; per case: runner overhead {self.overhead_ms():.1f} ms, "
            f"generation {self.generation_ms():.1f} ms)",
        ]
        return "\n".join(lines)


#: Where the rules for each answer are written down.
RULES = "Contract-testing your client"
#: Shown if a failure ever came without a problem (a fakeapollo bug, never the client's).
NO_PROBLEM = "(no problem was recorded for this failure: a fakeapollo bug; please report it)"


def deciding_lines(case: Case) -> list[str]:
    """What in the minimal case decides the expected outcome, and the rule's source."""
    lines = []
    for person in case.person_documents():
        rule = miss_rule(person)
        if rule is not None:
            lines.append(rule.describe(person))
    for number, response in enumerate(case.responses, 1):
        if response.fault is not None or response.status != 200:
            what = response.fault or f"HTTP {response.status}"
            header = next(
                (f"; Retry-After: {v}" for k, v in response.headers.items() if k.lower() == "retry-after"), ""
            )
            dated = "; Retry-After: an HTTP date" if response.retry_after_date is not None else ""
            lines.append(
                f"answer {number}: {what}{header}{dated} (the rules: README, Contract-testing your client)"
            )
    return lines


def fields_in_question(failure: Failure) -> list[str]:
    """The person fields a failure names (a crash on a key, a problem with a field), with their values.

    The report shows them even when the answer's excerpt is cut.
    """
    obs = failure.observation
    text = " ".join([obs.crash or "", *failure.problems])
    names = set(re.findall(r"['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]", text))
    names |= set(re.findall(r"(?:person|\])\.([A-Za-z_][A-Za-z0-9_]*)", text))
    lines = []
    documented = definition("person")["properties"]
    for number, person in enumerate(failure.case.person_documents()[:3]):
        where = "person" if len(failure.case.person_documents()) == 1 else f"person {number + 1}"
        for name in sorted(n for n in names if n in documented and n != "id"):
            value = json.dumps(person[name], ensure_ascii=False) if name in person else "absent"
            lines.append(f"{where}.{name} = {value if len(value) <= 200 else value[:197] + '...'}")
    return lines


__all__ = [
    "ALL_SKIPPED",
    "NO_PROBLEM",
    "deciding_lines",
    "Failure",
    "PropertyResult",
    "Report",
    "fields_in_question",
]
