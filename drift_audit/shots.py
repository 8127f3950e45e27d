"""Shot boundaries from low-resolution frames, streamed: memory does not grow with
the clip beyond a few floats per frame.

Two detectors work side by side on 32x18 CIELAB thumbnails:
- hard cuts: a large step between consecutive frames that stands out from the
  steps around it (so fast motion, where every step is large, is not a cut), and
  after which the picture does not come back: a change that reverts within
  `min_shot_frames` is a glitch (flash, dropped-in block), reported, not a shot;
- gradual transitions (dissolves): the mean picture of the WINDOW frames before
  t differs from the mean of the WINDOW frames from t on by far more than usual
  around t. Window means average motion away; a dissolve survives averaging.

Why not PySceneDetect's ContentDetector: a one-frame flash produces two large
frame differences and `min_scene_len` only suppresses the second, so a flash
still splits the shot; and its fixed threshold fires on fast motion.
"""

from __future__ import annotations

import itertools
from collections import deque

import cv2
import numpy as np

from drift_audit.types import Glitch, Shot

THUMB_SIZE = (32, 18)  # (w, h): enough to see a cut, too coarse to see noise
LOCAL_CONTRAST = 3.0  # a cut's step must be this many times the median step around it
REVERT_RATIO = 0.35  # back within this fraction of the step: the change was a glitch
WINDOW = 8  # frames averaged on each side for gradual transitions
GRADUAL_CONTRAST = 1.7  # a dissolve's window difference vs the median one around it


def thumbnail(image: np.ndarray) -> np.ndarray:
    """(18, 32, 3) float32 CIELAB thumbnail of an RGB frame."""
    small = cv2.resize(image, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)


def _centre_runs(cuts: list[int]) -> list[int]:
    """Consecutive cut frames are one fast transition (a short, high-contrast dissolve
    whose every step is cut-sized): keep its centre."""
    out: list[int] = []
    run: list[int] = []
    for t in [*cuts, -10]:
        if run and t != run[-1] + 1:
            out.append((run[0] + run[-1] + 1) // 2)
            run = []
        run.append(t)
    return out


class ShotDetector:
    """Feed every decoded frame's thumbnail in order with `push`, then call `finish`.

    Args:
        threshold: mean absolute CIELAB difference (8-bit units) that a cut's step
            must reach.
        min_shot_frames: a change that reverts within this many frames is a glitch;
            two cuts closer than this keep only the first.
    """

    def __init__(self, threshold: float = 8.0, min_shot_frames: int = 3) -> None:
        self.threshold = threshold
        self.min_shot_frames = max(1, min_shot_frames)
        # Differences kept per frame: to the 1..L frames before, L long enough to see a
        # glitch of min_shot_frames frames revert.
        self.lags = tuple(range(1, max(4, self.min_shot_frames + 1) + 1))
        self._recent: deque[np.ndarray] = deque(maxlen=max(2 * WINDOW, len(self.lags)))
        self._diffs: list[np.ndarray] = []  # per frame: difference to frame t - lag, per lag
        self._window: list[float] = []  # per frame: window-mean difference centred on it
        self._times: list[float] = []
        self._indices: list[int] = []

    def push(self, time_s: float, thumb: np.ndarray, index: int | None = None) -> None:
        """Add the next decoded frame. `index` is its true frame index when frames
        were lost before it (default: one more than the previous frame's)."""
        row = np.full(len(self.lags), np.nan, np.float32)
        for k, lag in enumerate(self.lags):
            if len(self._recent) >= lag:
                row[k] = float(np.abs(thumb - self._recent[-lag]).mean())
        self._recent.append(thumb)
        if len(self._recent) >= 2 * WINDOW:
            frames = np.stack(list(self._recent)[-2 * WINDOW :])  # (2W, 18, 32, 3): t-W .. t+W-1
            before, after = frames[:WINDOW].mean(axis=0), frames[WINDOW:].mean(axis=0)
            self._window.append(float(np.abs(after - before).mean()))  # for t = n - W
        self._diffs.append(row)
        self._times.append(time_s)
        previous = self._indices[-1] if self._indices else -1
        self._indices.append(previous + 1 if index is None else index)

    def finish(self) -> tuple[list[Shot], list[Glitch]]:
        """The shots (covering every frame, in order) and the glitch frames."""
        n = len(self._diffs)
        if n == 0:
            return [], []
        diffs = np.vstack(self._diffs)  # (n, len(self.lags)) float32, NaN where t < lag
        cuts, glitches = self._hard_cuts(diffs)
        cuts = sorted(set(cuts) | set(self._gradual(n, cuts)))
        kept: list[int] = []
        for cut in cuts:
            previous = kept[-1] if kept else 0
            if cut - previous >= self.min_shot_frames:
                kept.append(cut)
        if kept and n - kept[-1] < self.min_shot_frames:
            kept.pop()  # a change in the last frames cannot be told from a glitch: no shot
        bounds = [0, *kept, n]  # positions in decode order
        ix = self._indices
        shots = [
            Shot(i + 1, ix[start], ix[end - 1], self._times[start], self._end_time(end - 1))
            for i, (start, end) in enumerate(itertools.pairwise(bounds))
        ]
        return shots, [Glitch(ix[f], self._times[f]) for f in sorted(glitches)]

    def _end_time(self, last: int) -> float:
        if last + 1 < len(self._times):
            return self._times[last + 1]
        step = self._times[last] - self._times[last - 1] if last > 0 else 0.0
        return self._times[last] + step

    def _hard_cuts(self, diffs: np.ndarray) -> tuple[list[int], set[int]]:
        n = len(diffs)
        d1 = np.nan_to_num(diffs[:, 0])
        cuts: list[int] = []
        glitches: set[int] = set()
        reverts: set[int] = set()  # the step back out of a glitch is no cut either
        for t in (int(t) for t in np.flatnonzero(d1 >= self.threshold)):
            if t in glitches or t in reverts:
                continue
            around = np.concatenate([d1[max(1, t - 10) : t], d1[t + 3 : t + 11]])
            if len(around) and d1[t] < LOCAL_CONTRAST * float(np.median(around)):
                continue  # fast motion: every step is large
            # Does frame t + j look like frame t - 1 again? Then t .. t+j-1 was a glitch.
            back = next(
                (
                    j
                    for j in range(1, self.min_shot_frames + 1)
                    if t + j < n and diffs[t + j, j] < REVERT_RATIO * d1[t]
                ),
                None,
            )
            if back is None:
                cuts.append(t)
            else:
                glitches.update(range(t, t + back))
                reverts.add(t + back)
        return _centre_runs(cuts), glitches

    def _gradual(self, n: int, cuts: list[int]) -> list[int]:
        """Frames where a gradual transition is centred, away from any hard cut."""
        if not self._window:
            return []
        score = np.zeros(n, np.float32)
        score[WINDOW : WINDOW + len(self._window)] = self._window
        found = []
        for t in range(WINDOW, WINDOW + len(self._window)):
            lo, hi = (
                max(WINDOW, t - 3 * WINDOW),
                min(WINDOW + len(self._window), t + 3 * WINDOW + 1),
            )
            if (
                score[t] >= 2 * self.threshold
                and score[t] == score[max(0, t - WINDOW) : t + WINDOW + 1].max()
                and score[t] >= GRADUAL_CONTRAST * float(np.median(score[lo:hi]))
                and not any(abs(t - c) <= WINDOW for c in cuts)
            ):
                found.append(t)
        return found
