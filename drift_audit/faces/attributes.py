"""Appearance attributes (hair, clothing, skin, facial hair) measured around a face.

Each attribute is the dominant CIELAB colour of a region placed relative to the face
box and its five MTCNN landmarks (`regions`); two measurements of a character are
compared with CIEDE2000 (`compare`). Pure numpy/OpenCV, no models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from drift_audit.faces.colour import colour_name, delta_e2000, dominant, rgb_to_lab

ATTRIBUTES = ("hair", "upper_clothing", "skin", "facial_hair")


HAIR, CLOTHING, SKIN, FACIAL_HAIR = range(4)


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


MIN_VISIBLE = 0.3  # a region less visible than this inside the frame is invalid


MIN_PIXELS = 12  # fewer usable samples than this: invalid


PATCH = 40  # regions are resampled to at most PATCH x PATCH samples


HAIR_SPAN = (1.1, 0.5)  # hair region in box widths x heights (0.1 of it below the box top)


SKIN_HUE, SKIN_CHROMA, SKIN_LIGHTNESS = 25.0, (0.7, 1.6), 30.0
HAIR_BAND = (0.0, 0.06)  # box heights skipped above the forehead (>= 1 row), then kept


@dataclass(frozen=True)
class AttributeChange:
    """One attribute that changed between two measurements."""

    attribute: str
    before_name: str
    after_name: str
    delta_e: float
    message_fragment: str  # e.g. "hair dark brown → blond (ΔE 31)"


def _sample(
    frame: np.ndarray, origin: np.ndarray, ax: np.ndarray, ay: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The parallelogram origin + s*ax + t*ay (s, t in 0..1) as <= PATCH x PATCH samples.

    Returns:
        (h, w, 3) float32 Lab samples and (h, w) bool: the samples inside the frame.
    """
    height, width = frame.shape[:2]
    len_x, len_y = float(np.hypot(*ax)), float(np.hypot(*ay))
    nw, nh = int(np.clip(round(len_x), 1, PATCH)), int(np.clip(round(len_y), 1, PATCH))
    s, t = (np.arange(nw) + 0.5) / nw, (np.arange(nh) + 0.5) / nh
    pts = origin + s[None, :, None] * ax + t[:, None, None] * ay  # (nh, nw, 2) frame pixels
    inside = (pts >= 0).all(axis=-1) & (pts[..., 0] < width) & (pts[..., 1] < height)
    src = frame
    scale = min(1.0, 2.0 * max(nw / max(len_x, 1e-6), nh / max(len_y, 1e-6)))
    if scale < 1.0 and inside.any():
        # area-average the region's bounding crop first, so sparse samples do not alias
        x0, y0 = np.maximum(np.floor(pts[inside].min(axis=0)).astype(int) - 1, 0)
        x1, y1 = np.ceil(pts[inside].max(axis=0)).astype(int) + 2
        crop = frame[y0 : min(y1, height), x0 : min(x1, width)]
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        src = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        pts = (pts - (x0, y0)) * (size[0] / crop.shape[1], size[1] / crop.shape[0])
    map_xy = (pts - 0.5).astype(np.float32)
    patch = cv2.remap(src, map_xy[..., 0], map_xy[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
    return rgb_to_lab(patch), inside


def _result(lab: np.ndarray, keep: np.ndarray, visible: float, robust: bool = False) -> np.ndarray:
    """(4,) float32 [L, a, b, valid] from (n, 3) samples and the (n,) mask of usable ones.

    `robust` takes the median of all usable samples instead of the dominant cluster's:
    for regions of one material (cheeks, chin), where clusters only split shading or
    beard strands from skin, and choosing one of them is noise.
    """
    if visible < MIN_VISIBLE or keep.sum() < MIN_PIXELS:
        return np.zeros(4, np.float32)
    colour = np.median(lab[keep], axis=0) if robust else dominant(lab[keep])
    return np.append(colour, 1.0).astype(np.float32)


def regions(box: np.ndarray, landmarks: np.ndarray) -> dict[str, np.ndarray]:
    """Where each attribute is measured: parallelograms origin + s*ax + t*ay, s, t in 0..1.

    All but clothing follow the face's roll (the eye line):
    - skin_left, skin_right: cheek squares 0.12 box wide between each eye and mouth
      corner, 0.04 box widths outward, beside the nose;
    - hair: HAIR_SPAN on the face axis, from 0.4 box heights above the box top to 0.1
      below it (`measure` keeps the band just above the forehead);
    - upper_clothing: 0.3-1.2 box heights below the box, 1.8 box widths wide;
    - facial_hair: the chin, 1.1 mouth widths wide, 0.35-0.65 eye-to-mouth distances
      below the mouth (from landmarks only, so box jitter does not move it).

    Args:
        box: (4,) xyxy face box in frame pixels.
        landmarks: (5, 2) eyes, nose, mouth corners (MTCNN order), frame pixels.
    Returns:
        name -> (3, 2) float64 [origin, ax, ay] in frame pixels.
    """
    box = np.asarray(box, np.float64)
    eye_l, eye_r, _, mouth_l, mouth_r = np.asarray(landmarks, np.float64)
    w, h = box[2] - box[0], box[3] - box[1]
    ex = (eye_r - eye_l) / max(float(np.hypot(*(eye_r - eye_l))), 1e-6)
    ey = np.array([-ex[1], ex[0]])  # down the face
    eyes, mouth = (eye_l + eye_r) / 2, (mouth_l + mouth_r) / 2
    out = {}
    for name, eye, corner, side in (
        ("skin_left", eye_l, mouth_l, -1),
        ("skin_right", eye_r, mouth_r, 1),
    ):
        centre = 0.55 * eye + 0.45 * corner + side * 0.04 * w * ex
        out[name] = np.array([centre - 0.06 * (w * ex + h * ey), 0.12 * w * ex, 0.12 * h * ey])
    top = eyes + ey * float(np.dot((eyes[0], box[1]) - eyes, ey))  # box top on the face axis
    span_u, span_v = HAIR_SPAN
    corner = top - span_u / 2 * w * ex - (span_v - 0.1) * h * ey
    out["hair"] = np.array([corner, span_u * w * ex, span_v * h * ey])
    cx = (box[0] + box[2]) / 2
    out["upper_clothing"] = np.array([(cx - 0.9 * w, box[3] + 0.3 * h), (1.8 * w, 0), (0, 0.9 * h)])
    mouth_w = float(np.hypot(*(mouth_r - mouth_l)))
    drop = float(np.dot(mouth - eyes, ey))  # eyes to mouth, along the face
    corner = mouth - 0.55 * mouth_w * ex + 0.35 * drop * ey
    out["facial_hair"] = np.array([corner, 1.1 * mouth_w * ex, 0.3 * drop * ey])
    return out


def _skin_like(lab: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(...) bool: samples of the skin's hue and chroma, however shaded or lit.

    Shading moves skin's lightness far more than its hue, so lightness gets a wide
    tolerance; grey, white and dark hair fail on chroma, blond on hue.
    """
    chroma, ref_chroma = np.hypot(lab[..., 1], lab[..., 2]), max(float(np.hypot(*skin[1:])), 1.0)
    turn = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(skin[2], skin[1]))
    return (
        (np.abs((turn + 180) % 360 - 180) < SKIN_HUE)
        & (chroma > SKIN_CHROMA[0] * ref_chroma)
        & (chroma < SKIN_CHROMA[1] * ref_chroma)
        & (np.abs(lab[..., 0] - skin[0]) < SKIN_LIGHTNESS)
    )


def _hairline_band(skin: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(h, w) bool: the hair region's samples just above the forehead, column by column.

    Hair borders the forehead from above while background surrounds the head, so
    in each column within 0.3 box widths of the face axis the samples kept are a
    band (HAIR_BAND) above the run of skin that rises from the region's bottom; a
    column that starts with hair (a fringe) keeps its bottom rows.

    Args:
        skin: (h, w) bool, samples like the cheeks' colour.
        inside: (h, w) bool, samples inside the frame.
    """
    rows, cols = skin.shape
    # the skin run: the most bottom rows of which >= 75% are skin, so that freckles
    # and highlights on the forehead do not end it early
    is_skin = (skin & inside)[::-1]
    height = np.arange(1, rows + 1)[:, None]
    run = np.where(is_skin & (np.cumsum(is_skin, axis=0) >= 0.75 * height), height, 0).max(axis=0)
    gap, band = (max(1, round(rows * x / HAIR_SPAN[1])) for x in HAIR_BAND)
    r = np.arange(rows)[:, None]
    keep = (r < rows - run - gap) & (r >= rows - run - gap - band)
    u = (np.arange(cols) + 0.5) / cols * HAIR_SPAN[0] - HAIR_SPAN[0] / 2
    return keep & (np.abs(u) <= 0.3) & inside & ~skin


def measure(frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The colour of each attribute's region (see `regions`) for one face.

    Hair and clothing take the dominant colour (largest k-means cluster; hair only
    from the band above the forehead, without skin-coloured samples); skin and chin,
    regions of one material, take the median.

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
    cheeks = [_sample(frame, *reg[k]) for k in ("skin_left", "skin_right")]
    lab = np.concatenate([c[0].reshape(-1, 3) for c in cheeks])  # (n, 3)
    keep = np.concatenate([c[1].ravel() for c in cheeks])  # (n,)
    out[SKIN] = _result(lab, keep, float(keep.mean()), robust=True)

    lab, inside = _sample(frame, *reg["hair"])  # (h, w, 3), (h, w)
    skin = _skin_like(lab, out[SKIN, :3]) if out[SKIN, 3] else np.zeros_like(inside)
    keep = _hairline_band(skin, inside)
    out[HAIR] = _result(lab.reshape(-1, 3), keep.ravel(), float(inside.mean()))

    for index, name in ((CLOTHING, "upper_clothing"), (FACIAL_HAIR, "facial_hair")):
        lab, inside = _sample(frame, *reg[name])
        visible = float(inside.mean())
        out[index] = _result(lab.reshape(-1, 3), inside.ravel(), visible, index == FACIAL_HAIR)
    return out


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

    Hair, clothing and skin compare colours where both sides are valid. Facial hair is
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
        names = [colour_name(anchor[i, :3]), colour_name(other[i, :3])]
        delta = float(delta_e2000(anchor[i, :3], other[i, :3], SKIN_K_L if i == SKIN else 1.0))
        changed = delta >= THRESHOLDS[ATTRIBUTES[i]]
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
            fragment = f"{label} {names[0]} → {names[1]} (ΔE {delta:.0f})"
            changes.append(AttributeChange(ATTRIBUTES[i], *names, delta, fragment))
    return changes


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
