"""Deterministic helpers generation shares: digests, seeded generators, Apollo-style ids, money and dates."""

from __future__ import annotations

import hashlib
import random
from typing import Final

#: Share of generated persons and organizations from which each optional key is left out, as in
#: Apollo's thinner and older answers (tests/data/apollo_examples); partial persons always leave some out.
ABSENT_SHARE: Final = 0.04
#: Mongo-style ids start with a creation timestamp; generated ones fall in 2015-2024.
_ID_EPOCH_START: Final = 1_420_070_400

_ID_EPOCH_SPAN: Final = 315_360_000


def digest_of(*parts: object) -> bytes:
    """SHA-256 of the parts joined by colons: the root of every seeded value."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()


def seeded(*parts: object) -> random.Random:
    """A random generator fixed by `parts`."""
    return random.Random(int.from_bytes(digest_of(*parts)[:8], "big"))


def object_id(digest: bytes) -> str:
    """A Mongo-style 24-hex id: a 2015-2024 timestamp then 8 bytes of the digest."""
    stamp = _ID_EPOCH_START + int.from_bytes(digest[8:12], "big") % _ID_EPOCH_SPAN
    return f"{stamp:08x}{digest[12:20].hex()}"


def next_ids(base: str, count: int) -> list[str]:
    """`count` consecutive ids after `base`, like the ids of one Apollo write."""
    value = int(base, 16)
    return [f"{(value + i + 1) % (1 << 96):024x}" for i in range(count)]


def fresh_id(digest: bytes, taken: set[str]) -> str:
    """An object id from `digest`, rehashed until it is none of `taken`."""
    candidate = object_id(digest)
    while candidate in taken:
        digest = hashlib.sha256(digest).digest()
        candidate = object_id(digest)
    return candidate


def share(*parts: object) -> float:
    """A number in [0, 1) fixed by `parts`."""
    return int.from_bytes(digest_of(*parts)[:8], "big") / 2**64


def email_hashes(email: str) -> tuple[str, str]:
    """The MD5 and SHA-256 hex digests of an email, as Apollo's hashed_email accepts them."""
    data = email.strip().lower().encode("utf-8")
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()  # noqa: S324


def money_printed(amount: float) -> str:
    """Apollo's short money form: 850K, 12.5M, 1.2B."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= limit:
            text = f"{amount / limit:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return str(int(amount))


def parse_money(text: str) -> float:
    """The amount an Apollo short money form (850K, 12.5M) stands for."""
    multiplier = {"K": 1e3, "M": 1e6, "B": 1e9}.get(text[-1:], 1.0)
    number = text[:-1] if multiplier != 1.0 else text
    return float(number) * multiplier


def month_date(year: int, month: int) -> str:
    """The first day of a month, as Apollo dates employment (YYYY-MM-01)."""
    return f"{year:04d}-{month:02d}-01"


def months_before(year: int, month: int, months: int) -> tuple[int, int]:
    """The (year, month) `months` before the given one."""
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1
