"""Broken on purpose: drops the nulls from bulk matches, so results shift onto the wrong people.

Caught by the `bulk` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class MisalignedBulk(ApolloClient):
    """Filters out misses, losing the position of every later match."""

    def bulk_match(self, details: list[dict[str, Any]]) -> list[Person | None]:
        """The bug: `if m` drops the positional nulls."""
        data = self.post("/people/bulk_match", {"details": details})
        return [self.parse_person(m) for m in data["matches"] if m]


Adapter = adapter_for(MisalignedBulk)

if __name__ == "__main__":
    sys.exit(main(MisalignedBulk))
