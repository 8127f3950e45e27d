"""Frame sources: every backend reads a clip front to back and stamps each frame
with its true index and presentation time.

Reading is sequential on purpose. decord's strided `get_batch` returns the wrong
frames on AVI / MPEG-4 Part 2 files (frame 100 comes back as frame 2), and a
wrong frame silently corrupts every later stage; a sequential read is exact on
every container, and decoding is far cheaper than face detection anyway.
"""

from __future__ import annotations

import os
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drift_audit.errors import InputError
from drift_audit.types import VideoInfo


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # the frame's true position in the stream, gaps included
    time_s: float  # presentation time
    # (H, W, 3) uint8 RGB, or None when not asked for; a torch tensor on the device
    # from a torchcodec source with `tensors` set (decode_torchcodec.py)
    image: np.ndarray | None
    lost_before: int = 0  # frames the decoder could not deliver just before this one


def index_from_time(
    previous: DecodedFrame | None, time_s: float, fps: float, errors_seen: bool
) -> tuple[int, int]:
    """(index, frames lost before it). Frames are counted in decode order; only after
    the decoder has reported damage does a jump in presentation time count as lost
    frames (a clean variable-frame-rate clip has such jumps by design)."""
    if previous is None:
        return 0, 0
    index = previous.index + 1
    if errors_seen and fps > 0:
        gap = round((time_s - previous.time_s) * fps)
        if gap > 1:
            return previous.index + gap, gap - 1
    return index, 0


def check_readable(path: Path) -> None:
    """Raise InputError with a plain reason for the failures that need no decoder."""
    name = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except PermissionError:
        raise InputError(name, "permission denied") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(name, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(name, "not a regular file")
    if st.st_size == 0:
        raise InputError(name, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise InputError(name, "permission denied")
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        raise InputError(name, "not a video file (it holds plain text)")


class FrameSource(ABC):
    """A clip opened for reading. Subclasses differ only in the library they call."""

    name: str = ""
    alias_dir: tempfile.TemporaryDirectory[str] | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        self.info: VideoInfo = self._open()

    @abstractmethod
    def _open(self) -> VideoInfo: ...

    @abstractmethod
    def frames(
        self, want: Callable[[int, float], bool], max_side: int | None = None
    ) -> Iterator[DecodedFrame]:
        """Every frame, in order. `want(index, time_s)` says which ones need pixels.

        Args:
            max_side: when given, images come downscaled so their long side is at most
                this (backends that can scale while converting do so: far cheaper).
        """

    def _small_size(self, max_side: int | None) -> tuple[int, int] | None:
        """(w, h) to scale to, or None when the frames are small enough already."""
        w, h = self.info.width, self.info.height
        if max_side is None or max(w, h) <= max_side:
            return None
        scale = max_side / max(w, h)
        return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)

    def close(self) -> None:
        self._release()
        if self.alias_dir is not None:
            self.alias_dir.cleanup()

    def _release(self) -> None:  # noqa: B027 - optional hook
        pass
