"""Drawn contract cases kept on disk, so processes that draw the same cases draw them once.

Drawing a case from its Hypothesis strategy is the costly part of a contract run (tens of ms for
a case with persons), and every `check-client` run, every pytest worker and every seed draws the
same cases again. With `FAKEAPOLLO_CASE_CACHE` set to a directory, each case drawn is stored there
and later processes load it instead of drawing it. Unset (the default), nothing is read or written.

A stored case is only used by a build that would draw the same one: the files sit under a digest
of Hypothesis's version, Python's and the source and data every strategy reads (`contract_tests`,
`mock_server`, the schemas and fixtures). Cases are pickles, so the cache is read only from a
directory owned by this user and writable by nobody else (the trust Python gives `__pycache__`).
A process about to draw a case takes that case's lock first, so processes that ask for the same case
at the same moment (parallel test workers, seeds run side by side) draw it once and the others load it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: cases are kept, but drawn without a lock
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from contract_tests.cases import Case, Property

#: The environment variable naming the cache directory.
CACHE_VARIABLE = "FAKEAPOLLO_CASE_CACHE"


@functools.cache
def build_digest() -> str:
    """A digest of everything a drawn case depends on: Hypothesis, Python, our sources and data."""
    import hypothesis

    import contract_tests
    import mock_server
    from mock_server.domain import data

    digest = hashlib.sha256(f"{hypothesis.__version__}|{sys.version_info[:2]}".encode())
    roots = [
        (Path(contract_tests.__file__).parent, "*.py"),
        (Path(mock_server.__file__).parent, "*.py"),
        (data.schemas_dir(), "*.json"),
        (data.fixtures_dir(), "*.json"),
    ]
    for root, pattern in roots:
        for path in sorted(root.rglob(pattern)):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _directory() -> Path | None:
    """The cache folder of this build, made owner-only, or None when the cache is off or not trusted."""
    root = os.environ.get(CACHE_VARIABLE, "")
    if not root:
        return None
    folder = Path(root) / build_digest()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path in (Path(root), folder):
            info = path.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                return None
            if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
    except OSError:
        return None
    return folder


def _file(prop: Property, key: str) -> Path | None:
    """Where the case of `prop` drawn from `key` is kept, or None when it is not kept at all.

    Only the contract's own properties are kept: a property made elsewhere (a test's, a user's)
    may share a name with one of them while drawing other cases.
    """
    if not prop.cases.__module__.startswith("contract_tests."):
        return None
    folder = _directory()
    if folder is None:
        return None
    name = hashlib.sha256(f"{prop.name}\0{key}".encode()).hexdigest()[:40]
    return folder / f"{name}.pickle"


def load(prop: Property, key: str) -> Case | None:
    """The case kept for `prop` and `key`, or None when there is none (or it cannot be read)."""
    path = _file(prop, key)
    if path is None:
        return None
    try:
        with path.open("rb") as stream:
            loaded: Any = pickle.load(stream)  # noqa: S301 - an owner-only folder, see the docstring
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return None
    from contract_tests.cases import Case

    return loaded if isinstance(loaded, Case) else None


@contextlib.contextmanager
def drawing(prop: Property, key: str) -> Iterator[None]:
    """Hold the lock of `prop`'s case `key` (waiting for another process drawing it) while it is drawn.

    A lock that cannot be taken only means the case may be drawn twice.
    """
    path = _file(prop, key)
    if path is None or fcntl is None:
        yield
        return
    try:
        descriptor = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def store(prop: Property, key: str, case: Case) -> None:
    """Keep `case` for `prop` and `key` (written whole or not at all; a failure only skips it)."""
    path = _file(prop, key)
    if path is None:
        return
    try:
        stream = tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".part", delete=False)
    except OSError:
        return
    try:
        with stream:
            pickle.dump(case, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(stream.name, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        with contextlib.suppress(OSError):
            os.unlink(stream.name)


__all__ = ["CACHE_VARIABLE", "build_digest", "drawing", "load", "store"]
