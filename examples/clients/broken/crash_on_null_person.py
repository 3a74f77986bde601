"""Broken on purpose: treats every people/match answer as a person, so `{"person": null}` crashes.

Caught by the `no_match` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class CrashOnNullPerson(ApolloClient):
    """`data["person"]["id"]` without looking: TypeError on a miss."""

    def people_match(self, **params: Any) -> Person | None:
        """The bug: no null check."""
        data = self.post("/people/match", params)
        return self.parse_person(data["person"])


Adapter = adapter_for(CrashOnNullPerson)

if __name__ == "__main__":
    sys.exit(main(CrashOnNullPerson))
