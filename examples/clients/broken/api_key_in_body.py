"""Broken on purpose: sends `api_key` in the JSON body, the pre-2024 way (Apollo now answers 422).

Caught by the `valid_requests` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, adapter_for, main


class ApiKeyInBody(ApolloClient):
    """Leaks the key into the body (and from there into logs)."""

    def body(self, params: dict[str, Any]) -> dict[str, Any]:
        """The bug: the key travels in the body."""
        return {**params, "api_key": self.api_key}


Adapter = adapter_for(ApiKeyInBody)

if __name__ == "__main__":
    sys.exit(main(ApiKeyInBody))
