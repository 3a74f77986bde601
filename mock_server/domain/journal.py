"""The request journal: a bounded ring of what clients sent and what the emulator answered."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from mock_server.domain.encoding import NotEncodable, dumps
from mock_server.domain.params import FLAGS

DEFAULT_SIZE = 1_000
# The journal's byte budget by default: what its entries' bodies and headers may take together.
DEFAULT_BYTES = 64 << 20
# What an entry costs besides its bodies and headers (its object, times, numbers), roughly.
ENTRY_OVERHEAD = 512
# Header names (lower case, `_` read as `-`) whose values are secrets.
SENSITIVE_HEADERS = frozenset(
    {"x-api-key", "api-key", "authorization", "proxy-authorization", "cookie", "x-admin-token"}
)
# Parameter names (lower case, `-` read as `_`) whose values are secrets.
SENSITIVE_PARAMS = frozenset({"api_key", "x_api_key", "apikey", "access_token", "token"})
MASK = "\u2026"  # "…": where the hidden middle of a secret was
SHORT_SECRET_MASK = "****"
# How much of a key's fingerprint the control API shows: enough to tell a handful of keys apart.
SHOWN_FINGERPRINT_CHARS = 8
# The parameters that say whom or what a request is about, the most telling first: a journal
# listing shows them as the request's input, then any other parameter but the options below.
INPUT_FIELDS = (
    "email",
    "hashed_email",
    "id",
    "person_id",
    "linkedin_url",
    "name",
    "first_name",
    "last_name",
    "organization_name",
    "domain",
    "website",
    "details",
    "domains",
)
NOT_INPUT = frozenset({*FLAGS, "webhook_url", *SENSITIVE_PARAMS})
INPUT_CHARS = 160
INPUT_VALUE_CHARS = 60
INPUT_LIST_ITEMS = 3
INPUT_DEPTH = 2
_SPACES = re.compile(r"\s+")


def mask_secret(secret: str) -> str:
    """A secret shown only by its ends: `free-plan-key` → `fr…ey`; 4 characters or fewer → `****`.

    A fifth of the secret at most shows at each end, never more than four characters, so keys that
    differ at either end stay distinguishable while a real 32-character key shows 8 of its 32.
    """
    shown = min(4, len(secret) // 5)
    if shown == 0:
        return SHORT_SECRET_MASK
    return secret[:shown] + MASK + secret[-shown:]


def is_masked(text: str) -> bool:
    """Whether `text` is already a mask (what mask_secret returns), so it is never masked twice."""
    return text == SHORT_SECRET_MASK or (MASK in text and len(text) <= 9)


def _mask_once(secret: str) -> str:
    return secret if is_masked(secret) else mask_secret(secret)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers with API keys and tokens masked (an Authorization scheme stays readable)."""
    shown = {}
    for name, value in headers.items():
        lowered = name.lower().replace("_", "-")
        if lowered in SENSITIVE_HEADERS:
            scheme, sep, token = value.partition(" ")
            value = (
                f"{scheme} {_mask_once(token)}"
                if sep and lowered.endswith("authorization")
                else _mask_once(value)
            )
        shown[name] = value
    return shown


def names_secret(params: Mapping[str, Any]) -> bool:
    """Whether a parameter's name is a secret's (`api_key` and the like)."""
    for name in params:
        if not isinstance(name, str) or name.lower().replace("-", "_") in SENSITIVE_PARAMS:
            return True
    return False


def mask_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters with an `api_key` (and other secret-named parameters) masked."""
    return {
        k: _mask_once(v) if isinstance(v, str) and k.lower().replace("-", "_") in SENSITIVE_PARAMS else v
        for k, v in params.items()
    }


# A secret-named parameter inside raw text: JSON (`"api_key": "…"`) or form (`api_key=…`).
_SECRET_NAMES = "|".join(sorted(SENSITIVE_PARAMS))
_SECRET_IN_TEXT = re.compile(
    rf"""(?P<lead>["']?(?:{_SECRET_NAMES})["']?\s*[:=]\s*["']?)(?P<value>[^"'&\s,}}]+)""", re.IGNORECASE
)


def mask_text(text: str) -> str:
    """Raw request text (a body kept only in part) with the values of secret-named parameters masked."""
    return _SECRET_IN_TEXT.sub(lambda m: m.group("lead") + _mask_once(m.group("value")), text)


def mask_key(key: str | None) -> str | None:
    """An API key as the journal keeps it: masked, None staying None."""
    return None if key is None else _mask_once(key)


def new_fingerprint_secret() -> str:
    """A fresh random secret for `key_fingerprint` (hex text, so every store can keep it as is)."""
    return secrets.token_hex(32)


def key_fingerprint(secret: str, key: str | None) -> str | None:
    """A keyed fingerprint of a whole API key (HMAC-SHA256 under `secret`), None staying None.

    Entries keep it beside the masked key so that a filter by key is exact (two keys with the same
    masked ends stay apart) while no store holds the key itself. Without the secret, which never
    leaves the store, nobody can test guesses of a short key against it.
    """
    return Fingerprints(secret)(key)


class Fingerprints:
    """`key_fingerprint` under one secret, its HMAC state prepared once (a fresh one costs µs)."""

    __slots__ = ("_base",)

    def __init__(self, secret: str) -> None:
        self._base = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def __call__(self, key: str | None) -> str | None:
        """The keyed fingerprint of `key`, None staying None."""
        if key is None:
            return None
        mac = self._base.copy()
        mac.update(key.encode("utf-8", "surrogatepass"))
        return mac.hexdigest()


def shown_fingerprint(fingerprint: str | None) -> str | None:
    """The start of a key's fingerprint, as the control API shows it beside the masked key.

    Two keys with the same mask (`test-key`, `tset-key`: both `t…y`) show different fingerprints;
    the fingerprint is keyed (`key_fingerprint`), so it says nothing of the key without the store's secret.
    """
    return None if fingerprint is None else fingerprint[:SHOWN_FINGERPRINT_CHARS]


def request_input(params: Any, depth: int = 0) -> str:
    """What a request was about, on one short line: `email=tim@apollo.io`, `name=Tim Zheng domain=apollo.io`.

    The identifying parameters it used, most telling first (`INPUT_FIELDS`), then the others in the
    order sent, options and secrets left out; a raw body never parsed shows as `body …`. Bounded
    (`INPUT_CHARS`, two levels of nesting) however large or deep the request was.
    """
    if isinstance(params, str):
        return _clip("body " + params, INPUT_CHARS)
    if not isinstance(params, dict):
        return ""
    parts: list[str] = []
    used = 0
    for name in _input_names(params):
        part = f"{name}={_input_value(params[name], depth)}"
        parts.append(part)
        used += len(part) + 1
        if used > INPUT_CHARS:
            break
    return _clip(" ".join(parts), INPUT_CHARS)


def _input_names(params: dict[Any, Any]) -> Iterator[str]:
    for name in INPUT_FIELDS:
        if _given(params.get(name)):
            yield name
    for name in params:
        if (
            isinstance(name, str)
            and name not in INPUT_FIELDS
            and name.lower().replace("-", "_") not in NOT_INPUT
            and _given(params[name])
        ):
            yield name


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _input_value(value: Any, depth: int) -> str:
    """One parameter's value, short: a list by its first items, an object by its own input."""
    if isinstance(value, list | dict) and depth >= INPUT_DEPTH:
        return "[…]" if isinstance(value, list) else "{…}"
    if isinstance(value, list):
        items = ", ".join(_input_value(item, depth + 1) for item in value[:INPUT_LIST_ITEMS])
        more = ", …" if len(value) > INPUT_LIST_ITEMS else ""
        return f"[{items}{more}]"
    if isinstance(value, dict):
        return "{" + request_input(value, depth + 1) + "}"
    return _clip(str(value), INPUT_VALUE_CHARS)


def _clip(text: str, limit: int) -> str:
    text = _SPACES.sub(" ", text[: limit * 4]).strip()
    return text if len(text) <= limit else text[: limit - 1] + MASK


def filter_entries(
    found: list[Entry],
    *,
    path: str | None,
    status: int | None,
    fingerprint: str | None,
    since: datetime | None,
    limit: int | None,
) -> list[Entry]:
    """The control API's journal filters (by key: its `key_fingerprint`); `limit` keeps the newest entries."""
    if path is not None:
        found = [e for e in found if e.path == path or e.path.endswith("/" + path.strip("/"))]
    if status is not None:
        found = [e for e in found if e.status == status]
    if fingerprint is not None:
        found = [e for e in found if e.key_fingerprint == fingerprint]
    if since is not None:
        found = [e for e in found if e.time >= since]
    if limit is not None:
        found = found[-limit:] if limit > 0 else []
    return found


@dataclass
class Entry:
    """One journaled request and its answer; the response body is parsed only when shown.

    Keys, tokens and `api_key` values are masked before an entry is built (web/journaling.py),
    so no store, in memory or on disk, ever holds them whole.
    """

    sequence: int
    time: datetime
    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    status: int
    # The answer's body: text, or its bytes as sent (decoded only when shown: `text`).
    response_text: str | bytes
    response_type: str
    duration_ms: float
    api_key: str | None = None
    # The whole key's keyed fingerprint (`key_fingerprint`), for exact filtering; only its start
    # is ever shown (`shown_fingerprint`).
    key_fingerprint: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    credits_charged: float = 0
    rate_limit: dict[str, Any] | None = None
    scenario: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Roughly the bytes the entry holds: bodies, headers and query (see `entry_size`).
    size: int = 0

    def text(self) -> str:
        """The answer's body as text (bytes that are not UTF-8 shown with replacement characters)."""
        body = self.response_text
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body

    def describe(
        self, iso: Callable[[datetime], str], known_keys: Container[str | None] | None = None
    ) -> dict[str, Any]:
        """The entry as the control API shows it (keys masked, beside the start of their fingerprint).

        `known_keys` holds the fingerprints of the registered keys: an entry's key is then said to
        be known or not (`key_known`, None without a key or without `known_keys`).
        """
        text = self.text()
        body: Any = text
        if self.response_type.startswith("application/json"):
            try:
                body = json.loads(text, parse_constant=_not_json)
            except (ValueError, RecursionError):  # not JSON, or too deep to parse: shown as sent
                body = text
        return {
            "id": self.sequence,
            "time": iso(self.time),
            "method": self.method,
            "path": self.path,
            "query": mask_params(self.query),
            # The ASGI application keeps uvicorn's lower-case names; Flask's are already title-cased.
            "headers": mask_headers({name.title(): value for name, value in self.headers.items()}),
            "body": mask_params(self.body) if isinstance(self.body, dict) else self.body,
            "api_key": mask_key(self.api_key),
            "key_fingerprint": shown_fingerprint(self.key_fingerprint),
            "key_known": (
                None
                if self.key_fingerprint is None or known_keys is None
                else self.key_fingerprint in known_keys
            ),
            "input": request_input(self.body if self.body is not None else self.query),
            "response": {
                "status": self.status,
                "content_type": self.response_type,
                "headers": self.response_headers,
                "body": body,
            },
            "duration_ms": round(self.duration_ms, 3),
            "credits_charged": self.credits_charged,
            "rate_limit": self.rate_limit,
            "scenario": self.scenario,
        }


def shown_entry(
    entry: Entry, iso: Callable[[datetime], str], known_keys: Container[str | None] | None = None
) -> bytes:
    """An entry as the control API's journal writes it: always valid JSON, whatever was sent.

    A request body JSON cannot carry (NaN beside a 65-bit integer, kept by an older version's state
    file) is shown as a note instead, so that one entry never cuts the journal short.
    """
    described = entry.describe(iso, known_keys)
    try:
        return dumps(described)
    except NotEncodable as exc:
        note = f"(not shown: {exc})"
        response = {**described["response"], "body": entry.text()}
        return dumps({**described, "body": note, "input": note, "response": response})


def _not_json(name: str) -> Any:
    """The standard parser's hook for NaN and the infinities: an answer holding them is shown as text."""
    raise ValueError(f"{name} is not JSON")


def entry_to_json(entry: Entry) -> str:
    """An entry as the JSON a shared store keeps (its time as a POSIX timestamp)."""
    # A shallow copy: the encoders read the nested dicts without changing them (asdict deep-copies).
    document = dict(vars(entry))
    document["time"] = entry.time.timestamp()
    document["response_text"] = entry.text()
    try:
        return orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):  # integers past 64 bits, lone surrogates
        return json.dumps(document, default=str)


def entry_from_json(text: str | bytes) -> Entry:
    """The entry `entry_to_json` wrote."""
    document = json.loads(text)
    document["time"] = datetime.fromtimestamp(document["time"], UTC)
    return Entry(**document)


def entry_size(request_bytes: int, response: bytes, *maps: Mapping[str, Any]) -> int:
    """What an entry costs against the journal's byte budget: bodies, header and query text."""
    size = ENTRY_OVERHEAD + request_bytes + len(response)
    for mapping in maps:
        size += text_size(mapping)
    return size


def text_size(mapping: Mapping[str, Any]) -> int:
    """The characters of a mapping's names and values (a list value counts its items), for `entry_size`."""
    return sum(map(len, mapping)) + sum(map(len, mapping.values()))


class Deferred:
    """An entry kept as what was at hand when the call was answered, built when it is first read.

    Masking, the key's fingerprint and the entry's documents are work a later read can do instead
    (bench/README.md, the hot path); `size` is worked out at once, for the journal's byte budget.
    Only calls whose one secret is a registered key (which the key registry holds anyway) are kept
    this way (web/journaling.py): no other secret ever rests unmasked.
    """

    __slots__ = ("_args", "_build", "_entry", "sequence", "size")

    def __init__(self, size: int, build: Callable[..., Entry], args: tuple[Any, ...] = ()) -> None:
        self.sequence = 0
        self.size = size
        self._build: Callable[..., Entry] | None = build
        self._args = args
        self._entry: Entry | None = None

    def entry(self) -> Entry:
        """The entry, `build(*args)` on the first call (its number and size those it was kept with)."""
        entry = self._entry
        if entry is None:
            args = self._args  # read before `_build`, which another thread lets go of first
            build = self._build
            if build is None:  # another thread built it between the two reads
                return self._entry  # type: ignore[return-value]
            entry = build(*args)
            entry.sequence, entry.size = self.sequence, self.size
            self._entry = entry
            self._build = None  # what it was built from is let go
            self._args = ()
        return entry


def built(entry: Entry | Deferred) -> Entry:
    """`entry` itself, or the entry a `Deferred` one stands for (built on the first call)."""
    return entry.entry() if isinstance(entry, Deferred) else entry


@dataclass(frozen=True)
class JournalUsage:
    """How full a journal is: entries and bytes held, and the most it may hold of each."""

    entries: int
    bytes: int
    max_entries: int
    max_bytes: int

    def describe(self) -> dict[str, int]:
        """As the control API shows it."""
        return {
            "entries": self.entries,
            "bytes": self.bytes,
            "max_entries": self.max_entries,
            "max_bytes": self.max_bytes,
        }


class Journal:
    """A ring buffer of the newest entries, at most `size` of them and `max_bytes` together.

    The oldest entries go first when either bound is passed (the newest always stays, however
    large), so memory stays flat however long the server runs and whatever it is sent.
    """

    def __init__(self, size: int = DEFAULT_SIZE, max_bytes: int = DEFAULT_BYTES) -> None:
        if size < 1:
            raise ValueError("the journal needs room for at least one entry")
        # One process, so the fingerprint secret is this journal's own.
        self._fingerprint = Fingerprints(new_fingerprint_secret())
        self._lock = threading.Lock()
        self._entries: deque[Entry | Deferred] = deque()
        self._size = size
        self.max_bytes = max_bytes
        self._bytes = 0
        self._sequence = 0

    @property
    def size(self) -> int:
        """How many entries the ring holds at most."""
        return self._size

    def fingerprint(self, key: str | None) -> str | None:
        """The keyed fingerprint of `key` that entries keep and filters compare."""
        return self._fingerprint(key)

    def next_sequence(self) -> int:
        """A fresh entry number."""
        with self._lock:
            self._sequence += 1
            return self._sequence

    def record(self, entry: Entry | Deferred) -> None:
        """Append an entry (numbered here when its sequence is 0), dropping the oldest past the bounds.

        A `Deferred` entry is built when it is first read (`entries`).
        """
        with self._lock:
            if not entry.sequence:
                self._sequence += 1
                entry.sequence = self._sequence
            entries = self._entries
            if len(entries) >= self._size:  # full: the oldest goes, the newest always stays
                self._bytes -= entries.popleft().size
            entries.append(entry)
            self._bytes += entry.size
            while self._bytes > self.max_bytes and len(entries) > 1:
                self._bytes -= entries.popleft().size

    def entries(
        self,
        *,
        path: str | None = None,
        status: int | None = None,
        api_key: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries, oldest first, filtered; `limit` keeps the newest ones."""
        with self._lock:
            kept = list(self._entries)
        found = [built(e) for e in kept]
        return filter_entries(
            found, path=path, status=status, fingerprint=self.fingerprint(api_key), since=since, limit=limit
        )

    def usage(self) -> JournalUsage:
        """Entries and bytes held now, and the bounds."""
        with self._lock:
            return JournalUsage(len(self._entries), self._bytes, self._size, self.max_bytes)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._sequence = 0
