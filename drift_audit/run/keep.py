"""One decode per clip: the shot pass keeps the full-size frames the face pass will want.

The face pass reads the periodic samples (`run.faces.sampler`, which do not depend on
the shots) and one early frame of every shot (`start + 2`). While the shot pass decodes
every frame, `FrameKeeper` keeps the periodic samples and the frames just after a step
large enough to be a hard cut; once the shots are known, `wanted()` hands the face pass
exactly the frames a second decode would have given it, or None when one is missing (a
dissolve's start, a gap after damaged data) or the clip was too long to keep: the face
pass then decodes the clip again, as before. Either way it sees the same pixels: the
same decoder, frames in the same order, nothing scaled.

Measured on the seven short 720p clips of `make bench` (33 s of video): 19.2 s of CPU
against 21.8 s with the second decode, about 0.4 s a clip.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Protocol

import cv2
import numpy as np

from drift_audit.config import AuditConfig
from drift_audit.decode.base import DecodedFrame
from drift_audit.run.faces import sampler
from drift_audit.types import ClipResult, VideoInfo

KEEP_BYTES = 192 << 20
"""Frames kept per clip at most (192 MB: 69 frames of 720p, 14 s at 5 samples a second;
30 of 1080p). A longer clip is decoded twice, so memory stays flat in clip length."""


class Keeps(Protocol):
    """What a shot pass kept for the face pass: a `FrameKeeper`, or the frames a child
    process's keeper handed back (`run.scan_process.Kept`)."""

    def wanted(self, result: ClipResult) -> list[DecodedFrame] | None: ...


class FrameKeeper:
    """Offered every frame of the shot pass in order, at full size, with its thumbnail.

    Args:
        config: the run's settings (sampling, shot threshold).
        budget: bytes of frames kept at most; past it, nothing is kept.
    """

    def __init__(self, config: AuditConfig, budget: int = KEEP_BYTES) -> None:
        self.config, self.budget = config, budget
        self._periodic = sampler(config, [])  # no shots: the periodic samples alone
        self._steps: deque[float] = deque(maxlen=3)  # the last frames' thumbnail steps
        self._previous: np.ndarray | None = None
        self._kept: dict[int, DecodedFrame] | None = {}
        self._bytes = 0
        self._seen = 0

    def expect(self, info: VideoInfo) -> None:
        """The clip's header: a clip whose periodic samples alone would not fit keeps
        nothing from the start (no frames gathered only to be let go)."""
        seconds = info.n_frames / info.fps if info.fps else 0.0
        samples = min(info.n_frames, seconds * self.config.sample_fps + 1)
        if samples * info.width * info.height * 3 > self.budget:
            self._kept = None

    @property
    def keeping(self) -> bool:
        """Whether frames are still being kept (not past the budget)."""
        return self._kept is not None

    def offer(self, frame: DecodedFrame, thumb: np.ndarray, bgr: bool = False) -> None:
        """One decoded frame (with its image: RGB, or BGR with `bgr`, turned to RGB
        if it is kept) and its (18, 32, 3) CIELAB thumbnail."""
        step = float(np.abs(thumb - self._previous).mean()) if self._previous is not None else 0.0
        self._previous = thumb
        self._steps.append(step)
        self._seen += 1
        periodic = self._periodic(frame.index, frame.time_s)  # called on every frame
        if self._kept is None:
            return
        after_cut = max(self._steps) >= self.config.shot_threshold
        if periodic or after_cut or self._seen <= 3:
            assert frame.image is not None
            self._bytes += frame.image.nbytes
            if self._bytes > self.budget:
                self._kept = None  # too long to keep: the face pass decodes again
                return
            if bgr:
                frame = replace(frame, image=cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB))
            self._kept[frame.index] = frame

    def wanted(self, result: ClipResult) -> list[DecodedFrame] | None:
        """The frames a face-pass decode would give images, in order, once `result`
        holds the shots; None when one of them was not kept."""
        if self._kept is None:
            return None
        want = sampler(self.config, result.shots)
        frames = []
        for index, time_s in sorted(result.times.items()):
            if want(index, time_s):
                frame = self._kept.get(index)
                if frame is None:
                    return None
                frames.append(frame)
        return frames

    def drop(self) -> None:
        """Let the kept frames go."""
        self._kept = None
