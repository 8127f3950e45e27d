"""Files the tool writes: the one atomic writer (reports, cache entries, weights),
the check that a report path is writable, and file hashing."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from drift_audit.errors import OutputError


def check_writable(path: Path, option: str = "--json") -> None:
    """Fail before any work when a report's folder cannot take a new file."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file path")
    if not folder.is_dir():
        raise OutputError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: folder {folder} is not writable")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temporary file in the same folder and a rename: readers see the
    previous report or the new one, never half of one. The file gets the usual
    0666 & ~umask mode (mkstemp's 0600 would hide it from other users).

    Raises:
        OutputError: the file cannot be written (full disk, permissions...).
    """
    folder = path.parent if str(path.parent) else Path(".")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
