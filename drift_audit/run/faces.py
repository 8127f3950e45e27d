"""The face pass of one clip: sampled frames -> detections -> tracks per shot.

A sampled frame gets a full-frame detection when its shot starts and then every
`redetect_s` seconds; those are batched, `detect_batch` at a time. The frames in
between are searched only around the shot's live tracks (`Detector.refine`, at
each track's predicted box), in order, each after the tracker has seen the frame
before it; a frame after one where a track lost its face gets a full detection.

The faces' appearance attributes (`faces.attributes`), which nothing in the pass
waits for, are measured in a thread of their own beside it (`Attributes`): as much
work as detection on a frame of several faces, it then runs while the detector's
torch calls hold no GIL, and its results are read when the shot's tracks end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from drift_audit import interrupts
from drift_audit.config import AuditConfig
from drift_audit.decode.base import DecodedFrame
from drift_audit.faces.attributes import measure_near
from drift_audit.faces.crop import crop_faces
from drift_audit.faces.detect import Detector, face_quality
from drift_audit.faces.track import Tracker, without_duplicates
from drift_audit.progress import ProgressHook, Timings
from drift_audit.run.deadline import Deadline
from drift_audit.run.sink import EmbedSink
from drift_audit.types import ClipResult, Faces, Shot

ATTRIBUTE_EVERY = 2
"""Attributes are measured on one sampled frame in this many."""


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


def stack_frames(images: list[Any]) -> Any:
    """Frames as one (b, H, W, 3) batch: numpy on the host, a tensor on the device."""
    if all(isinstance(im, np.ndarray) for im in images):
        return np.stack(images)
    import torch

    return torch.stack(images)


class Measured:
    """The (n, 4, 4) attributes of one frame's faces, measured in the attribute thread;
    indexing (as the tracker does when a shot's tracks end) waits for them."""

    def __init__(self, future: Future[np.ndarray]) -> None:
        self.future = future

    def __getitem__(self, face: int) -> np.ndarray:
        return self.future.result()[face]


class Attributes:
    """One thread that measures the faces' attributes in the order they were found.

    At most `AHEAD` frames wait for it (each holds its full-size image), so a pass
    that outruns it waits rather than filling memory. `close()` ends the thread,
    dropping what no track will read (the clip failed or stopped).
    """

    AHEAD = 8

    def __init__(self, timings: Timings) -> None:
        self.timings = timings
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="drift-audit-attributes")
        self._waiting: deque[Future[np.ndarray]] = deque()

    def measure(self, image: Any, faces: Faces) -> Measured | np.ndarray:
        """`faces.attributes.measure_near` of every face of `faces` in `image` (a frame
        without faces gives its empty (0, 4, 4) array at once)."""
        if not len(faces):
            return np.zeros((0, 4, 4), np.float32)
        while len(self._waiting) >= self.AHEAD:
            self._waiting.popleft().result()
        while self._waiting and self._waiting[0].done():
            self._waiting.popleft()
        future = self._pool.submit(self._measure, image, faces.xyxy, faces.landmarks)
        self._waiting.append(future)
        return Measured(future)

    def _measure(self, image: Any, boxes: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        with self.timings.stage("attributes"):
            looks = [measure_near(image, box, lm) for box, lm in zip(boxes, landmarks, strict=True)]
            return np.array(looks, np.float32).reshape(len(boxes), 4, 4)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class FacePass:
    """Detects and tracks the faces of one clip's sampled frames; finished tracks go to
    `sink`. Feed frames with `run()`.

    Args:
        result: the clip's shot pass (shots, last frame); read, not changed.
        timings: where the stages' seconds are added.
        deadline: checked after every batch (`--clip-timeout`).
    """

    def __init__(
        self,
        result: ClipResult,
        config: AuditConfig,
        detector: Detector,
        sink: EmbedSink,
        hook: ProgressHook,
        deadline: Deadline,
        timings: Timings,
    ) -> None:
        self.result, self.config, self.detector, self.sink = result, config, detector, sink
        self.hook, self.deadline, self.timings = hook, deadline, timings
        self._starts = np.array([s.start_frame for s in result.shots], np.int64)
        self._tracker: Tracker | None = None
        self._samples = 0  # sampled frames in the current shot
        self._pending: list[tuple[DecodedFrame, bool]] = []  # (frame, gets a full detection)
        self._last_full = (-1, -np.inf)  # (shot, time) of the last full detection
        self._attributes = Attributes(timings)

    def run(self, frames: Iterable[DecodedFrame]) -> None:
        """Every frame of the clip in order; those without an image are skipped."""
        try:
            self._run(frames)
        finally:
            self._attributes.close()

    def _run(self, frames: Iterable[DecodedFrame]) -> None:
        for frame in frames:
            if frame.image is None or frame.index > self.result.last_frame:
                continue
            pending = self._pending
            if pending and pending[0][0].image.shape != frame.image.shape:  # type: ignore[union-attr]
                self._flush()
            pending.append((frame, self._is_full(frame)))
            waiting = sum(1 for _, full in pending if full)
            # A frame between full detections waits only for full detections before it.
            if waiting >= self.config.detect_batch or waiting == 0:
                self._flush()
        self._flush()
        self._end_shot()

    def _shot_of(self, frame: DecodedFrame) -> int:
        k = int(np.searchsorted(self._starts, frame.index, side="right")) - 1
        return self.result.shots[k].index

    def _is_full(self, frame: DecodedFrame) -> bool:
        shot = self._shot_of(frame)
        due = frame.time_s - self._last_full[1] >= self.config.redetect_s - 1e-6
        if shot != self._last_full[0] or due:
            self._last_full = (shot, frame.time_s)
            return True
        return False

    def _end_shot(self) -> None:
        if self._tracker is not None:
            # A lone detection in a shot that was sampled often is likely a false positive.
            few = self._samples <= 2
            self.sink.add([t for t in self._tracker.finish() if len(t.faces) >= 2 or few])

    def _flush(self) -> None:
        """Detect the pending full frames in one batch, then step the tracker through
        every pending frame in order."""
        if not self._pending:
            return
        full = [f for f, is_full in self._pending if is_full]
        with self.timings.stage("detect: full frames"):
            faces = (
                self.detector.detect(
                    stack_frames([f.image for f in full]), np.array([f.index for f in full])
                )
                if full
                else Faces.empty()
            )
        for frame, is_full in self._pending:
            self._step(frame, faces if is_full else None)
        last = self._pending[-1][0].index
        self.hook(f"clip {self.result.index}: faces", last, self.result.frames_read)
        self._pending.clear()
        self.deadline.check()
        interrupts.check()

    def _step(self, frame: DecodedFrame, batch: Faces | None) -> None:
        """One frame into its shot's tracker; `batch` holds its full detection, or None
        for a frame searched only around the live tracks."""
        assert frame.image is not None
        shot = self._shot_of(frame)
        if self._tracker is None or self._tracker.shot != shot:
            self._end_shot()
            self._tracker = Tracker(self.result.index, shot, self.config.faces_per_track)
            self._samples = 0
        self._samples += 1
        tracker = self._tracker
        if batch is not None:
            mine = batch.select(batch.frame == frame.index) if len(batch) else Faces.empty()
        elif tracker.lost:
            # A track lost its face around its predicted box: look at the whole frame
            # now rather than at the next scheduled detection, so the track ends only
            # when the face is gone (MAX_GAP of these), never for want of a search.
            with self.timings.stage("detect: full frames"):
                image = stack_frames([frame.image])
                mine = self.detector.detect(image, np.array([frame.index]))
        else:
            with self.timings.stage("detect: around tracks"):
                boxes = tracker.live_boxes(frame.index)
                mine = self.detector.refine(frame.image, boxes, frame.index)
        mine = mine.select(without_duplicates(mine)) if len(mine) > 1 else mine
        # Attributes on every other sampled frame of a shot, its first included.
        looks = (
            self._attributes.measure(frame.image, mine)
            if (self._samples - 1) % ATTRIBUTE_EVERY == 0
            else None
        )
        with self.timings.stage("crops+track"):
            crops = crop_faces(frame.image, mine)
            tracker.step(mine, crops, face_quality(mine, crops), looks)
