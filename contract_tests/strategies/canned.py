"""`CannedResponse`: one exact HTTP answer the emulator serves in a contract case."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

Json = Any


@dataclass(frozen=True)
class CannedResponse:
    """One exact HTTP answer to serve: status, headers and body (a JSON document or raw text)."""

    status: int = 200
    document: Json = None
    text: str | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The schema `document` conforms to, when it is one of Apollo's messages.
    schema: str | None = None
    #: A transport fault: "slow" (answer after `delay` seconds), "hang" (no answer; the emulator
    #: holds the connection `delay` seconds) or "reset" (the connection dropped with a TCP reset).
    fault: str | None = None
    delay: float = 0.0
    #: Send `Retry-After` as an HTTP date this many seconds after the case starts (see `at`).
    retry_after_date: float | None = None

    def at(self, now: float) -> CannedResponse:
        """The answer as served in a case starting at wall-clock `now` (HTTP dates filled in)."""
        if self.retry_after_date is None:
            return self
        moment = math.ceil(now) + self.retry_after_date
        headers = {**self.headers, "Retry-After": formatdate(moment, usegmt=True)}
        return dataclasses.replace(self, headers=headers, retry_after_date=None)

    def body(self) -> bytes:
        """The bytes sent on the wire."""
        if self.text is not None:
            return self.text.encode("utf-8")
        return json.dumps(self.document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def describe(self) -> str:
        """One readable line (or a few) for reports."""
        body = self.text if self.text is not None else json.dumps(self.document, ensure_ascii=False)
        if len(body) > 600:
            body = body[:597] + "..."
        extra = "".join(f" {k}: {v};" for k, v in self.headers.items())
        if self.retry_after_date is not None:
            extra += f" Retry-After: <HTTP date {self.retry_after_date:g} s after the case starts>;"
        if self.fault == "hang":
            return f"no answer: the connection hangs (held {self.delay:g} s, or until the client gives up)"
        if self.fault == "reset":
            return "no answer: the connection is reset (TCP RST)"
        slow = f"after {self.delay:g} s: " if self.fault == "slow" else ""
        return f"{slow}HTTP {self.status} ({self.content_type};{extra}) {body}"


def json_response(document: Json, schema: str | None, status: int = 200, **headers: str) -> CannedResponse:
    """A JSON answer."""
    return CannedResponse(status=status, document=document, schema=schema, headers=dict(headers))
