"""Files the tool writes: the one atomic writer (reports, cache entries, installed
weights), the check that a report path is writable, and file hashing."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from drift_audit.errors import OutputError

_TRIES = 100
"""Temporary names tried before giving up (a clash needs 48 random bits to repeat)."""


def check_writable(path: Path, option: str = "--json") -> None:
    """Fail before any work when a report's folder cannot take a new file.

    Raises:
        OutputError: the path is a folder, or its folder is missing or read-only.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file path")
    if not folder.is_dir():
        raise OutputError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: folder {folder} is not writable")


def _create_temp(path: Path) -> tuple[int, str]:
    """A new, empty hidden file beside `path`, opened for writing.

    Created with mode 0666 and left to the kernel to mask, so it gets the mode any
    other new file would (0644 under umask 022, or what a default ACL says).
    tempfile.mkstemp would give 0600, and reading the umask to chmod afterwards means
    setting it for a moment, which races with other threads creating files.
    """
    folder = path.parent if str(path.parent) else Path(".")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_TRIES):
        tmp = str(folder / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name after {_TRIES} tries")


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file handle whose bytes replace `path` in one rename when the block ends
    without an error; on any error `path` keeps its previous content and no
    temporary file is left."""
    try:
        fd, tmp = _create_temp(path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            # Without it a crash soon after the rename can leave an empty file.
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` so that readers see the previous content or the new,
    never half of it: a temporary file in the same folder, fsync, then a rename.

    The file gets the mode of any new file (0666 & ~umask), not mkstemp's 0600, so
    other users can read reports, shared cache entries and installed weights.

    Args:
        path: the file to create or replace; its folder must exist.
        data: text (written as UTF-8) or bytes.

    Raises:
        OutputError: the file cannot be written (full disk, permissions...).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with _replacing(path) as fh:
        fh.write(payload)


def copy_atomic(source: Path, path: Path) -> None:
    """Copy `source` to `path` as write_atomic writes, streaming rather than holding a
    large file (model weights) in memory.

    Raises:
        OSError: `source` cannot be read (opened before anything is written).
        OutputError: `path` cannot be written.
    """
    with source.open("rb") as src, _replacing(path) as fh:
        shutil.copyfileobj(src, fh, 1 << 20)


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks: it names a clip in the cache
    key and identifies the weights an embedder ran with."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
