"""JSON bytes in and out: orjson on the hot path, the standard library where orjson refuses a value."""

from __future__ import annotations

import json
import math
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


class NotEncodable(ValueError):
    """A value JSON cannot carry: NaN or an infinity, a cycle, or nesting deeper than the encoders go."""


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as it is, the way Apollo writes its bodies.

    Always valid JSON: what no JSON can carry raises NotEncodable, never NaN or a half-written text.
    """
    try:
        return orjson.dumps(value, default=_fragment, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Integers beyond 64 bits, lone surrogates, mapping types orjson does not know, nesting past
        # orjson's 255 levels.
        return _dumps_slowly(value)


def _dumps_slowly(value: Any) -> bytes:
    """The standard encoder, refusing NaN and infinities; a lone surrogate is written as its escape."""
    try:
        try:
            return _standard(value, ascii_only=False).encode()
        except UnicodeEncodeError:
            return _standard(value, ascii_only=True).encode()
    except RecursionError as exc:
        raise NotEncodable("the value is nested too deeply to encode as JSON") from exc
    except ValueError as exc:  # NaN or an infinity, a cycle, an integer of more than 4,300 digits
        raise NotEncodable(f"the value cannot be encoded as JSON: {exc}") from exc


def _standard(value: Any, *, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"), default=_plain, allow_nan=False)


class NotDecodable(ValueError):
    """JSON the strict reading refuses; the message goes after what is read: `is not valid JSON: ...`."""


class NestedTooDeeply(NotDecodable):
    """JSON nested past what the standard parser can recurse into."""


def decode_text(raw: bytes) -> str:
    """UTF-8 bytes as text; NotDecodable naming the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotDecodable(f"is not valid UTF-8 (byte {exc.start})") from exc


def loads_strictly(text: str) -> Any:
    """JSON text as Ruby's JSON.parse reads it: no NaN, infinities or numbers past a double's range.

    NotDecodable (NestedTooDeeply past the parser's recursion) saying why, never another exception.
    """
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise NotDecodable(f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except NotDecodable:
        raise
    except RecursionError as exc:
        raise NestedTooDeeply("is nested too deeply to read") from exc
    except ValueError as exc:
        # Python refuses to convert integer literals of more than 4,300 digits (CVE-2020-10735).
        raise NotDecodable("holds an integer longer than 4,300 digits") from exc


def _no_constant(name: str) -> Any:
    """The standard parser's hook for NaN, Infinity and -Infinity, which Ruby's JSON.parse refuses."""
    raise NotDecodable(f"is not valid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent, refused when it overflows a double (1e400)."""
    value = float(text)
    if not math.isfinite(value):
        raise NotDecodable(f"holds a number too large for a float: {text[:40]}")
    return value


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
