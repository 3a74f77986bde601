"""The library's errors as typed exceptions, each carrying its status, exact body and headers.

One base, `FakeApolloError`, which one error handler renders; under it four branches:

- `ApolloError`: the answers Apollo itself gives instead of a result (docs/apollo-facts.md 2),
  with Apollo's status and exact body;
- `ServerRefusal`: the emulator's server refusing a request it cannot read, route or serve now
  (bad JSON, no such route, a body too large, an unknown content type, a store that is away), in
  Apollo's JSON style, on every route alike;
- `ControlError`: the refusals of the emulator's own controls (the control API under /__admin/,
  X-Mock-Scenario, the pytest plugin's handle);
- `RecorderError`: the refusals of `fakeapollo record` (its credit cap, an unreachable upstream).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.domain.encoding import dumps

JSONBody = dict[str, Any] | str


class FakeApolloError(Exception):
    """The base of every error the library answers with: a status, an exact body, a content type, headers."""

    status: int = 500
    content_type: str = "application/json"

    def __init__(self, body: JSONBody, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(body if isinstance(body, str) else body.get("error", body))
        self.body: JSONBody = body
        self.headers: dict[str, str] = dict(headers or {})

    def encoded_body(self) -> bytes:
        """The body exactly as it is sent: the bare text, or compact JSON."""
        return self.body.encode() if isinstance(self.body, str) else dumps(self.body)


class ApolloError(FakeApolloError):
    """An answer Apollo gives instead of a result; rendered by the app's one error handler."""


class ServerRefusal(FakeApolloError):
    """The server cannot read, route or serve a request now; `{"error": ...}` with its status."""


class ControlError(FakeApolloError):
    """A refusal of the emulator's own controls: never an answer Apollo gives."""


class RecorderError(FakeApolloError):
    """A refusal of `fakeapollo record` itself: the call was not forwarded to Apollo."""


class Unauthorized(ApolloError):
    """401: missing or unknown key. Apollo answers with a bare text body (docs/apollo-facts.md 2.4)."""

    status = 401
    content_type = "text/plain; charset=utf-8"

    def __init__(self, message: str = "Invalid access credentials.") -> None:
        super().__init__(message)


class Forbidden(ApolloError):
    """403 `API_INACCESSIBLE`: the plan or the key's scope does not include the endpoint."""

    status = 403

    def __init__(self, message: str) -> None:
        super().__init__({"error": message, "error_code": "API_INACCESSIBLE"})


class Unprocessable(ApolloError):
    """422 with Apollo's `{"error": ...}` body."""

    status = 422

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__({"error": message, **extra})


class InvalidParameter(Unprocessable):
    """422 for a parameter of the wrong type or form; names the field and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        # Apollo's 422 bodies carry `error` alone (OAS): the field is named in the message only.
        super().__init__(f"Invalid parameter '{field}': {problem}")
        self.field = field


class BulkFailed(ApolloError):
    """bulk_match's failure shape: `{"status": "failed", "error_code", "error_message"}`."""

    def __init__(self, status: int, error_code: str, error_message: str) -> None:
        super().__init__({"status": "failed", "error_code": error_code, "error_message": error_message})
        self.status = status


class RateLimited(ApolloError):
    """429 with Apollo's message, `error_details` and the rate-limit headers (docs/apollo-facts.md 2.7)."""

    status = 429

    def __init__(self, body: dict[str, Any], headers: Mapping[str, str]) -> None:
        super().__init__(body, headers)


class PollError(ApolloError):
    """The Poll Webhook Result endpoint's `{"error_code": ...}` answers (docs/apollo-facts.md 2.8)."""

    def __init__(self, status: int, error_code: str, **extra: Any) -> None:
        super().__init__({"error_code": error_code, **extra})
        self.status = status


class WebhookUrlRequired(ApolloError):
    """A reveal or waterfall flag without a valid `webhook_url` (docs/apollo-facts.md 2.3)."""

    def __init__(self, flag: str, status: int = 400) -> None:
        super().__init__({"error": f"Please add a valid 'webhook_url' parameter when using '{flag}'"})
        self.status = status


class GatewayError(ApolloError):
    """A 5xx as a client meets it: Apollo's app failing, or the gateway in front of it."""

    def __init__(
        self,
        status: int,
        body: JSONBody,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(body, headers)
        self.status = status
        self.content_type = content_type


class OutOfCredits(ApolloError):
    """The team has no credits left; no source shows Apollo's answer, this is ours (docs/emulation.md)."""

    status = 422

    def __init__(self) -> None:
        super().__init__(
            {
                "error": "Your team has run out of credits. Please upgrade your plan from"
                " https://app.apollo.io/#/settings/plans/upgrade.",
                "error_code": "INSUFFICIENT_CREDITS",
            }
        )


class MalformedRequest(ServerRefusal):
    """400: the request cannot be read (its body is not a JSON object, its HTTP framing is refused)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__({"error": message})


class NotFound(ServerRefusal):
    """404 for a path the server does not serve."""

    status = 404

    def __init__(self, message: str = "Not Found") -> None:
        super().__init__({"error": message})


class MethodNotAllowed(ServerRefusal):
    """405 for a known path called with the wrong method."""

    status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(
            {"error": "Method Not Allowed", "allowed_methods": allowed},
            {"Allow": ", ".join(allowed)},
        )


class PayloadTooLarge(ServerRefusal):
    """413 for a body over the size limit."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__({"error": f"Request body is larger than {limit} bytes"})


class UnsupportedMediaType(ServerRefusal):
    """415 for a body that is not JSON."""

    status = 415

    def __init__(self, content_type: str) -> None:
        super().__init__({"error": f"Unsupported content type '{content_type}': send application/json"})


class StoreUnavailable(ServerRefusal):
    """503: the store that keeps the emulator's state (a Redis server) is away; answers resume with it."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            {"error": "Service temporarily unavailable: fakeapollo's state store does not answer"},
            {"Retry-After": "1"},
        )


class InvalidControlRequest(ControlError):
    """400: a control request (a scenario, a key, a clock change, a query argument) is not valid."""

    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__({"error": message, **extra})


class ControlNotFound(ControlError):
    """404 from the control API: no scenario or key with that id."""

    status = 404

    def __init__(self, message: str) -> None:
        super().__init__({"error": message})


class ControlConflict(ControlError):
    """409 from the control API: the thing to create exists already."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__({"error": message})


class AdminUnauthorized(ControlError):
    """401 for a control-API call without the configured admin token."""

    status = 401

    def __init__(self) -> None:
        super().__init__(
            {"error": "The control API needs 'Authorization: Bearer <admin token>'"},
            {"WWW-Authenticate": 'Bearer realm="fakeapollo-admin"'},
        )
