"""A harmless habit: a bulk request asks each identical detail once and reuses the answer.

Apollo matches identical details to the same person, so asking once saves credits; the contract
must line the answers back up with the details as asked.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, ApolloError, Person, adapter_for, main


class AsksRepeatsOnce(ApolloClient):
    """The good client, deduplicating bulk details before sending them."""

    def bulk_match(self, details: list[dict[str, Any]]) -> list[Person | None]:
        """Ask the distinct details, then answer every detail from its first occurrence."""
        distinct: list[dict[str, Any]] = []
        for detail in details:
            if detail not in distinct:
                distinct.append(detail)
        answers = super().bulk_match(distinct)
        if len(answers) != len(distinct):
            raise ApolloError("the bulk answer does not line up with the details sent")
        return [answers[distinct.index(detail)] for detail in details]


Adapter = adapter_for(AsksRepeatsOnce)

if __name__ == "__main__":
    sys.exit(main(AsksRepeatsOnce))
