"""Broken on purpose: gives Apollo 300 ms to answer, so an answer that takes 1.5 s is lost.

Caught by the `timeouts` property.
"""

import sys

import _base  # noqa: F401
from python_client import ApolloClient, adapter_for, main


class ShortReadTimeout(ApolloClient):
    """Tuned for a fast local mock, not for Apollo."""

    def __init__(self, api_url: str, api_key: str) -> None:
        """The bug: timeout=0.3."""
        super().__init__(api_url, api_key, timeout=0.3)


Adapter = adapter_for(ShortReadTimeout)

if __name__ == "__main__":
    sys.exit(main(ShortReadTimeout))
