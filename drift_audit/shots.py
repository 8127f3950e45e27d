"""Shot boundaries from low-resolution frames, streamed: memory does not grow with
the clip beyond a few floats per frame.

Why not PySceneDetect's ContentDetector: a one-frame flash produces two large
frame differences, and its `min_scene_len` only suppresses the second, so the
flash still splits the shot. Here a candidate cut is kept only if the picture
does not come back within `min_shot_frames` frames; what comes back is a glitch.
Dissolves are found on the difference across LONG_LAG frames.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from drift_audit.types import Glitch, Shot

THUMB_SIZE = (32, 18)  # (w, h): enough to see a cut, too coarse to see noise
LONG_LAG = 8  # frames: the lag over which dissolves are measured
MAX_DISSOLVE = 45  # frames: a longer rise of the long-lag difference is motion, not a dissolve
MONOTONE_RATIO = 0.85
LOCAL_CONTRAST = 2.0  # a cut's step must be this many times the typical step around it
_LAGS = (1, 2, 3, 4, LONG_LAG)


def thumbnail(image: np.ndarray) -> np.ndarray:
    """(18, 32, 3) float32 CIELAB thumbnail of an RGB frame."""
    small = cv2.resize(image, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)


class ShotDetector:
    """Feed every frame's thumbnail in order with `push`, then call `finish`.

    Args:
        threshold: mean absolute CIELAB difference (8-bit units) that marks a cut.
        min_shot_frames: a change that reverts within this many frames is a glitch;
            two cuts closer than this keep only the first.
    """

    def __init__(self, threshold: float = 8.0, min_shot_frames: int = 3) -> None:
        self.threshold = threshold
        self.min_shot_frames = max(1, min_shot_frames)
        self._recent: deque[np.ndarray] = deque(maxlen=LONG_LAG + 1)
        self._diffs: list[np.ndarray] = []  # per frame: difference to frame t - lag, per lag
        self._times: list[float] = []

    def push(self, time_s: float, thumb: np.ndarray) -> None:
        row = np.full(len(_LAGS), np.nan, np.float32)
        for k, lag in enumerate(_LAGS):
            if len(self._recent) >= lag:
                row[k] = float(np.abs(thumb - self._recent[-lag]).mean())
        self._recent.append(thumb)
        self._diffs.append(row)
        self._times.append(time_s)

    def finish(self) -> tuple[list[Shot], list[Glitch]]:
        """Returns the shots (covering every frame) and the glitch frames."""
        n = len(self._diffs)
        if n == 0:
            return [], []
        diffs = np.vstack(self._diffs)  # (n, len(_LAGS)) float32, NaN where t < lag
        cuts, glitches = self._hard_cuts(diffs)
        cuts = sorted(set(cuts) | set(self._dissolves(diffs, cuts)))
        kept: list[int] = []
        for cut in cuts:
            if not kept and cut >= self.min_shot_frames or kept and cut - kept[-1] >= self.min_shot_frames:
                kept.append(cut)
        bounds = [0, *kept, n]
        shots = [
            Shot(i + 1, start, end - 1, self._times[start], self._end_time(end - 1))
            for i, (start, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
        ]
        return shots, [Glitch(f, self._times[f]) for f in sorted(glitches)]

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
        for t in np.flatnonzero(d1 >= self.threshold):
            t = int(t)
            if t in glitches:
                continue
            around = np.concatenate([d1[max(1, t - 10) : t], d1[t + 3 : t + 11]])
            if len(around) and d1[t] < LOCAL_CONTRAST * float(np.median(around)):
                continue  # fast motion: every step is large
            # Does frame t + j look like frame t - 1 again? Then t..t+j-1 was a glitch.
            back = None
            for j in range(1, min(self.min_shot_frames, len(_LAGS) - 1) + 1):
                if t + j < n and diffs[t + j, j] < self.threshold / 2:
                    back = j
                    break
            if back is None:
                cuts.append(t)
            else:
                glitches.update(range(t, t + back))
        return cuts, glitches

    @staticmethod
    def _is_monotone(diffs: np.ndarray, start: int, end: int) -> bool:
        """A blend changes the picture in one direction, so the difference across
        LONG_LAG frames nearly equals the sum of the steps; motion wanders, and
        its steps add up to far more (measured: motion <= 0.66, a blend ~ 1)."""
        d1 = np.nan_to_num(diffs[:, 0])
        best = 0.0
        for t in range(max(start, LONG_LAG), end + 1):
            steps = float(d1[t - LONG_LAG + 1 : t + 1].sum())
            best = max(best, float(diffs[t, -1]) / max(steps, 1e-6))
        return best >= MONOTONE_RATIO

    def _dissolves(self, diffs: np.ndarray, cuts: list[int]) -> list[int]:
        """Centres of gradual transitions that no hard cut explains."""
        long = np.nan_to_num(diffs[:, -1])
        high = long >= self.threshold
        found: list[int] = []
        t = 0
        n = len(long)
        while t < n:
            if not high[t]:
                t += 1
                continue
            start = t
            while t < n and high[t]:
                t += 1
            end = t - 1  # run of frames whose picture differs from LONG_LAG frames before
            length = end - start + 1
            near_cut = any(start - LONG_LAG <= c <= end + 1 for c in cuts)
            if not near_cut and length <= MAX_DISSOLVE and self._is_monotone(diffs, start, end):
                found.append(max(0, (start + end - LONG_LAG + 1) // 2 + 1))
        return found
