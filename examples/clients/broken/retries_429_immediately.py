"""Broken on purpose: retries a 429 at once, ignoring Retry-After.

Caught by the `rate_limited` property.
"""

import sys

import _base  # noqa: F401
import requests
from python_client import MAX_RETRIES, ApolloClient, adapter_for, main


class RetriesRateLimitImmediately(ApolloClient):
    """Hammers Apollo again the moment it says "slow down"."""

    def retry_delay(self, response: requests.Response | None, attempt: int) -> float | None:
        """The bug: no wait on 429."""
        if response is not None and response.status_code == 429 and attempt < MAX_RETRIES:
            return 0.0
        return super().retry_delay(response, attempt)


Adapter = adapter_for(RetriesRateLimitImmediately)

if __name__ == "__main__":
    sys.exit(main(RetriesRateLimitImmediately))
