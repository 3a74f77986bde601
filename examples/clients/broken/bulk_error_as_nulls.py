"""Broken on purpose: turns any failed bulk_match call into a batch of nulls ("nobody matched").

Caught by the `bulk_errors` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, ApolloError, Person, adapter_for, main


class BulkErrorAsNulls(ApolloClient):
    """A 401, 429, 5xx or `{"status": "failed"}` silently reads as ten misses."""

    def bulk_match(self, details: list[dict[str, Any]]) -> list[Person | None]:
        """The bug: the error is swallowed."""
        try:
            return super().bulk_match(details)
        except ApolloError:
            return [None] * len(details)


Adapter = adapter_for(BulkErrorAsNulls)

if __name__ == "__main__":
    sys.exit(main(BulkErrorAsNulls))
