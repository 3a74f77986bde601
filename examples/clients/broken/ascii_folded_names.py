"""Broken on purpose: folds names to ASCII for an old database, so `Søren` comes out as `Sren`.

Caught by the `match` property (reported values must be Apollo's).
"""

import sys
from dataclasses import replace
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class AsciiFoldedNames(ApolloClient):
    """Drops every character outside ASCII from the name and the title."""

    def parse_person(self, record: dict[str, Any]) -> Person:
        """The bug: `.encode("ascii", "ignore")` loses letters."""
        person = super().parse_person(record)

        def fold(text: str | None) -> str | None:
            return None if text is None else text.encode("ascii", "ignore").decode()

        return replace(person, name=fold(person.name), title=fold(person.title))


Adapter = adapter_for(AsciiFoldedNames)

if __name__ == "__main__":
    sys.exit(main(AsciiFoldedNames))
