"""Broken on purpose: each webhook payload overwrites the stored one, so a late redelivery is stale.

Caught by the `idempotent_webhooks` property.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, PythonClientAdapter, main, receive_webhook


def overwrite(payload: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """The bug: each person's entry is replaced by the latest payload's, not merged."""
    stored = dict(state or {})
    stored.update(receive_webhook(payload, None))
    return stored


class OverwritingReceiverAdapter(PythonClientAdapter):
    """Feeds payloads to the overwriting receiver."""

    def receive_webhook(self, payload: dict[str, Any], state: Any) -> Any:
        """One delivery."""
        return overwrite(payload, state)


Adapter = OverwritingReceiverAdapter()

if __name__ == "__main__":
    import python_client

    python_client.receive_webhook = overwrite  # the command runs the same bug
    sys.exit(main(ApolloClient))
