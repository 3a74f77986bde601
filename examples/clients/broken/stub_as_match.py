"""Broken on purpose: any person object is a match, a `match_confidence: "none"` stub (a miss) too.

Caught by the `no_match` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class StubAsMatch(ApolloClient):
    """`if person:` is all it checks."""

    def people_match(self, **params: Any) -> Person | None:
        """The bug: no look at match_confidence."""
        data = self.post("/people/match", params)
        record = data.get("person")
        return self.parse_person(record) if isinstance(record, dict) else None


Adapter = adapter_for(StubAsMatch)

if __name__ == "__main__":
    sys.exit(main(StubAsMatch))
