"""Broken on purpose: reads only the first page of a People API Search, never asking for page 2.

Caught by the `search_then_enrich` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, ApolloError, adapter_for, main


class FirstPageOnly(ApolloClient):
    """Takes the first page for the whole result."""

    def search_people(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The bug: no `page` loop, so everyone past the first `per_page` people is lost."""
        people = self.post("/mixed_people/api_search", params).get("people")
        if not isinstance(people, list):
            raise ApolloError("api_search answer without people")
        return people


Adapter = adapter_for(FirstPageOnly)

if __name__ == "__main__":
    sys.exit(main(FirstPageOnly))
