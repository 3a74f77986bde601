"""What text a key registry entry or the admin token may hold: valid Unicode, no control characters."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a C0 control character or DEL (a line break, a tab, NUL ...)."""
    return _CONTROL.search(text) is not None


def text_problem(text: str) -> str | None:
    """What makes `text` unfit to store and show as a name (a team's), or None when nothing does.

    A lone surrogate (a `--keys` file read by the standard parser can hold one), or a C0 control
    character or DEL (what would break a header line, a log line or a terminal showing it).
    """
    if _SURROGATE.search(text):
        return "must be valid Unicode (no lone surrogates)"
    if has_control_characters(text):
        return "must hold no control characters (CR, LF, NUL, tab and the like)"
    return None
