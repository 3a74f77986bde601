"""Files of a recording, readable by their owner only: they hold what the upstream said about people."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> None:
    """Create `path` (and parents) if needed, and make it the owner's alone."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(FOLDER_MODE)


def write_private(path: Path, text: str) -> None:
    """Replace a file's contents atomically with `text`, the file readable by its owner only."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, FILE_MODE)  # an earlier run's temporary file may have had another mode
    os.replace(temporary, path)


def append_private(path: Path, line: str) -> None:
    """Append `line` to a file readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line)


def make_private(folder: Path) -> None:
    """Make an existing recording (written before files were private) the owner's alone."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(FOLDER_MODE if path.is_dir() else FILE_MODE)
