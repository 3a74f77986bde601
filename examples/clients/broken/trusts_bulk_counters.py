"""Broken on purpose: believes `unique_enriched_records`: at 0 it reports a batch of misses.

Apollo's OpenAPI allows the counter at 0 while `matches` holds people. Caught by `bulk`.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class TrustsBulkCounters(ApolloClient):
    """Short-cuts on the counter."""

    def bulk_match(self, details: list[dict[str, Any]]) -> list[Person | None]:
        """The bug: `unique_enriched_records == 0` taken to mean nobody matched."""
        data = self.post("/people/bulk_match", {"details": details})
        if data.get("unique_enriched_records") == 0:
            return [None] * len(details)
        return super().bulk_match(details)


Adapter = adapter_for(TrustsBulkCounters)

if __name__ == "__main__":
    sys.exit(main(TrustsBulkCounters))
