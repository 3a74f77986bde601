"""A harmless habit: `webhook_url` sent percent-encoded, as Apollo's docs suggest for URLs with a query.

The emulator decodes it to the URL asked for, so the contract must accept it as sent as asked.
"""

import sys
from typing import Any
from urllib.parse import quote

import _base  # noqa: F401
from python_client import ApolloClient, adapter_for, main


class EncodesTheWebhookUrl(ApolloClient):
    """The good client, with `webhook_url` percent-encoded whole."""

    def body(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with `webhook_url` percent-encoded (every reserved character)."""
        sent = dict(params)
        if isinstance(sent.get("webhook_url"), str):
            sent["webhook_url"] = quote(sent["webhook_url"], safe="")
        return sent


Adapter = adapter_for(EncodesTheWebhookUrl)

if __name__ == "__main__":
    sys.exit(main(EncodesTheWebhookUrl))
