"""Broken on purpose: carries `request_id` as a float (a JavaScript number): past 2**53 it polls a wrong id.

Caught by `request_ids`.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, adapter_for, main


class FloatRequestId(ApolloClient):
    """Reads ids the way `JSON.parse` does."""

    def request_id(self, data: dict[str, Any]) -> str:
        """The bug: a double has 53 bits of precision."""
        return str(int(float(data["request_id"])))


Adapter = adapter_for(FloatRequestId)

if __name__ == "__main__":
    sys.exit(main(FloatRequestId))
