"""Broken on purpose: assumes every person has an organization, so a partial person crashes.

Caught by the `partial` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class KeyErrorOnMissingOrganization(ApolloClient):
    """`record["organization"]["name"]`: KeyError (or TypeError) when Apollo has no organization."""

    def parse_person(self, record: dict[str, Any]) -> Person:
        """The bug: indexing instead of `.get`."""
        return Person(
            id=record["id"],
            name=record["name"],
            email=record.get("email"),
            title=record["title"],
            organization_name=record["organization"]["name"],
        )


Adapter = adapter_for(KeyErrorOnMissingOrganization)

if __name__ == "__main__":
    sys.exit(main(KeyErrorOnMissingOrganization))
