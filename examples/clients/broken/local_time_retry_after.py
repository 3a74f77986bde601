"""Broken on purpose: reads an HTTP-date `Retry-After` as local time, so outside UTC it waits wrong.

In a zone east of UTC the date lands in the past and the 429 is retried at once. Caught by
`rate_limited` (clients run with TZ=Asia/Kolkata).
"""

import sys
import time
from datetime import datetime

import _base  # noqa: F401
import requests
from python_client import MAX_RETRIES, ApolloClient, adapter_for, main


class LocalTimeRetryAfter(ApolloClient):
    """Parses the date without its zone."""

    def retry_delay(self, response: requests.Response | None, attempt: int) -> float | None:
        """The bug: strptime gives a naive datetime, and timestamp() reads it as local time."""
        if response is not None and response.status_code == 429 and attempt < MAX_RETRIES:
            value = response.headers.get("Retry-After", "1")
            try:
                return float(value)
            except ValueError:
                moment = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")
                return max(0.0, moment.timestamp() - time.time())
        return super().retry_delay(response, attempt)


Adapter = adapter_for(LocalTimeRetryAfter)

if __name__ == "__main__":
    sys.exit(main(LocalTimeRetryAfter))
