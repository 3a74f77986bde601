"""Broken on purpose: asks a bulk detail once per name, so two people who share one become one.

Caught by `bulk` (two namesakes at different companies).
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class DedupesByName(ApolloClient):
    """Saves credits by name."""

    def bulk_match(self, details: list[dict[str, Any]]) -> list[Person | None]:
        """The bug: the key ignores the domain, email and company."""

        def key(detail: dict[str, Any]) -> tuple[Any, ...]:
            if "first_name" in detail:
                return (detail.get("first_name"), detail.get("last_name"))
            return tuple(sorted(detail.items()))

        unique: dict[tuple[Any, ...], dict[str, Any]] = {}
        for detail in details:
            unique.setdefault(key(detail), detail)
        found = super().bulk_match(list(unique.values()))
        by_key = dict(zip(unique, found, strict=False))
        return [by_key.get(key(detail)) for detail in details]


Adapter = adapter_for(DedupesByName)

if __name__ == "__main__":
    sys.exit(main(DedupesByName))
