"""What makes a person slot a miss ("nobody matched"): the one place the contract's rules live.

`{"person": null}` is a miss. A person object is a miss when one of `MISS_RULES` applies to it; each
rule names the keys that decide it (shrinking keeps them, reports show them) and where Apollo is
known to send such a person. New shapes of miss (say, a thin person for an unknown email) are one
more `MissRule` here; the checks, the shrinker, the report and `verify` all read this table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MissRule:
    """One shape of person object that means "nobody matched"."""

    name: str
    #: The keys whose values decide that the person is a miss.
    keys: tuple[str, ...]
    applies: Callable[[dict[str, Any]], bool]
    #: Where Apollo is known to answer a miss this way.
    source: str
    #: A client may report such a person either way: as a miss, or as the person it is.
    either: bool = False

    def describe(self, person: dict[str, Any]) -> str:
        """`person.match_confidence = "none"` and friends, with the rule's source."""
        shown = ", ".join(f"person.{key} = {_shown(person.get(key))}" for key in self.keys if key in person)
        verdict = "a miss or a match, either may be reported" if self.either else "a miss"
        return f"{shown}: {self.name}, {verdict} ({self.source})"


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


MISS_RULES: list[MissRule] = [
    MissRule(
        'a stub person marked match_confidence: "none"',
        ("match_confidence",),
        lambda person: person.get("match_confidence") == "none",
        "Apollo's bulk docs mark a waterfall miss so (docs/apollo-facts.md 2.1); a live single-person "
        "miss answered so is reported in SkillfulAgents/SuperAgent #1114",
    ),
]


def _thin(person: dict[str, Any]) -> bool:
    return (
        person.get("name") == ""
        and person.get("first_name") is None
        and person.get("last_name") is None
        and "organization" not in person
        and "match_confidence" not in person
    )


#: The thin person: a real recording answered an email Apollo had no one for with a newly created
#: person (`name: ""`, no names, no organization, no location). It has an id, so a client may keep it
#: as the person it is, or treat it as nobody matched; it must not crash on what it lacks.
THIN_PERSON = MissRule(
    "the thin person Apollo creates for an email it has no one for",
    ("name", "first_name", "last_name"),
    _thin,
    "a recorded people/match answer, tests/data/recorded/people_match_thin-person-unknown-email_"
    "nango_2026-05-18.json (docs/apollo-facts.md 2.2)",
    either=True,
)
MISS_RULES.append(THIN_PERSON)


def miss_rule(person: Any) -> MissRule | None:
    """The rule that makes `person` (a person object) a miss (or possibly one), or None."""
    if not isinstance(person, dict):
        return None
    return next((rule for rule in MISS_RULES if rule.applies(person)), None)


def is_miss(person: Any) -> bool:
    """Whether a person slot means "nobody matched": null, or a person a strict `MissRule` applies to."""
    rule = miss_rule(person)
    return person is None or (rule is not None and not rule.either)


def may_be_miss(person: Any) -> bool:
    """Whether a client may report `person` as a miss: a miss, or a person an `either` rule applies to."""
    return person is None or miss_rule(person) is not None


def deciding_keys(person: Any) -> frozenset[str]:
    """The keys of `person` that decide whether it is a miss (kept whole by shrinking)."""
    rule = miss_rule(person)
    return frozenset(rule.keys) if rule is not None else frozenset()


__all__ = ["MISS_RULES", "THIN_PERSON", "MissRule", "deciding_keys", "is_miss", "may_be_miss", "miss_rule"]
