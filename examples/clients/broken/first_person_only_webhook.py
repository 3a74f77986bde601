"""Broken on purpose: a webhook receiver that keeps only the first person of each payload.

Caught by `idempotent_webhooks` (every person of a multi-person payload must leave a trace).
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, PythonClientAdapter, main, receive_webhook


def first_only(payload: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """The bug: `payload["people"][0]`."""
    people = payload.get("people") or []
    return receive_webhook({**payload, "people": people[:1]}, state)


class FirstOnlyAdapter(PythonClientAdapter):
    """Feeds payloads to the first-person-only receiver."""

    def receive_webhook(self, payload: dict[str, Any], state: Any) -> Any:
        """One delivery."""
        return first_only(payload, state)


Adapter = FirstOnlyAdapter()

if __name__ == "__main__":
    import python_client

    python_client.receive_webhook = first_only
    sys.exit(main(ApolloClient))
