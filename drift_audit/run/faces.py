"""The face pass of one clip: sampled frames -> detections -> tracks per shot."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from drift_audit.config import AuditConfig
from drift_audit.decode.base import DecodedFrame
from drift_audit.faces.attributes import measure_near
from drift_audit.faces.crop import crop_faces
from drift_audit.faces.detect import face_quality
from drift_audit.faces.track import Tracker
from drift_audit.progress import ProgressHook
from drift_audit.run.deadline import Deadline
from drift_audit.run.models import Models
from drift_audit.run.sink import EmbedSink
from drift_audit.types import ClipResult, Faces, Shot


def sampler(config: AuditConfig, shots: list[Shot]) -> Callable[[int, float], bool]:
    """Which frames go to the detector: one every 1/sample_fps seconds of presentation
    time, plus one early frame of every shot so that short shots are never skipped."""
    period = 1.0 / config.sample_fps
    starts = {s.start_frame + min(2, s.end_frame - s.start_frame) for s in shots}
    state = {"next": -1.0}

    def want(index: int, time_s: float) -> bool:
        if state["next"] < 0:
            state["next"] = time_s
        if time_s + 1e-6 >= state["next"]:
            state["next"] += period * max(1, int((time_s - state["next"]) / period) + 1)
            return True
        return index in starts

    return want


def stack_frames(images: list[object]) -> object:
    """Frames as one (b, H, W, 3) batch: numpy on the host, a tensor on the device."""
    if all(isinstance(im, np.ndarray) for im in images):
        return np.stack(images)  # type: ignore[arg-type]
    import torch

    return torch.stack(images)  # type: ignore[arg-type]


def detect_and_track(
    result: ClipResult,
    frames: Iterator[DecodedFrame],
    config: AuditConfig,
    models: Models,
    hook: ProgressHook,
    deadline: Deadline,
    sink: EmbedSink,
) -> None:
    """Faces of the sampled frames, tracked per shot.

    A sampled frame gets a full-frame detection when its shot starts and then every
    `redetect_s` seconds; those are batched, `detect_batch` at a time. The frames in
    between are searched only around the shot's live tracks (`refine`), in order, each
    after the tracker has seen the frame before it.
    """
    starts = np.array([s.start_frame for s in result.shots], np.int64)
    samples = 0  # sampled frames in the current shot
    tracker: Tracker | None = None
    pending: list[tuple[DecodedFrame, bool]] = []  # (frame, gets a full detection)
    spent = dict.fromkeys(
        ("detect: full frames", "detect: around tracks", "crops+attributes+track"), 0.0
    )
    last_full = {"shot": -1, "time": -np.inf}

    def shot_of(frame: DecodedFrame) -> int:
        return result.shots[int(np.searchsorted(starts, frame.index, side="right")) - 1].index

    def is_full(frame: DecodedFrame) -> bool:
        shot = shot_of(frame)
        due = frame.time_s - last_full["time"] >= config.redetect_s - 1e-6
        if shot != last_full["shot"] or due:
            last_full.update(shot=shot, time=frame.time_s)
            return True
        return False

    def end_shot() -> None:
        if tracker is not None:
            # A lone detection in a shot that was sampled often is likely a false positive.
            sink.add([t for t in tracker.finish() if len(t.faces) >= 2 or samples <= 2])

    def flush() -> None:
        nonlocal tracker, samples
        if not pending:
            return
        full = [f for f, is_f in pending if is_f]
        tick = time.perf_counter()
        faces = (
            models.detector.detect(
                stack_frames([f.image for f in full]),  # type: ignore[arg-type]
                np.array([f.index for f in full]),
            )
            if full
            else Faces.empty()
        )
        spent["detect: full frames"] += time.perf_counter() - tick
        for f, is_f in pending:
            assert f.image is not None
            shot = shot_of(f)
            if tracker is None or tracker.shot != shot:
                end_shot()
                tracker, samples = Tracker(result.index, shot, config.faces_per_track), 0
            samples += 1
            tick = time.perf_counter()
            if is_f:
                mine = faces.select(faces.frame == f.index) if len(faces) else Faces.empty()
            else:
                mine = models.detector.refine(f.image, tracker.live_boxes(), f.index)
                spent["detect: around tracks"] += time.perf_counter() - tick
                tick = time.perf_counter()
            looks = np.array(
                [
                    measure_near(f.image, box, lm)  # (n, 4, 4) appearance attributes
                    for box, lm in zip(mine.xyxy, mine.landmarks, strict=True)
                ],
                np.float32,
            ).reshape(len(mine), 4, 4)
            tracker.step(mine, crop_faces(f.image, mine), face_quality(mine), looks)
            spent["crops+attributes+track"] += time.perf_counter() - tick
        hook(f"clip {result.index}: faces", pending[-1][0].index, result.frames_read)
        pending.clear()
        deadline.check()

    for frame in frames:
        if frame.image is None or frame.index > result.last_frame:
            continue
        if pending and pending[0][0].image.shape != frame.image.shape:  # type: ignore[union-attr]
            flush()
        full = is_full(frame)
        pending.append((frame, full))
        waiting = sum(1 for _, is_f in pending if is_f)
        # A frame between full detections waits only for full detections before it.
        if waiting >= config.detect_batch or waiting == 0:
            flush()
    flush()
    end_shot()
    result.timings.update(spent)
