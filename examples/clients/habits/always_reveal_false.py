"""A harmless habit: every people/match says `reveal_personal_emails: false` unless asked otherwise.

Many integrations spell out every flag at its default, so a request never depends on Apollo's
default. The contract must not count the flag as a parameter nobody asked for.
"""

import sys
from typing import Any

import _base  # noqa: F401
from python_client import ApolloClient, adapter_for, main


class SpellsOutTheEmailFlag(ApolloClient):
    """The good client, with the email-reveal flag always present."""

    def body(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` plus `reveal_personal_emails: false` when the caller did not set it."""
        if "details" in params:
            return dict(params)
        return {"reveal_personal_emails": False, **params}


Adapter = adapter_for(SpellsOutTheEmailFlag)

if __name__ == "__main__":
    sys.exit(main(SpellsOutTheEmailFlag))
