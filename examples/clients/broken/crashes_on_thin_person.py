"""Broken on purpose: files every person under its company and city, read with `[]`.

Apollo answers an email it has no one for with a thin person: an id, `name: ""`, no organization
and no location keys. `person["organization"]["name"]` and `person["city"]` then raise KeyError.
Caught by the `partial` property, whose first case is that thin person.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


class FilesByCompanyAndCity(ApolloClient):
    """Builds a CRM label from the company and the city, assuming both are always there."""

    def parse_person(self, record: dict[str, Any]) -> Person:
        """The bug: the thin person has neither key."""
        label = f"{record['organization']['name']} ({record['city']})"
        person = super().parse_person(record)
        person.organization_name = label.split(" (")[0]
        return person


Adapter = adapter_for(FilesByCompanyAndCity)

if __name__ == "__main__":
    sys.exit(main(FilesByCompanyAndCity))
