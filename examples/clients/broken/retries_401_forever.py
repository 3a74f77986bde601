"""Broken on purpose: retries a 401 forever, hoping the key starts working.

Caught by the `unauthorized` property (the emulator cuts the runaway client off).
"""

import sys

import _base  # noqa: F401
import requests
from python_client import ApolloClient, adapter_for, main


class RetriesUnauthorizedForever(ApolloClient):
    """Treats a bad key as a transient failure."""

    def retry_delay(self, response: requests.Response | None, attempt: int) -> float | None:
        """The bug: 401 is retried without a limit."""
        if response is not None and response.status_code == 401:
            return 0.01
        return super().retry_delay(response, attempt)


Adapter = adapter_for(RetriesUnauthorizedForever)

if __name__ == "__main__":
    sys.exit(main(RetriesUnauthorizedForever))
