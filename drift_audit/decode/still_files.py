"""Which files are stills, which of them this OpenCV decodes, and which form an image
sequence. Plain file names and one cached decode probe: no frame is read here, and
OpenCV is imported only when an AVIF or HEIC file asks whether it can be decoded.

A still is a one-frame clip (`decode/stills.py` reads it). A folder given with
`--sequence` is one clip whose frames are the stills whose names end in a number,
`shot_0001.png`, `shot_0002.png`, ...: one prefix, one extension, no gaps, no number
twice. Anything else in the folder is skipped, each with its reason.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from drift_audit.errors import InputError

STILL_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".avif", ".heic", ".heif"}
)
"""Names read as stills. AVIF and HEIC/HEIF only where OpenCV decodes them
(`undecodable`): this build (opencv-python-headless 5.0, libavif 1.4) decodes AVIF,
and OpenCV has no HEIF decoder at all."""

DEFAULT_FPS = 24.0
"""`--fps`: the frame rate of an image sequence, and of a still."""

_PROBED = {".avif": "avif", ".heic": "heif", ".heif": "heif"}

# An 8x8 AVIF (Pillow 13): decoding it proves this OpenCV has an AV1 image decoder.
_AVIF_PROBE = base64.b64decode(
    "AAAAIGZ0eXBhdmlmAAAAAGF2aWZtaWYxbWlhZk1BMUIAAADrbWV0YQAAAAAAAAAhaGRscgAAAAAAAAAAcGlj"
    "dAAAAAAAAAAAAAAAAAAAAAAOcGl0bQAAAAAAAQAAAB5pbG9jAAAAAEQAAAEAAQAAAAEAAAETAAAAKAAAAChp"
    "aW5mAAAAAAABAAAAGmluZmUCAAAAAAEAAGF2MDFDb2xvcgAAAABqaXBycAAAAEtpcGNvAAAAFGlzcGUAAAAA"
    "AAAACAAAAAgAAAAQcGl4aQAAAAADCAgIAAAADGF2MUOBAAwAAAAAE2NvbHJuY2x4AAEADQAGgAAAABdpcG1h"
    "AAAAAAAAAAEAAQQBAoMEAAAAMG1kYXQSAAoIGAi/aICGg0IyGhTHh4ZlAgggnlAAAABIWtlcu9vROwpYZeiA"
)
# The start of a HEIC file: enough for OpenCV to say whether any of its decoders takes it.
_HEIF_SIGNATURE = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def is_still(path: Path) -> bool:
    """A still by its name (the content is checked when it is decoded)."""
    return path.suffix.lower() in STILL_SUFFIXES


def undecodable(path: Path) -> str | None:
    """Why this OpenCV cannot decode a still named so, or None when it can."""
    fmt = _PROBED.get(path.suffix.lower())
    if fmt is None or _decodes(fmt):
        return None
    name = "AVIF" if fmt == "avif" else "HEIC/HEIF"
    return (
        f"{name} stills cannot be decoded here (no {name} decoder in this OpenCV build); "
        "convert to PNG or JPEG"
    )


@functools.cache
def _decodes(fmt: str) -> bool:
    try:
        import cv2
        import numpy as np
    except ImportError:
        return False
    if fmt == "avif":
        try:
            image = cv2.imdecode(np.frombuffer(_AVIF_PROBE, np.uint8), cv2.IMREAD_COLOR)
        except cv2.error:
            return False
        return image is not None and image.shape[:2] == (8, 8)
    with tempfile.NamedTemporaryFile(suffix=".heic") as fh:
        fh.write(_HEIF_SIGNATURE)
        fh.flush()
        try:
            return bool(cv2.haveImageReader(fh.name))
        except cv2.error:
            return False


@dataclass(frozen=True)
class Skipped:
    """A file in a folder that is not audited, and why."""

    path: Path
    reason: str


def entry_problem(path: Path, media: frozenset[str]) -> str | None:
    """Why `path`, found in a folder, is not a clip (None: it is one). `media`: the
    suffixes that count, besides stills."""
    if path.name.startswith("."):
        return "hidden file"
    try:
        st = path.stat()
    except FileNotFoundError:
        return "broken symbolic link" if path.is_symlink() else "vanished while listed"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "a folder (folders inside folders are not searched; give it by name)"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    suffix = path.suffix.lower()
    if suffix in STILL_SUFFIXES:
        return undecodable(path)
    if suffix in media:
        return None
    if not suffix:
        return "no file extension (give it by name to audit it)"
    return f"not a video or still image ({suffix})"


@dataclass(frozen=True)
class Sequence:
    """An image sequence: its frames in number order, and what its folder also held."""

    frames: list[Path]
    first_number: int
    skipped: list[Skipped]


def read_sequence(folder: Path) -> Sequence:
    """The frames of a numbered image sequence, in number order.

    Raises:
        InputError: the folder cannot be listed, holds no numbered still, holds more
            than one sequence (two prefixes or extensions), a number twice, or a gap
            in the numbering. A sequence is one clip at one frame rate: a missing
            frame would shift every later time, so it is refused, not guessed.
    """
    name = str(folder)
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise InputError(name, f"cannot list the folder: {exc.strerror or exc}") from None
    groups: dict[tuple[str, str], dict[int, list[Path]]] = {}
    skipped: list[Skipped] = []
    for path in entries:
        problem = entry_problem(path, frozenset())
        if problem is None and (match := _NUMBERED.match(path.stem)) is None:
            problem = "no frame number at the end of its name"
        if problem is not None:
            skipped.append(Skipped(path, problem))
            continue
        assert match is not None
        key = (match["prefix"], path.suffix.lower())
        groups.setdefault(key, {}).setdefault(int(match["number"]), []).append(path)
    if not groups:
        hint = ""
        if any(s.reason.startswith("a folder") for s in skipped):
            hint = " (it holds folders: give each sequence's folder, e.g. shots/*/)"
        raise InputError(name, f"image sequence: the folder holds no numbered stills{hint}")
    if len(groups) > 1:
        shown = ", ".join(f"{prefix}#{suffix}" for prefix, suffix in sorted(groups)[:4])
        raise InputError(
            name,
            f"image sequence: the folder holds {len(groups)} numbered sequences ({shown}); "
            "give each its own folder",
        )
    [numbered] = groups.values()
    twice = [n for n, paths in sorted(numbered.items()) if len(paths) > 1]
    if twice:
        paths = ", ".join(p.name for p in numbered[twice[0]])
        raise InputError(name, f"image sequence: frame number {twice[0]} is given twice ({paths})")
    numbers = sorted(numbered)
    missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    if missing:
        before = max(n for n in numbers if n < missing[0])
        shown = ", ".join(str(n) for n in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise InputError(
            name,
            f"image sequence: {len(missing)} frame(s) missing from the numbering ({shown}; "
            f"the first after {numbered[before][0].name}); render them, or give the "
            "folder without --sequence to audit each still on its own",
        )
    return Sequence([numbered[n][0] for n in numbers], numbers[0], skipped)


def describe(path: Path) -> str:
    """A short name for a still's format, from its first bytes (for VideoInfo.codec)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return ""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if head[4:8] == b"ftyp":
        return "avif" if head[8:12] in (b"avif", b"avis") else "heif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return os.path.splitext(path.name)[1].lstrip(".").lower()


_MAGIC = (
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)
