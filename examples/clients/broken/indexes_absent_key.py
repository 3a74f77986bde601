"""Broken on purpose: indexes `record["email"]`, a key Apollo leaves out of thinner answers.

Caught by the `partial` property.
"""

import sys
from dataclasses import replace
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class IndexesAbsentKey(ApolloClient):
    """Assumes every person carries every key, if only as null."""

    def parse_person(self, record: dict[str, Any]) -> Person:
        """The bug: `record["email"]` raises KeyError when the key is absent."""
        return replace(super().parse_person(record), email=record["email"])


Adapter = adapter_for(IndexesAbsentKey)

if __name__ == "__main__":
    sys.exit(main(IndexesAbsentKey))
