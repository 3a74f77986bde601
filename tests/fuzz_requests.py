"""A seeded generator of hostile requests over the API and the control API, for the no-5xx fuzz run."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.scenarios import OutcomeName, request_parameters

# Each path with the methods it answers; a fifth of requests use any method instead.
API_PATHS = {
    "/api/v1/people/match": ("GET", "POST"),
    "/v1/people/match": ("GET", "POST"),
    "/api/v1/people/bulk_match": ("POST",),
    "/api/v1/organizations/enrich": ("GET", "POST"),
    "/api/v1/usage_stats/api_usage_stats": ("POST", "GET"),
    "/api/v1/webhook_result/{id}": ("GET",),
    "/api/v1/nowhere": ("POST",),
    "/openapi.json": ("GET",),
    "/": ("GET",),
}
ADMIN_PATHS = {
    "/__admin/requests": ("GET", "DELETE"),
    "/__admin/clock": ("GET", "POST"),
    "/__admin/clock/advance": ("POST",),
    "/__admin/scenarios": ("GET", "POST", "DELETE"),
    "/__admin/scenarios/{id}": ("DELETE",),
    "/__admin/webhooks": ("GET",),
    "/__admin/webhooks/flush": ("POST",),
    "/__admin/keys": ("GET", "POST"),
    "/__admin/keys/{key}": ("PATCH", "PUT", "DELETE"),
    "/__admin/usage": ("GET",),
    "/__admin/nowhere": ("GET",),
}
METHODS = ("GET", "POST", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
PARAMETERS = (*request_parameters(), "api_key")
KEYS = ("test-key", "test-key", "load-test-key", "free-plan-key", "nope", "", "x" * 300)
# Outcomes that never answer with a 5xx, a reset or a long wait of their own (those that do are
# the emulator obeying); `slow` is sent with short delays only.
OWN_FAILURES = {
    OutcomeName.SERVER_ERROR,
    OutcomeName.BAD_GATEWAY,
    OutcomeName.SERVICE_UNAVAILABLE,
    OutcomeName.TIMEOUT,
    OutcomeName.CONNECTION_RESET,
    OutcomeName.SLOW,
    OutcomeName.RESPOND,
}
SAFE_OUTCOMES = tuple(name.value for name in OutcomeName if name not in OWN_FAILURES)
STRINGS = (
    "",
    " ",
    "ada@example.com",
    "tim@apollo.io",
    "x@nomatch.test",
    "p@partial.test",
    "e@eu.test",
    "Ada Lovelace",
    "example.com",
    "http://www.linkedin.com/in/ada",
    "5f2a0b7c9d1e3f4a5b6c7d8e",
    "d41d8cd98f00b204e9800998ecf8427e",
    "http://127.0.0.1:9/hook",
    "http%3A%2F%2F127.0.0.1%3A9%2Fhook",
    "http://a]b/",
    "http://[::1/",
    "https://example.invalid/h",
    "\x00\x01",
    "é" * 3,
    "\ud800",
    "😀",
    "9999-12-31T23:59:59.5Z",
    "2026-03-01T12:00:00Z",
    "nan",
    "true",
    "FALSE",
    "a" * 3000,
)
NUMBERS: tuple[Any, ...] = (0, -1, 1, 2**63, -(2**64), 1e308, -1e-308, 0.5, 10**40, 3.14)


@dataclass
class FuzzRequest:
    """One request to send: method, path, headers, raw body."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def describe(self) -> str:
        """A short line for a failure report."""
        return f"{self.method} {self.path} {self.headers} {self.body[:300]!r}"


class RequestFuzzer:
    """Hostile but reproducible requests: the same seed gives the same sequence."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def value(self, depth: int = 0) -> Any:
        """A JSON value: strings, numbers, booleans, null, and some nesting."""
        rng = self.rng
        pick = rng.random()
        if pick < 0.45:
            return rng.choice(STRINGS)
        if pick < 0.6:
            return rng.choice(NUMBERS)
        if pick < 0.7:
            return rng.choice((True, False, None))
        if depth < 3 and pick < 0.85:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 11))]
        if depth < 3:
            return {rng.choice(PARAMETERS): self.value(depth + 1) for _ in range(rng.randint(0, 4))}
        return "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 12)))

    def params(self) -> dict[str, Any]:
        """A people/match-like parameter object."""
        return {self.rng.choice(PARAMETERS): self.value() for _ in range(self.rng.randint(0, 6))}

    def scenario_header(self) -> str:
        """An X-Mock-Scenario value: a safe outcome, maybe with parameters good or bad, or garbage."""
        rng = self.rng
        name = rng.choice((*SAFE_OUTCOMES, "slow", "explode", "respond", ""))
        if name == "slow":
            return f"slow; delay_ms={rng.choice(('1', '0', 'nan', 'inf', '-5', 'abc', '1e9'))}"
        extra = rng.choice(("", "; delay_s=nan", "; delay_s=5", "; x=1", "; =", ";;", "; seconds=nan"))
        return name + extra

    def scenario_document(self) -> Any:
        """A body for POST /__admin/scenarios: mostly well formed, sometimes not."""
        rng = self.rng
        if rng.random() < 0.2:
            return self.value()
        document: dict[str, Any] = {"outcome": rng.choice((*SAFE_OUTCOMES, "respond", "bogus"))}
        if rng.random() < 0.5:
            document["times"] = rng.choice((1, 2, 0, -1, "x", 1.5, None, 10**30))
        if rng.random() < 0.4:
            document["after"] = rng.choice((0, 1, -1, "x"))
        if rng.random() < 0.5:
            document["match"] = rng.choice(
                (
                    {"path": "/api/v1/people/match"},
                    {"params": {"email": "ada@example.com"}},
                    {"pth": "/x"},
                    {"params": {"emial": 1}},
                    {"api_key": 5},
                    self.value(),
                )
            )
        if rng.random() < 0.4:
            document["params"] = rng.choice(
                ({"delay_s": rng.choice((1, "nan", 1e300, -1, "abc"))}, {"delay_ms": 3}, self.value())
            )
        if document["outcome"] == "respond" or rng.random() < 0.1:
            document["responses"] = [
                {
                    "status": rng.choice((200, 201, 204, 302, 400, 404, 429, 99, 600, "x")),
                    "headers": rng.choice(({}, {"X-A": "b"}, {"Bad Name": "v"}, {"X-A": "a\r\nb"})),
                    "body": self.value(),
                }
                for _ in range(rng.randint(0, 3))
            ]
        return document

    def admin_body(self, path: str) -> Any:
        """A body for a control-API call."""
        rng = self.rng
        if path.endswith("/scenarios"):
            return self.scenario_document()
        if path.endswith("/clock"):
            return rng.choice(
                (
                    {"freeze": rng.choice((True, False, "yes"))},
                    {"now": rng.choice(STRINGS)},
                    {"now": "2026-03-01T12:00:00Z", "freeze": True},
                    self.value(),
                )
            )
        if path.endswith("/advance"):
            return {"seconds": rng.choice((*NUMBERS, "nan", 60, 0))}
        if "/keys" in path:
            return rng.choice(
                (
                    {"key": f"fuzz-{rng.randint(0, 9)}", "team": "t", "plan": "custom", "credits": 5},
                    {"key": "k", "credits": rng.choice(NUMBERS)},
                    {"credits": rng.choice((1, -1, None, "x"))},
                    self.value(),
                )
            )
        return self.value()

    def encode(self, document: Any) -> bytes:
        """A body as bytes: JSON (NaN included), sometimes broken, huge or not JSON at all."""
        rng = self.rng
        pick = rng.random()
        if pick < 0.03:
            return b'{"email": ' + b"9" * rng.choice((4000, 5000)) + b"}"
        if pick < 0.06:
            return bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 64)))
        if pick < 0.08:
            return b"[" * 5000
        if pick < 0.1:
            return b'{"seconds": NaN, "delay_ms": Infinity}'
        text = json.dumps(document, allow_nan=True)
        if pick < 0.13:
            text = text[: len(text) // 2]
        return text.encode("utf-8", "surrogatepass")

    def next(self) -> FuzzRequest:
        """The next request."""
        rng = self.rng
        admin = rng.random() < 0.35
        routes = ADMIN_PATHS if admin else API_PATHS
        path = rng.choice(sorted(routes))
        method = rng.choice(routes[path] if rng.random() < 0.8 else METHODS)
        path = path.replace("{id}", rng.choice(("1", "-5", "scn_1", "abc", "9" * 30, "%00")))
        path = path.replace("{key}", rng.choice(("test-key", "fuzz-1", "nope")))
        headers: dict[str, str] = {}
        if not admin and rng.random() < 0.9:
            headers["x-api-key"] = rng.choice(KEYS)
        if not admin and rng.random() < 0.15:
            headers["X-Mock-Scenario"] = self.scenario_header()
        if rng.random() < 0.3:
            query = "&".join(
                f"{rng.choice((*PARAMETERS, 'limit', 'cursor', 'status'))}=x{i}" for i in range(3)
            )
            path += "?" + query.replace("x0", rng.choice(("-1", "0", "2", "nan", "9" * 30)))
        body = b""
        if method in ("POST", "PUT", "PATCH") or rng.random() < 0.05:
            document = self.admin_body(path) if admin else self.params()
            body = self.encode(document)
            headers["Content-Type"] = rng.choice(
                (
                    "application/json",
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "text/plain",
                    "",
                )
            )
        return FuzzRequest(method, path, headers, body)
