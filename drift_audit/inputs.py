"""Command-line clip arguments -> clip paths in story order, and what was left out.

Nothing here raises for a bad argument: what cannot be a clip becomes an InputError in
its place (reported, exit 2), a file a folder holds that is no clip is listed as
skipped, and a clip given twice is audited once with a warning. `duplicate_clips`
finds byte-identical copies under other names (a `duplicate_clip` warning finding).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from drift_audit.decode.still_files import Skipped, entry_problem, read_sequence
from drift_audit.errors import InputError
from drift_audit.types import Finding

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".mpg",
        ".mpeg",
        ".ts",
        ".mts",
        ".wmv",
        ".flv",
    }
)
_GLOB_CHARS = frozenset("*?[")

DUPLICATE_CLIP = "duplicate_clip"
"""The finding kind of a clip whose bytes are another clip's (severity warn)."""


@dataclass
class Inputs:
    """Clips in story order, and what the command line should say about the rest.

    Attributes:
        clips: paths to audit, and InputErrors in the place of arguments that cannot
            be a clip.
        skipped: files in the folders given that are not audited, each with its reason.
        repeated: one line per clip given again (the same file by any name): it is
            audited once, in its first place.
    """

    clips: list[Path | InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)


def collect(
    args: Iterable[str],
    stdin: IO[str] | IO[bytes] | None = None,
    null: bool = False,
    sequence: bool = False,
) -> Inputs:
    """Story-ordered clips from arguments.

    A file stays where it is given; a folder gives its videos and stills in name order
    (or, with `sequence`, is one clip: an image sequence, `still_files.read_sequence`);
    `-` reads paths from stdin, one per line, or separated by NUL bytes when `null` is
    set or the input holds one (`find ... -print0`).

    Args:
        stdin: where `-` reads (default: sys.stdin, as bytes when it has a buffer, so a
            name that is not UTF-8 survives as os.fsdecode gives it).
    """
    out = Inputs()
    for arg in args:
        if arg == "-":
            try:
                names = read_names(stdin if stdin is not None else sys.stdin, null)
            except InputError as exc:
                out.clips.append(exc)
                continue
            for name in names:
                _add(name, sequence, out)
        else:
            _add(arg, sequence, out)
    out.clips = _once(out.clips, out.repeated)
    return out


def expand(
    args: Iterable[str],
    stdin: IO[str] | IO[bytes] | None = None,
    null: bool = False,
    sequence: bool = False,
) -> list[Path | InputError]:
    """`collect(...).clips`."""
    return collect(args, stdin, null, sequence).clips


def read_names(stream: IO[str] | IO[bytes] | None, null: bool = False) -> list[str]:
    """The paths a stream lists: one per line (blank lines skipped, line ends and a
    CR stripped), or NUL-separated when `null` is set or a NUL byte is in the input
    (then every name is kept exactly, spaces and newlines included; empty ones are
    skipped). A closed stdin (None) lists nothing.

    Raises:
        InputError: the stream cannot be read (stdin is a folder, an I/O error).
    """
    if stream is None:
        return []
    try:
        raw = getattr(stream, "buffer", stream).read()
    except (OSError, ValueError) as exc:  # ValueError: a closed file
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError("-", f"cannot read the paths on stdin: {reason}") from None
    text = os.fsdecode(raw) if isinstance(raw, bytes) else raw
    if null or "\0" in text:
        return [name for name in text.split("\0") if name.strip("\n")]
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def _add(arg: str, sequence: bool, out: Inputs) -> None:
    if "\0" in arg:
        shown = arg.replace("\0", "\\0")
        out.clips.append(InputError(shown, "a path cannot hold a NUL byte (use -0 / --null?)"))
        return
    path = Path(arg)
    try:
        st = path.stat()
    except FileNotFoundError:
        if not path.is_symlink() and _GLOB_CHARS & set(arg):
            out.clips.append(InputError(arg, "no such file (a glob pattern that matched nothing?)"))
        else:
            out.clips.append(path)  # the decoder says "no such file", as for any clip
        return
    except OSError as exc:  # a name too long, a loop of links, a folder not searchable
        out.clips.append(InputError(arg, f"cannot read: {exc.strerror or exc}"))
        return
    if stat.S_ISDIR(st.st_mode):
        if sequence:
            _add_sequence(path, out)
        else:
            _add_folder(path, out)
    elif stat.S_ISREG(st.st_mode):
        out.clips.append(path)
    else:  # opened, a FIFO would block the run (the cache hashes every clip)
        out.clips.append(InputError(arg, f"not a regular file ({_kind(st.st_mode)})"))


def _add_folder(folder: Path, out: Inputs) -> None:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        out.clips.append(InputError(str(folder), f"cannot list the folder: {exc.strerror}"))
        return
    found = []
    for path in entries:
        problem = entry_problem(path, VIDEO_SUFFIXES)
        if problem is None:
            found.append(path)
        else:
            out.skipped.append(Skipped(path, problem))
    if not found:
        out.clips.append(InputError(str(folder), "folder holds no videos or stills"))
    out.clips.extend(found)


def _add_sequence(folder: Path, out: Inputs) -> None:
    try:
        frames = read_sequence(folder)
    except InputError as exc:
        out.clips.append(exc)
        return
    out.skipped.extend(frames.skipped)
    out.clips.append(folder)


def _kind(mode: int) -> str:
    kinds = {
        stat.S_IFIFO: "a FIFO",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFSOCK: "a socket",
    }
    return kinds.get(stat.S_IFMT(mode), "a special file")


def _once(clips: list[Path | InputError], repeated: list[str]) -> list[Path | InputError]:
    """The clips with every later appearance of a file already given left out: the
    same path, another path to it (a link, `./`), or a hard link to it."""
    seen: dict[object, tuple[int, Path]] = {}
    kept: list[Path | InputError] = []
    for clip in clips:
        if isinstance(clip, InputError):
            kept.append(clip)
            continue
        key = _file_key(clip)
        if key in seen:
            place, first = seen[key]
            again = "given again" if first == clip else f"the same file as {first}"
            repeated.append(f"{clip}: {again} (clip {place}); audited once, as clip {place}")
            continue
        kept.append(clip)
        seen[key] = (len(kept), clip)
    return kept


def _file_key(path: Path) -> object:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return ("path", os.path.abspath(path))
    return ("file", st.st_dev, st.st_ino)


def duplicate_clips(tasks: list[tuple[int, Path]]) -> list[Finding]:
    """A `duplicate_clip` warning for each clip whose bytes are an earlier clip's.

    Only files of equal size are hashed, so a story of distinct clips costs one stat
    each. Files that cannot be read are left to the decoder to report.

    Args:
        tasks: (clip index, path) in story order, each file once.
    Returns:
        Findings (kind "duplicate_clip", severity "warn") on the later copies, in
        story order.
    """
    from drift_audit.files import sha256_of

    by_size: dict[int, list[tuple[int, Path]]] = {}
    for index, path in tasks:
        try:
            st = path.stat()
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size > 0:
            by_size.setdefault(st.st_size, []).append((index, path))
    found = []
    for group in by_size.values():
        if len(group) < 2:
            continue
        first: dict[str, tuple[int, Path]] = {}
        for index, path in group:
            try:
                digest = sha256_of(path)
            except OSError:
                continue
            if digest not in first:
                first[digest] = (index, path)
                continue
            original, original_path = first[digest]
            found.append(
                Finding(
                    DUPLICATE_CLIP,
                    "warn",
                    None,
                    index,
                    f"clip {index}: {path.name} is a byte-identical copy of clip {original} "
                    f"({original_path.name}): the same render delivered twice?",
                )
            )
    return sorted(found, key=lambda f: f.clip or 0)
