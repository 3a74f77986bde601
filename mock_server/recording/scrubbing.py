"""Replacing personal data in recorded Apollo traffic with deterministic, self-consistent fakes.

One secret key per recording drives every replacement, so the same real value always becomes the
same fake one in every file of that recording. Names, e-mail local parts and the words of profile
URLs are replaced word by word through one mapping: `Jane Doe`, `jane.doe@acme.com` and
`linkedin.com/in/jane-doe-b81e07` become `Dorani Velko`, `dorani.velko@acme.com` and
`linkedin.com/in/dorani-velko-4c1a9e`. Hashed e-mails (`hashed_email`, `email_md5`, ...) are the
hashes of the fake address. Person and contact ids become other ids of the same form, never one of
the bundled fixtures'. Organizations, e-mail domains, country calling codes and the JSON structure
are left alone.

A request's parameters are scrubbed more strictly (`Scrubber.request`): a value is kept only when
its parameter names no person (flags, company identifiers, the webhook URL); an address anywhere in
a value is replaced as above, and any other value by a keyed tag.

`Scrubber.tag` is how a scrubbed recording still answers its original inputs: the keyed hash of an
identity (matching.py's normalised form), written into the person fixture (persons.REPLAY_KEY) and
computed again by `serve` when it has the same key (mock_server/domain/replay.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mock_server.domain.generation import email_hashes
from mock_server.domain.replay import KEY_FILE, key_id, read_key, replay_tag
from mock_server.recording.files import write_private

HASHES_FILE = "scrub-hashes.json"
# Subtrees that describe companies, not people: kept as they are.
COMPANY_KEYS = frozenset({"organization", "account", "employment_history"})
NAME_KEYS = frozenset({"first_name", "last_name", "name"})
URL_KEYS = frozenset({"linkedin_url", "twitter_url", "github_url", "facebook_url", "photo_url"})
PHONE_KEYS = frozenset({"raw_number", "sanitized_number", "sanitized_phone"})
ADDRESS_KEYS = frozenset({"street_address"})
# Lists of bare strings that hold phone numbers (waterfall vendors' `phone_numbers`).
PHONE_LIST_KEYS = frozenset({"phone_numbers"})
# Keys whose hex values are hashes of an e-mail address.
HASH_KEYS = frozenset({"hashed_email", "email_md5", "email_sha256", "md5", "sha256"})
# Keys whose 24-hex values identify a person (organization and account ids are kept).
PERSON_ID_KEYS = frozenset({"id", "person_id", "contact_id"})
# Request parameters that name no person: kept as they are in a scrubbed recording's requests.
PUBLIC_PARAMETERS = frozenset(
    {
        "reveal_personal_emails",
        "reveal_phone_number",
        "run_waterfall_email",
        "run_waterfall_phone",
        "webhook_url",
        "domain",
        "domains",
        "domains[]",
        "website",
        "organization_name",
        "api_key",
    }
)
EMAIL = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,200}\.[^@\s]{1,50}$")
# An address inside a longer value: `Ada <ada@example.com>`, ` ada@example.com `.
_EMBEDDED_EMAIL = re.compile(r"[^@\s<>\"',;:()\[\]]{1,200}@[^@\s<>\"',;:()\[\]]{1,200}\.[A-Za-z0-9-]{1,50}")
_PERSON_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_TOKENS = re.compile(r"([A-Za-z0-9]+|[^A-Za-z0-9]+)")
_ONSETS = (
    "b",
    "d",
    "f",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "dr",
    "st",
    "tr",
    "ch",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io")
_CODAS = ("", "", "", "n", "r", "l", "s", "x")


def load_key(folder: Path) -> bytes:
    """The recording's scrub key: read from DIR/scrub.key, created there (owner-only) on first use."""
    path = folder / KEY_FILE
    if path.exists():
        return read_key(path)
    key = secrets.token_bytes(32)
    write_private(path, key.hex() + "\n")
    return key


class Scrubber:
    """Deterministic fakes for one recording; `counts` says how many values of each kind it replaced."""

    def __init__(
        self, key: bytes, hashes: Mapping[str, str] | None = None, *, reserved_ids: Iterable[str] = ()
    ) -> None:
        self._key = key
        self.counts: Counter[str] = Counter()
        # Ids a fake id must never be (the bundled fixtures'), lower case.
        self._reserved = {i.lower() for i in reserved_ids}
        # For every real address seen so far (this run or, through `hashes`, an earlier one): a
        # keyed tag of each of its hashes -> the same hash of its fake. Requests by hash use it.
        self._hashes: dict[str, str] = dict(hashes or {})

    def hashes(self) -> dict[str, str]:
        """The hash map to carry into a later run of the same recording (no real value in it)."""
        return dict(self._hashes)

    def _tag(self, real_hash: str) -> str:
        return self._digest("hash", real_hash.lower()).hex()[:32]

    @property
    def key_id(self) -> str:
        """The public name of this recording's key (replay.key_id), written beside replay tags."""
        return key_id(self._key)

    def tag(self, kind: str, value: str) -> str:
        """The keyed tag of an identity (matching.py's kind and normalised value), for replay."""
        return replay_tag(self._key, kind, value)

    # -- single values -----------------------------------------------------------------------

    def _digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256).digest()

    def word(self, real: str) -> str:
        """A pronounceable lowercase fake for one word (same word, same fake)."""
        digest = self._digest("word", real.lower())
        syllables = 2 + digest[0] % 2
        parts = []
        for index in range(syllables):
            a, b, c = digest[1 + 3 * index : 4 + 3 * index]
            parts.append(_ONSETS[a % len(_ONSETS)] + _VOWELS[b % len(_VOWELS)] + _CODAS[c % len(_CODAS)])
        return "".join(parts)

    def _digits(self, real: str) -> str:
        digest = self._digest("digits", real)
        return "".join(str(byte % 10) for byte in (digest * 2)[: len(real)])

    def _hex(self, real: str) -> str:
        digest = self._digest("hex", real.lower()).hex() * 4
        fake = digest[: len(real)]
        return fake.upper() if real.isupper() else fake

    def _tokens(self, text: str, *, capitalize: bool) -> str:
        """Each run of letters through `word`, each run of digits through `_digits`."""
        out = []
        for token in _TOKENS.findall(text):
            if token.isalpha():
                fake = self.word(token)
                out.append(fake.capitalize() if capitalize else fake)
            elif token.isdigit():
                out.append(self._digits(token))
            elif token.isalnum():
                out.append(self._hex(token) if _HEX.match(token) else self._digits(token))
            else:
                out.append(token)
        return "".join(out)

    def name(self, real: str) -> str:
        """A person's name (first, last or full), word by word."""
        self.counts["names"] += 1
        return self._tokens(real, capitalize=True)

    def email(self, real: str) -> str:
        """An address with a fake local part and its real domain; remembers its hashes."""
        self.counts["emails"] += 1
        return self._fake_email(real)

    def _fake_email(self, real: str) -> str:
        local, _, domain = real.rpartition("@")
        fake = f"{self._tokens(local, capitalize=False)}@{domain}"
        for real_hash, fake_hash in zip(email_hashes(real), email_hashes(fake), strict=True):
            self._hashes[self._tag(real_hash)] = fake_hash
        return fake

    def hashed_email(self, real: str) -> str:
        """The hash of the fake address when the real one was seen, else a fake of the same form."""
        self.counts["hashed_emails"] += 1
        known = self._hashes.get(self._tag(real))
        return known if known is not None else self._hex(real)

    def person_id(self, real: str) -> str:
        """Another 24-hex id for a person or contact, never one of the reserved (bundled) ids."""
        self.counts["ids"] += 1
        fake = self._hex(real)
        while fake.lower() in self._reserved or fake.lower() == real.lower():
            fake = self._hex(fake + "'")[: len(real)]
        return fake

    def phone(self, real: str) -> str:
        """A number with its country calling code and layout kept and the other digits replaced."""
        self.counts["phone_numbers"] += 1
        digits = re.sub(r"\D", "", real)
        keep = 1 if digits[:1] in ("1", "7") else 2
        fake = digits[:keep] + self._digits(digits)[keep:]
        replaced = iter(fake)
        return re.sub(r"\d", lambda _: next(replaced), real)

    def url(self, real: str) -> str:
        """A profile or photo URL on the same host, its path words replaced as names are."""
        self.counts["urls"] += 1
        try:
            parts = urlsplit(real)
        except ValueError:
            return self._hex(real)
        segments = parts.path.split("/")
        # The first of several segments names the kind of page (`/in/<profile>`): kept.
        first = 2 if len([s for s in segments if s]) > 1 else 1
        segments[first:] = [self._tokens(segment, capitalize=False) for segment in segments[first:]]
        return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), "", ""))

    def address(self, real: str) -> str:
        """A street address, word by word (numbers included)."""
        self.counts["addresses"] += 1
        return self._tokens(real, capitalize=True)

    # -- documents ---------------------------------------------------------------------------

    def document(self, value: Any) -> Any:
        """A copy of a JSON document (answer, request or webhook payload) with personal data replaced.

        Addresses are replaced before anything else, so a hashed e-mail in the same document maps to
        the hash of the fake address.
        """
        self._collect_emails(value)
        return self._walk(value, vendors=False)

    def _collect_emails(self, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key not in COMPANY_KEYS:
                    self._collect_emails(item)
        elif isinstance(value, list):
            for item in value:
                self._collect_emails(item)
        elif isinstance(value, str) and EMAIL.match(value):
            self._fake_email(value)

    def _walk(self, value: Any, *, vendors: bool, key: str | None = None) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for child_key, item in value.items():
                if child_key in COMPANY_KEYS:
                    out[child_key] = item
                else:
                    out[child_key] = self._walk(
                        item, vendors=vendors or child_key == "vendors", key=child_key
                    )
            return out
        if isinstance(value, list):
            if key in PHONE_LIST_KEYS:
                return [
                    self.phone(v) if isinstance(v, str) and v.strip() else self._walk(v, vendors=vendors)
                    for v in value
                ]
            return [self._walk(item, vendors=vendors, key=None) for item in value]
        if not isinstance(value, str) or not value:
            return value
        return self._string(value, key, vendors=vendors)

    def _string(self, value: str, key: str | None, *, vendors: bool) -> str:
        if EMAIL.match(value.strip()):
            return self.email(value.strip())
        if key in NAME_KEYS and not vendors:
            return self.name(value)
        if key in URL_KEYS:
            return self.url(value)
        if key in PHONE_KEYS:
            return self.phone(value)
        if key in HASH_KEYS and _HEX.match(value):
            return self.hashed_email(value)
        if key in PERSON_ID_KEYS and _PERSON_ID.match(value):
            return self.person_id(value)
        if key in ADDRESS_KEYS:
            return self.address(value)
        return value

    def request(self, value: Any, key: str | None = None) -> Any:
        """A copy of a request's parameters as a scrubbed recording keeps them (default: replaced).

        Addresses anywhere in a value become their fakes; names, profile URLs, hashes and person ids
        the same fakes as in answers; a value of any other parameter that names no company or
        option becomes a keyed tag, so equal values stay equal.
        """
        if isinstance(value, Mapping):
            return {k: v if k in PUBLIC_PARAMETERS else self.request(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.request(item, key) for item in value]
        if not isinstance(value, str) or not value.strip():
            return value
        text = value.strip()
        if EMAIL.match(text):
            return self.email(text)
        if not _EMBEDDED_EMAIL.search(text):
            scrubbed = self._string(text, key, vendors=False)
            if scrubbed != text:
                return scrubbed
        return self._withheld(value)

    def _withheld(self, value: str) -> str:
        """A keyed tag for a request value scrubbing has no fake for."""
        self.counts["request_values"] += 1
        return f"[scrubbed {self._digest('request', value).hex()[:12]}]"

    def report(self) -> dict[str, int]:
        """How many values of each kind were replaced so far."""
        return dict(sorted(self.counts.items()))
