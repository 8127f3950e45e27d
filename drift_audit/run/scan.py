"""The shot pass: every frame of a clip, small, through the shot detector."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from drift_audit import interrupts
from drift_audit.config import AuditConfig
from drift_audit.decode.opencv import OpenCVSource, shrink
from drift_audit.decode.registry import open_source
from drift_audit.errors import InputError
from drift_audit.progress import ProgressHook, Timings, no_progress
from drift_audit.run.deadline import Deadline
from drift_audit.shots import ShotDetector, thumbnail
from drift_audit.types import ClipResult

if TYPE_CHECKING:
    import numpy as np
    import torch

    from drift_audit.run.keep import FrameKeeper

SHOT_DECODE_SIDE = 160
"""Shot detection reads every frame, but only this big (long side, pixels)."""

CHECK_EVERY = 64
"""Frames between progress calls and deadline / stop checks."""


class ScanStopped(Exception):
    """The scan was stopped from outside (`ScanAhead.close`) before it finished."""


def scan_shots(
    index: int,
    path: Path,
    config: AuditConfig,
    device: torch.device | None,
    hook: ProgressHook = no_progress,
    deadline: Deadline | None = None,
    decoder: str | None = None,
    stop: threading.Event | None = None,
    keeper: FrameKeeper | None = None,
) -> ClipResult:
    """Pass 1: every frame at SHOT_DECODE_SIDE px -> shots, glitches, frame times.

    Args:
        keeper: offered every frame at full size, for the face pass (`run.keep`); only
            with OpenCV, whose full-size frames the face pass would read again. Other
            backends scale while decoding, and then keep nothing.

    Raises:
        InputError: the clip cannot be read, or it overran its deadline.
        ScanStopped: `stop` was set.
    """
    result = ClipResult(index=index, path=str(path))
    timings = Timings()
    with timings.stage("decode+shots"):
        source = open_source(path, decoder or config.decoder, device, fps=config.sequence_fps)
        try:
            result.info = source.info
            detector = ShotDetector(config.shot_threshold, config.min_shot_frames)
            total = source.info.n_frames
            if keeper is not None and source.name == "opencv":
                keeper.expect(source.info)
            elif keeper is not None:
                keeper.drop()
            keeper = keeper if keeper is not None and keeper.keeping else None
            small = source._small_size(SHOT_DECODE_SIDE) if keeper else None
            side = None if keeper else SHOT_DECODE_SIDE
            # Full-size frames stay BGR: the keeper turns the ~1 in 5 it keeps to RGB.
            bgr = keeper is not None  # only OpenCV's source keeps (above)
            if bgr:
                assert isinstance(source, OpenCVSource)
                source.bgr = True
            for frame in source.frames(lambda i, t: True, max_side=side):
                assert frame.image is not None
                thumb = thumbnail(_shrink(frame.image, small, bgr))
                if keeper is not None:
                    keeper.offer(frame, thumb, bgr)
                detector.push(frame.time_s, thumb, frame.index)
                result.times[frame.index] = frame.time_s
                result.corrupt_frames += frame.lost_before
                if frame.index % CHECK_EVERY == 0:
                    hook(f"clip {index}: shots", frame.index, total)
                    if deadline:
                        deadline.check()
                    if stop is not None and stop.is_set():
                        raise ScanStopped(str(path))
                    interrupts.check()
            result.frames_read = len(result.times)
            result.decode_errors = source.decode_errors
            if result.frames_read == 0:
                raise InputError(str(path), "no decodable frames")
            result.frames_expected = max(source.info.n_frames, result.last_frame + 1)
            result.shots, result.glitches = detector.finish()
        finally:
            source.close()
    result.timings = timings.seconds
    return result


def _shrink(image: np.ndarray, size: tuple[int, int] | None, bgr: bool = False) -> np.ndarray:
    """A full-size frame scaled as OpenCV's source scales the shot pass's frames (it
    resizes before its BGR -> RGB swap), as RGB. A channel swap commutes with the
    resize, so a BGR frame is swapped after it, at the small size."""
    import cv2

    small = image if size is None else shrink(image, size)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB) if bgr else small
