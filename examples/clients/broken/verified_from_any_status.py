"""Broken on purpose: derives `email_verified` as "not unverified", so extrapolated emails count.

Caught by `match` (a derived field is compared with what `email_status` implies).
"""

import sys
from dataclasses import dataclass
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, Person, adapter_for, main


@dataclass
class VerifiedPerson(Person):
    """A person with the application's own flag."""

    email_verified: bool = False


class VerifiedFromAnyStatus(ApolloClient):
    """Flags every email whose status is not "unverified" as verified."""

    def parse_person(self, record: dict[str, Any]) -> Person:
        """The bug: extrapolated, unavailable and null statuses come out verified."""
        person = super().parse_person(record)
        flag = record.get("email_status") != "unverified"
        return VerifiedPerson(**vars(person), email_verified=flag)


Adapter = adapter_for(VerifiedFromAnyStatus)

if __name__ == "__main__":
    sys.exit(main(VerifiedFromAnyStatus))
