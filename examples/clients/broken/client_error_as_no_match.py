"""Broken on purpose: reads any 4xx but 401/429 as "nobody matched" (out of credits looks like a miss).

Caught by the `client_error` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, ApolloError, AuthError, Person, RateLimitedError, adapter_for, main


class ClientErrorAsNoMatch(ApolloClient):
    """Swallows 400, 403 and 422 answers."""

    def people_match(self, **params: Any) -> Person | None:
        """The bug: an error answer becomes None."""
        try:
            return super().people_match(**params)
        except (AuthError, RateLimitedError):
            raise
        except ApolloError as exc:
            if str(exc).startswith("HTTP 5") or "JSON" in str(exc):
                raise
            return None


Adapter = adapter_for(ClientErrorAsNoMatch)

if __name__ == "__main__":
    sys.exit(main(ClientErrorAsNoMatch))
