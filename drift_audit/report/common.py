"""What every renderer shares: the verdict wording, the level of a character x clip
cell, and the thumbnails' size and pixel format.

The terminal, the HTML page and the contact sheet once each restated these, and the
terminal's copy drifted from the JSON (it ignored face evidence). Each renderer asks
here instead, and the cell's verdict is the JSON's `verdict` field itself.
"""

from __future__ import annotations

import cv2
import numpy as np

from drift_audit.identity.characters import clip_verdict
from drift_audit.types import Character, ClipResult, EmbedderInfo, Report

THUMB_PX = 112
"""Side of a face thumbnail in the HTML page and the contact sheet (pixels)."""

LEVELS = {"same": "ok", "uncertain": "unsure", "different": "bad"}
"""A clip verdict -> the level the renderers colour a cell by ("none": no verdict)."""


def cell_verdict(ch: Character, clip: int, emb: EmbedderInfo | None) -> str | None:
    """A character's verdict in a clip, exactly as the JSON report's `verdict` field.

    Args:
        ch: the character.
        clip: the clip's index.
        emb: the embedder that drew the line; None when no clip was readable.

    Returns:
        "same", "uncertain" or "different" (see `clip_verdict`), or None when the
        character has no similarity in that clip or no embedder ran.
    """
    sim = ch.clip_similarity.get(clip)
    if sim is None or emb is None:
        return None
    # A clip without an evidence score is judged on its similarity alone: missing
    # evidence is not thin evidence.
    measured = emb.calibration.measured_threshold if emb.calibration else None
    return clip_verdict(
        sim,
        ch.evidence.get(clip, 1.0),
        emb.threshold,
        emb.uncertain_margin,
        measured,
        emb.different_margin,
    )


def cell_level(ch: Character, clip: int, emb: EmbedderInfo | None) -> str:
    """The colour class of a character's cell in a clip: "ok", "unsure" (within the
    margin, or below the threshold on weak face evidence), "bad" or "none"."""
    said = cell_verdict(ch, clip, emb)
    return "none" if said is None else LEVELS[said]


def verdict(report: Report) -> str:
    """ "FAIL", "INCOMPLETE" (some input was unreadable) or "PASS"."""
    if report.failed:
        return "FAIL"
    return "INCOMPLETE" if report.unreadable else "PASS"


def readable(report: Report) -> list[ClipResult]:
    """The clips that were read, in order: the columns of every character x clip grid."""
    return [c for c in report.clips if c.status == "ok"]


def row_label(ch: Character) -> str:
    """How a grid row names a character: "C2", or "C2 officer" when cast."""
    return ch.id if ch.name is None else f"{ch.id} {ch.name}"


def as_rgb(image: np.ndarray | None) -> np.ndarray | None:
    """An (h, w, 3) uint8 RGB view of a crop (grey or RGBA accepted), or None if unusable."""
    if image is None or image.size == 0:
        return None
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        return None
    return np.ascontiguousarray(img[:, :, :3])


def thumbnail(image: np.ndarray | None) -> np.ndarray | None:
    """A crop as a (THUMB_PX, THUMB_PX, 3) uint8 BGR image ready to encode or paste,
    or None if it is unusable."""
    rgb = as_rgb(image)
    if rgb is None:
        return None
    # Shrinking wants the area filter (no aliasing); growing a small crop does not.
    interp = cv2.INTER_AREA if max(rgb.shape[:2]) > THUMB_PX else cv2.INTER_LINEAR
    square = cv2.resize(rgb, (THUMB_PX, THUMB_PX), interpolation=interp)
    return cv2.cvtColor(square, cv2.COLOR_RGB2BGR)
