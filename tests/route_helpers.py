"""The tests' route lists, derived from the operation table (mock_server/web/operations.py)."""

from __future__ import annotations

import re

from mock_server.web.operations import OPERATIONS, Operation

# A value the router accepts for each path parameter.
SAMPLES = {
    "id": "5f2a3b4c5d6e7f8091a2b3c4",
    "request_id": "123456789",
    "organization_id": "5f2a3b4c5d6e7f8091a2b3c5",
    "contact_id": "5f2a3b4c5d6e7f8091a2b3c6",
    "account_id": "5f2a3b4c5d6e7f8091a2b3c7",
}
# One the router refuses (no route: 404).
REFUSED_SAMPLES = {
    "id": "not/an-id",
    "request_id": "a/b",
    "organization_id": "a/b",
    "contact_id": "a/b",
    "account_id": "a/b",
}


def concrete(operation: Operation, prefix: str = "/api/v1", samples: dict[str, str] = SAMPLES) -> str:
    """The operation's path under `prefix` with a sample value in each parameter."""
    return prefix + re.sub(r"\{(\w+)\}", lambda m: samples[m.group(1)], operation.path)


def concrete_path(path: str) -> str:
    """An OpenAPI path (`/api/v1/people/{id}`) with a sample value in each parameter."""
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)


# Every operation and every method it lists, under /api/v1.
ROUTES = [(method, concrete(op)) for op in OPERATIONS for method in op.methods]
