"""Broken on purpose: skips a payload whose request_id it has seen; payloads without one all look alike.

Apollo documents its phone payload without `request_id`. Caught by `idempotent_webhooks`.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, PythonClientAdapter, main, receive_webhook


def by_request_id(payload: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """The bug: `payload.get("request_id")` is None for every undocumented payload."""
    seen = list((state or {}).get("_seen", []))
    request_id = payload.get("request_id")
    if request_id in seen:
        return dict(state or {})
    stored = receive_webhook(payload, {k: v for k, v in (state or {}).items() if k != "_seen"})
    return {**stored, "_seen": [*seen, request_id]}


class ByRequestIdAdapter(PythonClientAdapter):
    """Feeds payloads to the request-id deduplicating receiver."""

    def receive_webhook(self, payload: dict[str, Any], state: Any) -> Any:
        """One delivery."""
        return by_request_id(payload, state)


Adapter = ByRequestIdAdapter()

if __name__ == "__main__":
    import python_client

    python_client.receive_webhook = by_request_id
    sys.exit(main(ApolloClient))
