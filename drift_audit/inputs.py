"""Command-line clip arguments -> clip paths in story order."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from drift_audit.errors import InputError

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


def expand(args: Iterable[str], stdin: TextIO | None = None) -> list[Path | InputError]:
    """Story-ordered clips from arguments.

    A file stays where it is given; a directory gives its video files in name order;
    `-` reads one path per line from stdin (blank lines skipped). What cannot be a
    clip comes back as an InputError in its place, so it is reported, not dropped.
    """
    out: list[Path | InputError] = []
    for arg in args:
        if arg == "-":
            stream = stdin or sys.stdin
            for line in stream:
                line = line.rstrip("\r\n")
                if line.strip():
                    out.extend(expand([line]))
            continue
        path = Path(arg)
        if path.is_dir():
            videos = sorted(
                (p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES),
                key=lambda p: p.name,
            )
            if not videos:
                out.append(InputError(arg, "directory holds no video files"))
            out.extend(videos)
        elif not path.exists() and not path.is_symlink() and _GLOB_CHARS & set(arg):
            out.append(InputError(arg, "no such file (a glob pattern that matched nothing?)"))
        else:
            out.append(path)
    return out
