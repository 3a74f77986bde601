"""Broken on purpose: no read timeout at all, so a connection that never answers holds it forever.

requests waits without limit unless given a timeout. Caught by the `timeouts` property: the hung
connection is held past the longest read timeout a client may use, and the client was still waiting.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, adapter_for, main


class WaitsForever(ApolloClient):
    """Written against a local mock that always answers at once."""

    def __init__(self, api_url: str, api_key: str, **options: Any) -> None:
        """The bug: timeout=None."""
        super().__init__(api_url, api_key, **options)
        self.timeout = None  # type: ignore[assignment]


Adapter = adapter_for(WaitsForever)

if __name__ == "__main__":
    sys.exit(main(WaitsForever))
