"""Broken on purpose: a connection reset escapes as an exception instead of being reported or retried.

Caught by `server_error`.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, _error_for, _json_object, adapter_for, main


class ResetEscapes(ApolloClient):
    """Handles every HTTP answer, never the network failing."""

    def send(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """The bug: requests.ConnectionError is not caught."""
        response = self.session.request(
            method, self.api_url + path, json=body, headers={"x-api-key": self.api_key}, timeout=self.timeout
        )
        if response.ok:
            return _json_object(response)
        raise _error_for(response)


Adapter = adapter_for(ResetEscapes)

if __name__ == "__main__":
    sys.exit(main(ResetEscapes))
