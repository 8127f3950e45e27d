"""Role evidence: whether a newcomer stands in an absent character's role.

A swap is a new identity in an absent character's role whose face does not match;
a newcomer in a role of its own is a change of cast. What says "the same role":
- the same place and size in the frame, unless the clothes clearly changed (a new
  scene puts its new cast where the old one stood: left, right, centre);
- continuing clothes (upper clothing within its attribute threshold; hair may change
  with the face): the typical generator failure, a different person in the same
  costume;
- the same slot of a `--script`: the script expects the absent cast member there.

Pure functions over tracks, clips and attribute measures: no models, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drift_audit.faces.attributes import CLOTHING, HAIR, THRESHOLDS
from drift_audit.faces.colour import colour_name, delta_e2000
from drift_audit.types import ClipResult, Track

PLACE_SHIFT = 0.15
"""Largest move of the face's centre, as a fraction of the frame's width (x) and
height (y), that still counts as the same place."""

SIZE_RATIO = 1.5
"""Largest ratio of the two face heights that still counts as the same size."""


@dataclass(frozen=True)
class Where:
    """Where a character's face is in a clip: medians over its detections, as
    fractions of the frame."""

    x: float  # face centre / frame width
    y: float  # face centre / frame height
    size: float  # face height / frame height


def where(tracks: list[Track], clip: ClipResult) -> Where | None:
    """The median place and size of the tracks' faces; None without frame size."""
    info = clip.info
    if info is None or info.width <= 0 or info.height <= 0 or not tracks:
        return None
    boxes = np.concatenate([t.faces.xyxy for t in tracks]).astype(np.float64)  # (n, 4)
    cx = np.median((boxes[:, 0] + boxes[:, 2]) / 2) / info.width
    cy = np.median((boxes[:, 1] + boxes[:, 3]) / 2) / info.height
    size = np.median(boxes[:, 3] - boxes[:, 1]) / info.height
    return Where(float(cx), float(cy), float(size))


@dataclass(frozen=True)
class Role:
    """Why a newcomer does, or does not, stand in an absent character's role.

    Each field is a phrase for the finding's message, or None when it does not hold.
    """

    place: str | None = None  # the same place and size in the frame
    looks: str | None = None  # continuing clothes
    script: str | None = None  # the slot the script gives the absent cast member
    against: str | None = None  # what says it is a role of its own

    @property
    def taken(self) -> bool:
        return bool(self.place or self.looks or self.script)

    @property
    def reasons(self) -> str:
        """The role evidence as one phrase ("the same place and size; ...")."""
        return "; ".join(r for r in (self.script, self.place, self.looks) if r)


def _delta(before: np.ndarray, after: np.ndarray, i: int) -> float | None:
    """ΔE2000 of attribute i between two (4, 4) measures; None where unmeasured."""
    if not (before[i, 3] and after[i, 3]):
        return None
    return float(delta_e2000(before[i, :3], after[i, :3]))


def role(
    gone_at: Where | None,
    came_at: Where | None,
    gone_looks: np.ndarray | None,
    came_looks: np.ndarray | None,
    script: str | None = None,
) -> Role:
    """The role evidence between an absent character (as last seen) and a newcomer.

    Args:
        gone_at, came_at: where each face is (`where`); None: unknown.
        gone_looks, came_looks: (4, 4) attribute measures; None: unmeasured.
        script: the script's slot phrase when the script expects the absent cast
            member in the newcomer's clip.
    """
    against: list[str] = []
    clothes = hair = None
    if gone_looks is not None and came_looks is not None:
        clothes = _delta(gone_looks, came_looks, CLOTHING)
        hair = _delta(gone_looks, came_looks, HAIR)
    clothes_changed = clothes is not None and clothes >= THRESHOLDS["upper_clothing"]
    looks = None
    if clothes_changed:
        assert gone_looks is not None and came_looks is not None
        against.append(
            f"other clothes: upper clothing {colour_name(gone_looks[CLOTHING, :3])} → "
            f"{colour_name(came_looks[CLOTHING, :3])} (ΔE {clothes:.0f})"
        )
    elif clothes is not None:
        assert came_looks is not None
        looks = f"continuing clothes: upper clothing {colour_name(came_looks[CLOTHING, :3])} "
        looks += f"(ΔE {clothes:.0f})"
        if hair is not None and hair < THRESHOLDS["hair"]:
            looks += f" and hair {colour_name(came_looks[HAIR, :3])} (ΔE {hair:.0f})"
    place = None
    if gone_at is not None and came_at is not None:
        dx, dy = abs(came_at.x - gone_at.x), abs(came_at.y - gone_at.y)
        ratio = max(came_at.size, gone_at.size) / max(min(came_at.size, gone_at.size), 1e-6)
        same = dx <= PLACE_SHIFT and dy <= PLACE_SHIFT and ratio <= SIZE_RATIO
        if same and not clothes_changed:
            place = "the same place and size in the frame"
        elif not same:
            against.append(
                f"another place: the face moved {max(dx, dy):.2f} of the frame, size x{ratio:.1f}"
            )
    return Role(place, looks, script, "; ".join(against) or None)
