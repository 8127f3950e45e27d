"""The shot pass: every frame of a clip, small, through the shot detector."""

from __future__ import annotations

import time
from pathlib import Path

from drift_audit.config import AuditConfig
from drift_audit.decode.registry import open_source
from drift_audit.errors import InputError
from drift_audit.progress import ProgressHook, no_progress
from drift_audit.run.deadline import Deadline
from drift_audit.shots import ShotDetector, thumbnail
from drift_audit.types import ClipResult

SHOT_DECODE_SIDE = 160
"""Shot detection reads every frame, but only this big (long side, pixels)."""


def scan_shots(
    index: int,
    path: Path,
    config: AuditConfig,
    device: str,
    hook: ProgressHook = no_progress,
    deadline: Deadline | None = None,
    decoder: str | None = None,
) -> ClipResult:
    """Pass 1: every frame at SHOT_DECODE_SIDE px -> shots, glitches, frame times.

    Raises InputError when the clip cannot be read.
    """
    result = ClipResult(index=index, path=str(path))
    tick = time.perf_counter()
    source = open_source(path, decoder or config.decoder, device)
    try:
        result.info = source.info
        detector = ShotDetector(config.shot_threshold, config.min_shot_frames)
        total = source.info.n_frames
        for frame in source.frames(lambda i, t: True, max_side=SHOT_DECODE_SIDE):
            assert frame.image is not None
            detector.push(frame.time_s, thumbnail(frame.image), frame.index)
            result.times[frame.index] = frame.time_s
            result.corrupt_frames += frame.lost_before
            if frame.index % 64 == 0:
                hook(f"clip {index}: shots", frame.index, total)
                if deadline:
                    deadline.check()
        result.frames_read = len(result.times)
        if result.frames_read == 0:
            raise InputError(str(path), "no decodable frames")
        result.frames_expected = max(source.info.n_frames, result.last_frame + 1)
        result.shots, result.glitches = detector.finish()
        result.timings["decode+shots"] = time.perf_counter() - tick
    finally:
        source.close()
    return result
