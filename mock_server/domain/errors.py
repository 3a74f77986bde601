"""Apollo's errors as typed exceptions, each carrying Apollo's status, exact body and headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.domain.encoding import dumps

JSONBody = dict[str, Any] | str


class ApolloError(Exception):
    """An answer Apollo gives instead of a result; rendered by the app's one error handler."""

    status: int = 500
    content_type: str = "application/json"

    def __init__(self, body: JSONBody, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(body if isinstance(body, str) else body.get("error", body))
        self.body: JSONBody = body
        self.headers: dict[str, str] = dict(headers or {})

    def encoded_body(self) -> bytes:
        """The body exactly as Apollo sends it: the bare text, or compact JSON."""
        return self.body.encode() if isinstance(self.body, str) else dumps(self.body)


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


class BadRequest(ApolloError):
    """400 with Apollo's `{"error": ...}` body."""

    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__({"error": message, **extra})


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


class Conflict(ApolloError):
    """409 from the control API: the thing to create exists already."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__({"error": message})


class NotFound(ApolloError):
    """404 for a path Apollo does not serve."""

    status = 404

    def __init__(self, message: str = "Not Found") -> None:
        super().__init__({"error": message})


class MethodNotAllowed(ApolloError):
    """405 for a known path called with the wrong method."""

    status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(
            {"error": "Method Not Allowed", "allowed_methods": allowed},
            {"Allow": ", ".join(allowed)},
        )


class PayloadTooLarge(ApolloError):
    """413 for a body over the size limit."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__({"error": f"Request body is larger than {limit} bytes"})


class UnsupportedMediaType(ApolloError):
    """415 for a body that is not JSON."""

    status = 415

    def __init__(self, content_type: str) -> None:
        super().__init__({"error": f"Unsupported content type '{content_type}': send application/json"})


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
    """The team has no credits left. No source shows Apollo's answer; this one is our choice (README)."""

    status = 422

    def __init__(self) -> None:
        super().__init__(
            {
                "error": "Your team has run out of credits. Please upgrade your plan from"
                " https://app.apollo.io/#/settings/plans/upgrade.",
                "error_code": "INSUFFICIENT_CREDITS",
            }
        )
