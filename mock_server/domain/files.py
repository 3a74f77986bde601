"""Reading a file a setting names: a regular file only, any problem one line naming the file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any


class FileRefused(ValueError):
    """A file a setting names that cannot be read as it must be; the message names the file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.problem = problem


def is_regular_file(path: Path) -> bool:
    """Whether `path` (its link followed) is a regular file: not a FIFO, device, socket or folder."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_bytes(path: Path) -> bytes:
    """The content of the regular file `path`; FileRefused for any other kind (a FIFO would block).

    Opened without blocking, then checked on the open descriptor, so nothing swapped in between is read.
    OSError when it cannot be opened.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise FileRefused(path, "not a regular file")
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(descriptor)


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The text of the regular file `path`; FileRefused naming it when it is not `encoding` text."""
    content = read_bytes(path)
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileRefused(path, f"not {encoding.upper()} text (byte {exc.start}: {exc.reason})") from None


def read_json(path: Path) -> Any:
    """The JSON document of the regular file `path`; FileRefused naming it for anything JSON cannot read."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRefused(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise FileRefused(path, "not valid JSON: nested too deeply to read") from None
    except ValueError:  # Python converts integers of at most 4,300 digits (CVE-2020-10735)
        raise FileRefused(path, "not valid JSON: it holds an integer longer than 4,300 digits") from None

