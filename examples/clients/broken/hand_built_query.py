"""Broken on purpose: builds the query string by hand, so `AT&T` arrives as `AT` and `+` as a space.

Caught by the `valid_requests` property (the server must receive exactly what was asked).
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, _error_for, _json_object, adapter_for, main


class HandBuiltQuery(ApolloClient):
    """GET with an f-string query and no escaping."""

    def post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """The bug: values go into the URL unescaped."""
        if path != "/people/match":
            return super().post(path, params)
        query = "&".join(f"{key}={value}" for key, value in params.items())
        response = self.session.get(
            f"{self.api_url}{path}?{query}", headers={"x-api-key": self.api_key}, timeout=self.timeout
        )
        if not response.ok:
            raise _error_for(response)
        return _json_object(response)


Adapter = adapter_for(HandBuiltQuery)

if __name__ == "__main__":
    sys.exit(main(HandBuiltQuery))
