"""Frame sources: every backend reads a clip front to back; the base class stamps each
frame with its true index and presentation time, so every backend stamps alike.

Reading is sequential on purpose. decord's strided `get_batch` returns the wrong
frames on AVI / MPEG-4 Part 2 files (frame 100 comes back as frame 2), and a
wrong frame silently corrupts every later stage; a sequential read is exact on
every container, and decoding is far cheaper than face detection anyway.

This module imports nothing heavy (numpy and the types only for annotations): the
registry, and through it the command line's choices, import it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from drift_audit.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from drift_audit.types import VideoInfo

Image = Any
"""(H, W, 3) uint8 RGB: a numpy array on the host, or a torch tensor on the device from
a source opened with `keep_on_device` (torchcodec on a GPU)."""


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # the frame's true position in the stream, gaps included
    time_s: float  # presentation time
    image: np.ndarray | None  # an `Image`, or None when not asked for
    lost_before: int = 0  # frames the decoder could not deliver just before this one


@dataclass(frozen=True)
class RawFrames:
    """Frames a backend decoded together, in decode order, not yet stamped.

    Attributes:
        times: each frame's presentation time in seconds as the decoder gives it; None
            where the backend cannot tell (`Clock` decides what is kept).
        errors: lines reporting damaged data (`native.error_reports`) the decoder
            printed while decoding these frames: damage it concealed, or frames lost.
        pixels: the images of the frames at the given positions in `times` (None for
            one the backend could not convert); called at most once, before the next
            RawFrames is asked for, and only with the positions someone wants.
    """

    times: Sequence[float | None]
    errors: int
    pixels: Callable[[list[int]], Sequence[Image | None]]


def one_frame(time_s: float | None, errors: int, image: Callable[[], Image | None]) -> RawFrames:
    """RawFrames of a single frame whose image `image()` converts, when it is wanted."""
    return RawFrames([time_s], errors, lambda keep: [image() for _ in keep])


def no_frame(errors: int) -> RawFrames:
    """RawFrames of no frame: what the decoder printed after the last one."""
    return RawFrames([], errors, lambda keep: [])


MAX_STEP_S = 10.0
"""A timestamp further than this past the previous frame's (or than the clip lasts by
its header, when that is longer) is garbage, not a gap in the stream."""
MIN_STEP_S = 0.001
"""A timestamp closer than this to the previous frame's is the same time (decord's
float32 seconds): no real clip has frames less than a millisecond apart."""


@dataclass
class Clock:
    """The times frames are stamped with, in decode order: from presentation timestamps
    where they are sane, else one nominal frame after the previous frame. They start
    at 0, never decrease and are never negative.

    Times count from the first frame's timestamp (an AVI with B-frames starts one frame
    late), or from 0 when that is further from 0 than `limit_s`. A later timestamp is
    sane when it is a number at least `MIN_STEP_S` after the previous frame's time and
    at most `limit_s` after it: a gap after lost frames or a variable frame rate is
    kept, and what decoders give on real files is not (OpenCV: POS_MSEC 0 for the last
    frame of an AVI with B-frames; decord: -3.7e17 s for the first third of the same
    file, then times that lag the frames and catch up by the end).
    """

    fps: float
    limit_s: float
    origin: float = 0.0
    last: float | None = None

    def time(self, pts: float | None) -> float:
        """The time of the next frame, whose decoder gave it `pts` (None: no time)."""
        if self.last is None:
            if pts is not None and abs(pts) <= self.limit_s:
                self.origin = pts
            self.last = 0.0
        elif pts is not None and MIN_STEP_S <= pts - self.origin - self.last <= self.limit_s:
            self.last = pts - self.origin
        else:
            self.last += 1 / self.fps
        return self.last


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
    """A clip opened for reading. Subclasses differ only in the library they call:
    they open the clip (`_open`) and decode it (`_decode`); stamping is done here.

    Every backend takes the same arguments; host backends ignore the last two.

    Args:
        device: where a GPU backend decodes (None: the CPU).
        keep_on_device: a backend that decodes on `device` hands images over as
            tensors there (the GPU face pass) instead of numpy arrays on the host.
    """

    name: ClassVar[str] = ""
    alias_dir: tempfile.TemporaryDirectory[str] | None = None
    decode_errors = 0
    """Lines reporting damaged data (`native.error_reports`) the decoder printed while
    `frames()` read the clip: damage it concealed, or frames it lost. A total, not per
    frame: FFmpeg decodes in threads, so its lines reach stderr a frame or two early
    or late, and the last ones only after the last frame."""

    def __init__(
        self, path: Path, device: torch.device | None = None, keep_on_device: bool = False
    ) -> None:
        self.path = path
        self.device = device
        self.keep_on_device = keep_on_device
        self.info: VideoInfo = self._open()

    @abstractmethod
    def _open(self) -> VideoInfo:
        """Open the clip; raise InputError with a plain reason when it cannot be read."""

    @abstractmethod
    def _decode(self, size: tuple[int, int] | None) -> Generator[RawFrames, None, None]:
        """Every frame, in decode order, until the decoder can deliver no more.

        Args:
            size: (w, h) the images are to be scaled to, or None for full size.
        """

    def frames(
        self, want: Callable[[int, float], bool], max_side: int | None = None
    ) -> Generator[DecodedFrame, None, None]:
        """Every frame, in order, with its true index. `want(index, time_s)` says which
        ones need pixels; it is called once per frame, in order, with the same true
        index the frame then carries.

        Args:
            max_side: when given, images come downscaled so their long side is at most
                this (backends that can scale while converting do so: far cheaper).
        """
        self.decode_errors = 0
        fps = self.info.fps or 25.0
        clock = Clock(fps, max(MAX_STEP_S, self.info.n_frames / fps))
        previous: DecodedFrame | None = None
        errors_seen = False
        with contextlib.closing(self._decode(self._small_size(max_side))) as decoded:
            for raw in decoded:
                self.decode_errors += raw.errors
                errors_seen = errors_seen or raw.errors > 0
                stamped = []
                for pts in raw.times:
                    time_s = clock.time(pts)
                    index, lost = index_from_time(previous, time_s, fps, errors_seen)
                    previous = DecodedFrame(index, time_s, None, lost)
                    stamped.append(previous)
                keep = [i for i, frame in enumerate(stamped) if want(frame.index, frame.time_s)]
                images = dict(zip(keep, raw.pixels(keep), strict=True)) if keep else {}
                for i, frame in enumerate(stamped):
                    yield replace(frame, image=images[i]) if i in images else frame

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
