"""JSON bytes in and out: orjson on the hot path, the standard library where orjson refuses a value."""

from __future__ import annotations

import json
from typing import Any

import orjson


class Encoded:
    """JSON that is already encoded (a cached person); `dumps` splices it in as it is."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def decoded(self) -> Any:
        """The value these bytes encode."""
        return orjson.loads(self.raw)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as it is, the way Apollo writes its bodies."""
    try:
        return orjson.dumps(value, default=_fragment, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Integers beyond 64 bits, lone surrogates and mapping types orjson does not know.
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain).encode()
        except UnicodeEncodeError:
            return json.dumps(value, separators=(",", ":"), default=_plain).encode()


def loads(raw: bytes | str) -> Any:
    """Decode JSON with orjson (raises orjson.JSONDecodeError, a ValueError)."""
    return orjson.loads(raw)


def _fragment(value: Any) -> Any:
    """Orjson's hook for types it does not know: Encoded bytes go in unchanged."""
    if isinstance(value, Encoded):
        return orjson.Fragment(value.raw)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _plain(value: Any) -> Any:
    """The standard encoder's hook: Encoded bytes decoded, other mappings and sequences as JSON."""
    if isinstance(value, Encoded):
        return value.decoded()
    if hasattr(value, "items"):
        return dict(value.items())
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
