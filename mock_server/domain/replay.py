"""Replaying a scrubbed recording for its original inputs: keyed tags of identities, never the inputs.

`fakeapollo record --scrub` writes each person with fake names and addresses, and adds under
REPLAY_FIELD the keyed tags (HMAC-SHA256 under the recording's secret key, DIR/scrub.key) of every
identity that found the person upstream: the request's (matching.resolve) and the person's own
real id, e-mail, e-mail hashes and LinkedIn URL. A server given the same key computes the tag of
each request's identity and answers with the tagged person. Without the key the tags match nothing
and reveal nothing; with it, anyone can test a guess ("was ada@example.com recorded?").
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from mock_server.domain.files import read_bytes

KEY_FILE = "scrub.key"
# The key of a person fixture that holds its replay tags; never served.
REPLAY_FIELD = "fakeapollo_replay"
KEY_BYTES = 32


def replay_tag(key: bytes, kind: str, value: str) -> str:
    """The keyed tag of one identity: 32 hex digits."""
    return hmac.new(key, f"identity\0{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]


def key_id(key: bytes) -> str:
    """A short public name of a key, so a fixture says which key its tags need."""
    return hashlib.sha256(b"fakeapollo replay key\0" + key).hexdigest()[:12]


def read_key(path: Path) -> bytes:
    """A scrub key file's key (64 hex digits); ValueError naming the file when it holds none."""
    content = read_bytes(path)
    try:
        key = bytes.fromhex(content.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: not a scrub key (64 hexadecimal digits, as `record --scrub` writes)")
    return key
