"""Files the tool writes: the one atomic writer (reports, cache entries, installed
weights), the check of a report's path, the sweep of temporary files that killed runs
left behind, and file hashing."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from drift_audit.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no sweep either
    fcntl = None  # type: ignore[assignment]

_TRIES = 100
"""Temporary names tried before giving up (a clash needs 48 random bits to repeat)."""

_TEMP_SUFFIX = ".tmp"
_SWEEP_AGE_S = 2.0
"""A temporary file younger than this is never swept: its writer may not hold its
lock yet (it takes it right after creating the file)."""

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def _why(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def report_target(path: Path, option: str = "--json") -> Path:
    """The regular file a report given as `path` is written to, checked before any work.

    A symlink is followed to its target, which the report then replaces (the link
    stays a link). Anything that exists and is not a regular file (a folder, FIFO,
    device node, socket) is refused: the atomic rename would replace the node itself.

    Raises:
        OutputError: the path is not a regular file, or its folder is missing or
            read-only. The message names the option, the path, and the problem.
    """
    try:
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise OutputError(f"{option} {path}: not a usable path ({_why(exc)})") from None
    shown = f"{path} (a symlink to {target})" if target != path else f"{path}"
    try:
        mode = path.stat().st_mode  # through the link: /dev/stdout is a pipe or a tty
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{option} {shown}: cannot check ({exc.strerror or exc})") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        hint = "; use --json - for stdout" if option == "--json" and kind != "a directory" else ""
        raise OutputError(
            f"{option} {shown}: is {kind}, not a regular file; give a file path{hint}"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{option} {shown}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {shown}: folder {folder} is not writable")
    return target


def sweep_temp_files(folder: Path, name: str = "*") -> int:
    """Remove the temporary files that killed writers left in `folder` (for files
    named `name`, a glob); returns how many.

    Every writer holds an exclusive lock on its temporary file until the rename, and
    the kernel drops the lock when the writer dies, even by SIGKILL. So a temporary
    file whose lock can be taken belongs to no live writer, and is removed; one being
    written by another run is left alone.
    """
    if fcntl is None:
        return 0
    removed = 0
    now = time.time()
    for tmp in folder.glob(f".{name}.*{_TEMP_SUFFIX}"):
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue  # gone already, or not ours to read
        try:
            if now - os.fstat(fd).st_mtime < _SWEEP_AGE_S:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            tmp.unlink()
            removed += 1
        except OSError:
            continue  # locked: a live writer's; or removed by another sweep
        finally:
            os.close(fd)
    return removed


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
        tmp = str(folder / f".{path.name}.{secrets.token_hex(6)}{_TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if fcntl is not None:  # held until the file is closed: see sweep_temp_files
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, tmp
    raise FileExistsError(f"{folder}: no free temporary name after {_TRIES} tries")


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file handle whose bytes replace `path` in one rename when the block ends
    without an error; on any error `path` keeps its previous content and no
    temporary file is left. Temporary files of `path` that killed writers left are
    swept first."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        sweep_temp_files(folder, glob_escape(path.name))
        fd, tmp = _create_temp(path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            # Without it a crash soon after the rename can leave an empty file.
            os.fsync(fh.fileno())
            if fcntl is not None:  # renamed while still locked: no sweep can take it
                os.replace(tmp, path)
        if fcntl is None:  # Windows cannot rename an open file
            os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def glob_escape(name: str) -> str:
    """`name` as a glob that matches only itself."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


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
