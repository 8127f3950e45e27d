"""Appearance attributes (hair, clothing, skin, facial hair) measured around a face.

Each attribute is the dominant CIELAB colour of a region placed relative to the face
box and its five MTCNN landmarks (where, and how a region is sampled: regions.py);
two measurements of a character are compared with CIEDE2000 (`compare`). Pure
numpy/OpenCV, no models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drift_audit.faces.colour import (
    chroma_hue,
    colour_name,
    dark_change,
    delta_e2000,
    hair_name,
)
from drift_audit.faces.regions import (
    BACKGROUND_LIKE,
    background_colour,
    clothing_without_hair,
    hairline_band,
    long_hair_sides,
    region_colour,
    regions,
    sample,
    skin_like,
)

ATTRIBUTES = ("hair", "upper_clothing", "skin", "facial_hair")


HAIR, CLOTHING, SKIN, FACIAL_HAIR = range(4)


BACKGROUNDS = ("background_left", "background_right")


THRESHOLDS = {"hair": 18.0, "upper_clothing": 12.0, "skin": 10.0, "facial_hair": 10.0}
"""Smallest change `compare` reports, in ΔE2000 (skin: with k_l=2).

Each lies between the largest ΔE of unchanged controls and the smallest of deliberate
edits, measured on the photos in ../shared/media (<= 640 px, MTCNN boxes; see
tests/test_attributes.py, scripts/attribute_edits.py). Controls: a photo as JPEG
q60, resized to 70% or cropped by 4% (re-detected), its box jittered by 5%; and
other photos of the same person. Largest control / other photo -> smallest edit:
- hair: 8.7 / 12.2 (Obama's greying hair in other light) -> 20.6 (dark -> red;
  dark -> blond 34-55).
- upper_clothing: 1.7 / 5.8 (the same dark suit) -> 17.8 (grey -> light grey;
  -> burgundy 23-32).
- skin: 1.2 / 8.0 -> 10.6 (a strong orange tan, 10.6-13). Light moves skin as much
  as a tint does: alex2/alex3 measure 10.2, biden1 (under-exposed)/biden2 10.9.
- facial_hair (`facial_hair_score` units): 6.3 / 15 without crossing
  FACIAL_HAIR_PRESENT -> 18.7 (a painted beard, 19-43).
"""


FACIAL_HAIR_PRESENT = 20.0
"""`facial_hair_score` from which a chin counts as bearded: shaved chins on the test
photos score 3-18 (18: a chin in shadow), the bearded ones 21-25."""


SKIN_K_L = 2.0  # skin's ΔE counts lightness at half weight: it follows the lighting


@dataclass(frozen=True)
class AttributeChange:
    """One attribute that changed between two measurements."""

    attribute: str
    before_name: str
    after_name: str
    delta_e: float
    message_fragment: str  # e.g. "hair dark brown → blond (ΔE 31)"
    before_lab: tuple[float, float, float] = (0.0, 0.0, 0.0)
    after_lab: tuple[float, float, float] = (0.0, 0.0, 0.0)


def measure(frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The colour of each attribute's region (see `regions`) for one face.

    Hair and clothing take the dominant colour (largest k-means cluster; hair only
    from the band above the forehead, without skin-coloured samples, and without the
    backdrop's colour seen beside the head: mostly backdrop-coloured, it is no hair);
    clothing without long hair lying on it (`_clothing`); skin and chin, regions of one
    material, take the median.

    Args:
        frame: (H, W, 3) uint8 RGB.
        box: (4,) xyxy face box in frame pixels.
        landmarks: (5, 2) eyes, nose, mouth corners (MTCNN order), frame pixels.
    Returns:
        (4, 4) float32: per attribute (ATTRIBUTES order) [L*, a*, b*, valid 0/1]; a
        region less than MIN_VISIBLE inside the frame, or too small, gives valid 0.
    """
    out = np.zeros((4, 4), np.float32)
    box = np.asarray(box, np.float64)
    if min(box[2] - box[0], box[3] - box[1]) < 8:
        return out
    reg = regions(box, landmarks)
    cheeks = [sample(frame, *reg[k]) for k in ("skin_left", "skin_right")]
    lab = np.concatenate([c[0].reshape(-1, 3) for c in cheeks])  # (n, 3)
    keep = np.concatenate([c[1].ravel() for c in cheeks])  # (n,)
    out[SKIN] = region_colour(lab, keep, float(keep.mean()), robust=True)

    lab, inside = sample(frame, *reg["hair"])  # (h, w, 3), (h, w)
    skin = skin_like(lab, out[SKIN, :3]) if out[SKIN, 3] else np.zeros_like(inside)
    keep = hairline_band(skin, inside)
    # what borders the forehead: hair, or the backdrop past a bald head
    above = region_colour(lab.reshape(-1, 3), keep.ravel(), float(inside.mean()))
    out[HAIR] = above  # unless some of the band is the backdrop's colour
    background = background_colour([sample(frame, *reg[k]) for k in BACKGROUNDS])
    if background is not None:  # the backdrop seen through thin hair or past a bald head
        seen = keep.copy()  # ΔE for the band's samples only, a few of the region's
        seen[keep] = delta_e2000(lab[keep], background) < BACKGROUND_LIKE
        if seen.any():  # (on 85 of 180 faces of real clips none was)
            # mostly backdrop-coloured: hair and backdrop cannot be told apart, so no hair
            keep &= ~seen if seen.sum() <= 0.5 * keep.sum() else np.zeros_like(keep)
            out[HAIR] = region_colour(lab.reshape(-1, 3), keep.ravel(), float(inside.mean()))
    out[CLOTHING] = _clothing(frame, reg, above, out[SKIN])
    lab, inside = sample(frame, *reg["facial_hair"])
    out[FACIAL_HAIR] = region_colour(lab.reshape(-1, 3), inside.ravel(), float(inside.mean()), True)
    return out


def _clothing(
    frame: np.ndarray, reg: dict[str, np.ndarray], above: np.ndarray, skin_colour: np.ndarray
) -> np.ndarray:
    """(4,) the clothing's colour, without long hair lying on it: hair of the colour
    that borders the forehead (`above`) running down both sides of the face from the
    hairline into the clothing region (even when that colour is the backdrop's: it is
    not clothing either)."""
    lab, inside = sample(frame, *reg["upper_clothing"])
    keep = inside
    if above[3]:
        sides, in_sides = sample(frame, *reg["sides"])
        skin = skin_like(sides, skin_colour[:3]) if skin_colour[3] else np.zeros_like(in_sides)
        long = long_hair_sides(sides, in_sides, above[:3], skin)
        if any(long):
            keep = clothing_without_hair(lab, inside, above[:3], long)
    return region_colour(lab.reshape(-1, 3), keep.ravel(), float(inside.mean()))


def facial_hair_score(values: np.ndarray) -> float:
    """How unlike the cheeks the chin is: ΔE2000 between the chin and skin colours.

    A beard darkens the chin: see FACIAL_HAIR_PRESENT for measured scores.

    Args:
        values: (4, 4) float32 from `measure` or `aggregate`.
    Returns:
        The score, or NaN when the skin or the chin was not measured.
    """
    if not (values[SKIN, 3] and values[FACIAL_HAIR, 3]):
        return float("nan")
    return float(delta_e2000(values[FACIAL_HAIR, :3], values[SKIN, :3]))


def aggregate(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Several faces' measurements of one person combined into one.

    Args:
        values: (n, 4, 4) float32 from `measure`.
        weights: (n,) >= 0, how much each face counts (e.g. its quality).
    Returns:
        (4, 4) float32: per attribute, the weighted median of each Lab channel over
        the faces where it is valid; valid 0 where it is valid in none.
    """
    values = np.asarray(values, np.float32).reshape(-1, 4, 4)
    weights = np.asarray(weights, np.float64).reshape(-1)
    out = np.zeros((4, 4), np.float32)
    for i in range(4):
        rows = (values[:, i, 3] > 0) & (weights > 0)
        if rows.any():
            for c in range(3):
                order = np.argsort(values[rows, i, c], kind="stable")
                cum = np.cumsum(weights[rows][order])
                out[i, c] = values[rows, i, c][order][np.searchsorted(cum, 0.5 * cum[-1])]
            out[i, 3] = 1.0
    return out


def compare(anchor: np.ndarray, other: np.ndarray) -> list[AttributeChange]:
    """The attributes that changed from `anchor` to `other` by at least THRESHOLDS.

    Hair, clothing and skin compare colours where both sides are valid; dark hair also
    changes when its chroma or hue moves more than the skin's (`dark_hair_change`:
    ΔE2000 squeezes the chroma of dark colours, auburn to black is only ΔE 15.5). Hair
    and beards are named by `colour.hair_name`, the rest by `colour_name`. Facial hair is
    reported when it appears or disappears (`facial_hair_score` crosses
    FACIAL_HAIR_PRESENT and moves by its threshold), or when a beard on both sides
    changes colour by the hair threshold; its ΔE is the chin's.

    Args:
        anchor: (4, 4) float32, the reference measurement (`measure` / `aggregate`).
        other: (4, 4) float32, the measurement to check.
    Returns:
        The changes, in ATTRIBUTES order; empty when nothing changed.
    """
    changes = []
    for i in (HAIR, CLOTHING, SKIN, FACIAL_HAIR):
        if not (anchor[i, 3] and other[i, 3]):
            continue
        namer = hair_name if i in (HAIR, FACIAL_HAIR) else colour_name
        names = [namer(anchor[i, :3]), namer(other[i, :3])]
        delta = float(delta_e2000(anchor[i, :3], other[i, :3], SKIN_K_L if i == SKIN else 1.0))
        changed = delta >= THRESHOLDS[ATTRIBUTES[i]]
        detail = ""
        if i == HAIR and not changed and dark_hair_change(anchor, other):
            changed = True
            (ca, ha), (cb, hb) = chroma_hue(anchor[i, :3]), chroma_hue(other[i, :3])
            detail = f"; dark hair, chroma {ca:.0f} → {cb:.0f}, hue {ha:.0f}° → {hb:.0f}°"
        if i == FACIAL_HAIR:
            scores = facial_hair_score(anchor), facial_hair_score(other)
            present = [s >= FACIAL_HAIR_PRESENT for s in scores]  # False when NaN
            names = [n if p else "none" for n, p in zip(names, present, strict=True)]
            moved = abs(scores[1] - scores[0]) >= THRESHOLDS["facial_hair"]
            changed = (present[0] != present[1] and moved) or (
                all(present) and delta >= THRESHOLDS["hair"]
            )
        if changed:
            label = ATTRIBUTES[i].replace("_", " ")
            fragment = f"{label} {names[0]} → {names[1]} (ΔE {delta:.0f}{detail})"
            before, after = (_lab_tuple(x[i]) for x in (anchor, other))
            changes.append(
                AttributeChange(ATTRIBUTES[i], names[0], names[1], delta, fragment, before, after)
            )
    return changes


def dark_hair_change(anchor: np.ndarray, other: np.ndarray) -> bool:
    """Whether dark hair changed colour by the hue- and chroma-aware test of
    colour.DARK_HAIR, with the skin, where both sides have it, as the light's reference.

    Args:
        anchor: (4, 4) float32 measures (ATTRIBUTES order), hair valid.
        other: (4, 4) float32 measures to compare, hair valid.
    """
    skins = (anchor[SKIN, :3], other[SKIN, :3]) if anchor[SKIN, 3] and other[SKIN, 3] else None
    return dark_change(anchor[HAIR, :3], other[HAIR, :3], skins)


def _lab_tuple(row: np.ndarray) -> tuple[float, float, float]:
    return float(row[0]), float(row[1]), float(row[2])


def changes_since_first(measures: dict[int, np.ndarray], clip: int) -> list[AttributeChange]:
    """What changed in `clip` since the character's first clip with measures.

    Args:
        measures: clip -> (4, 4) float32 aggregated measures of one character.
        clip: the clip to check.
    Returns:
        `compare` of the first clip's measures with the clip's; empty for the first
        clip itself or a clip without measures.
    """
    if not measures or clip not in measures or clip == min(measures):
        return []
    return compare(measures[min(measures)], measures[clip])


def measure_near(frame: Any, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """`measure` for a frame on the host or an (H, W, 3) tensor on a device (a GPU
    frame): only the pixels around the face's regions (their bounding box and a
    4-pixel margin, clipped to the frame) are copied to the host, where `measure`
    gives them the same values as the whole frame would."""
    if isinstance(frame, np.ndarray):
        return measure(frame, box, landmarks)
    height, width = frame.shape[:2]
    corners = []
    for origin, ax, ay in regions(box, landmarks).values():
        corners += [origin, origin + ax, origin + ay, origin + ax + ay]
    pts = np.array(corners)
    x0, y0 = np.clip(np.floor(pts.min(axis=0)).astype(int) - 4, 0, (width, height))
    x1, y1 = np.clip(np.ceil(pts.max(axis=0)).astype(int) + 5, 0, (width, height))
    if x1 <= x0 or y1 <= y0:
        return measure(np.zeros((1, 1, 3), np.uint8), box, landmarks)
    patch = frame[y0:y1, x0:x1].cpu().numpy()
    offset = np.array([x0, y0], np.float64)
    return measure(patch, np.asarray(box) - np.tile(offset, 2), np.asarray(landmarks) - offset)
