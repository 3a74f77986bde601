"""Broken on purpose: reads `int(headers["Retry-After"])`, which fails on an absent header or a date.

Caught by the `rate_limited` property.
"""

import sys

import _base  # noqa: F401
import requests
from python_client import MAX_RETRIES, ApolloClient, adapter_for, main


class IntRetryAfter(ApolloClient):
    """Assumes Retry-After is always a number of seconds."""

    def retry_delay(self, response: requests.Response | None, attempt: int) -> float | None:
        """The bug: KeyError or ValueError on the other forms; and it sleeps any wait out."""
        if response is not None and response.status_code == 429:
            if attempt >= MAX_RETRIES:
                return None
            return float(int(response.headers["Retry-After"]))
        return super().retry_delay(response, attempt)


Adapter = adapter_for(IntRetryAfter)

if __name__ == "__main__":
    sys.exit(main(IntRetryAfter))
