"""Evidence frames for the visual reports: one frame of a clip, re-read at report time,
downscaled, with the finding's face box drawn on it.

The analysis keeps only face crops, so the whole frame a finding points at is read
again from the clip file. A clip that moved, changed or cannot be decoded gives no
image, never an error: the report is still written.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from drift_audit.types import Evidence

FRAME_PX = 240
"""Longer side of an evidence frame thumbnail (pixels)."""

BOX_RGB = (230, 30, 30)


def _read(path: str, frame: int) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB of frame `frame` (0-based) of the clip, or None."""
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            return None
        # A seek lands on a key frame and decodes forward to the frame asked for.
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, bgr = cap.read()
    finally:
        cap.release()
    if not ok or bgr is None or bgr.ndim != 3:
        return None
    return np.ascontiguousarray(bgr[:, :, ::-1])


@lru_cache(maxsize=128)  # the HTML page and the contact sheet draw the same frames
def evidence_frame(ev: Evidence | None, max_side: int = FRAME_PX) -> np.ndarray | None:
    """The frame of a finding's best evidence face, its box drawn, as (h, w, 3) uint8 RGB
    with the longer side `max_side`; None without evidence, frame or readable file.

    Args:
        ev: the finding's evidence.
        max_side: longer side of the image returned, in pixels.

    Returns:
        The image (shared between calls: do not modify it), or None.
    """
    if ev is None or ev.frame is None:
        return None
    rgb = _read(ev.path, ev.frame)
    if rgb is None:
        return None
    scale = max_side / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, size, interpolation=interp)
    if ev.box is not None:
        x0, y0, x1, y1 = (round(v * scale) for v in ev.box)
        cv2.rectangle(small, (x0, y0), (x1, y1), BOX_RGB, 2)
    return small
