"""Where each appearance attribute is measured around a face, and how a region's
pixels are sampled and summarised in one CIELAB colour (used by `attributes.measure`).
"""

from __future__ import annotations

import cv2
import numpy as np

from drift_audit.faces.colour import delta_e2000, dominant, median, rgb_to_lab

MIN_VISIBLE = 0.3  # a region less visible than this inside the frame is invalid


MIN_PIXELS = 12  # fewer usable samples than this: invalid


PATCH = 40  # regions are resampled to at most PATCH x PATCH samples


HAIR_SPAN = (1.1, 0.5)  # hair region in box widths x heights (0.1 of it below the box top)


SKIN_HUE, SKIN_CHROMA, SKIN_LIGHTNESS = 25.0, (0.7, 1.6), 30.0
HAIR_BAND = (0.0, 0.06)  # box heights skipped above the forehead (>= 1 row), then kept


HAIR_LIKE = 12.0  # ΔE2000 from the hair colour within which a sample may be hair
BACKGROUND_LIKE = 8.0  # ΔE2000 from the background's colour within which it is background
LONG_HAIR = 0.5  # share of hair-like samples beside the face that makes a side long-haired
SIDES_U = (0.5, 0.95)  # where beside the face long hair falls, in box widths off the axis


def regions(box: np.ndarray, landmarks: np.ndarray) -> dict[str, np.ndarray]:
    """Where each attribute is measured: parallelograms origin + s*ax + t*ay, s, t in 0..1.

    All but clothing follow the face's roll (the eye line):
    - skin_left, skin_right: cheek squares 0.12 box wide between each eye and mouth
      corner, 0.04 box widths outward, beside the nose;
    - hair: HAIR_SPAN on the face axis, from 0.4 box heights above the box top to 0.1
      below it (`attributes.measure` keeps the band just above the forehead);
    - upper_clothing: 0.3-1.2 box heights below the box, 1.8 box widths wide;
    - sides: 1.9 box widths wide from the box top down to the clothing, where long hair
      falls beside the face (`long_hair_sides`);
    - background_left, background_right: 0.35 x 0.4 box sizes at eye level, 1.35-1.7
      box widths off the axis, beyond most hair (`background_colour`);
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
    # beside the face from its top to the clothing (long hair falls there), and the
    # background further out at eye level
    out["sides"] = np.array([(cx - 0.95 * w, box[1]), (1.9 * w, 0), (0, 1.3 * h)])
    for name, sign in (("background_left", -1), ("background_right", 1)):
        x = cx + sign * 1.35 * w - (0.35 * w if sign < 0 else 0.0)
        out[name] = np.array([(x, box[1] + 0.2 * h), (0.35 * w, 0), (0, 0.4 * h)])
    mouth_w = float(np.hypot(*(mouth_r - mouth_l)))
    drop = float(np.dot(mouth - eyes, ey))  # eyes to mouth, along the face
    corner = mouth - 0.55 * mouth_w * ex + 0.35 * drop * ey
    out["facial_hair"] = np.array([corner, 1.1 * mouth_w * ex, 0.3 * drop * ey])
    return out


def sample(
    frame: np.ndarray, origin: np.ndarray, ax: np.ndarray, ay: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The parallelogram origin + s*ax + t*ay (s, t in 0..1) as <= PATCH x PATCH samples.

    Returns:
        (h, w, 3) float32 Lab samples and (h, w) bool: the samples inside the frame.
    """
    height, width = frame.shape[:2]
    len_x, len_y = float(np.hypot(*ax)), float(np.hypot(*ay))
    nw, nh = min(max(round(len_x), 1), PATCH), min(max(round(len_y), 1), PATCH)
    s, t = (np.arange(nw) + 0.5) / nw, (np.arange(nh) + 0.5) / nh
    # (nh, nw) frame pixels, x and y apart: numpy is slow over a last axis of 2 (the
    # same sums, origin + s * ax first, as one (nh, nw, 2) array)
    x = (origin[0] + s * ax[0])[None, :] + (t * ay[0])[:, None]
    y = (origin[1] + s * ax[1])[None, :] + (t * ay[1])[:, None]
    inside = (x >= 0) & (y >= 0) & (x < width) & (y < height)
    src = frame
    scale = min(1.0, 2.0 * max(nw / max(len_x, 1e-6), nh / max(len_y, 1e-6)))
    if scale < 1.0 and inside.any():
        # area-average the region's bounding crop first, so sparse samples do not alias
        x_in, y_in = x[inside], y[inside]
        x0, y0 = max(int(np.floor(x_in.min())) - 1, 0), max(int(np.floor(y_in.min())) - 1, 0)
        x1, y1 = int(np.ceil(x_in.max())) + 2, int(np.ceil(y_in.max())) + 2
        crop = frame[y0 : min(y1, height), x0 : min(x1, width)]
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        src = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        x, y = (x - x0) * (size[0] / crop.shape[1]), (y - y0) * (size[1] / crop.shape[0])
    # OpenCV's default border, constant black: samples outside the frame are masked off
    # (`inside`), but bilinear ones within half a pixel of its edge blend with black.
    # (BORDER_REPLICATE was once passed here in `dst`'s place, where it did nothing.)
    map_x, map_y = (x - 0.5).astype(np.float32), (y - 0.5).astype(np.float32)
    return rgb_to_lab(cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR)), inside


def region_colour(
    lab: np.ndarray, keep: np.ndarray, visible: float, robust: bool = False
) -> np.ndarray:
    """(4,) float32 [L, a, b, valid] from (n, 3) samples and the (n,) mask of usable ones.

    `robust` takes the median of all usable samples instead of the dominant cluster's:
    for regions of one material (cheeks, chin), where clusters only split shading or
    beard strands from skin, and choosing one of them is noise.
    """
    if visible < MIN_VISIBLE or keep.sum() < MIN_PIXELS:
        return np.zeros(4, np.float32)
    colour = median(lab[keep]) if robust else dominant(lab[keep])
    return np.append(colour, 1.0).astype(np.float32)


def skin_like(lab: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(...) bool: samples of the skin's hue and chroma, however shaded or lit.

    Shading moves skin's lightness far more than its hue, so lightness gets a wide
    tolerance; but shade takes chroma with lightness, so a darker sample may have at
    most the skin's chroma scaled by its lightness ratio: auburn hair has the skin's
    hue and far more chroma for its lightness (Lab (27, 24, 28) beside an under-exposed
    face's skin (48, 22, 18)). Grey, white and dark hair fail on chroma, blond on hue.
    """
    chroma, ref_chroma = np.hypot(lab[..., 1], lab[..., 2]), max(float(np.hypot(*skin[1:])), 1.0)
    turn = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(skin[2], skin[1]))
    shade = np.clip(lab[..., 0] / max(float(skin[0]), 1.0), 0.0, 1.0)
    return (
        (np.abs((turn + 180) % 360 - 180) < SKIN_HUE)
        & (chroma > SKIN_CHROMA[0] * ref_chroma)
        & (chroma < SKIN_CHROMA[1] * ref_chroma)
        & (chroma < SKIN_CHROMA[1] * ref_chroma * shade)
        & (np.abs(lab[..., 0] - skin[0]) < SKIN_LIGHTNESS)
    )


def hairline_band(skin: np.ndarray, inside: np.ndarray) -> np.ndarray:
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


def hair_like(lab: np.ndarray, hair: np.ndarray) -> np.ndarray:
    """(...) bool: samples within HAIR_LIKE of the hair colour."""
    return np.asarray(delta_e2000(lab, hair) < HAIR_LIKE)


def long_hair_sides(
    lab: np.ndarray, inside: np.ndarray, hair: np.ndarray, skin: np.ndarray
) -> tuple[bool, bool]:
    """Whether hair of the hairline's colour falls down the left and right of the face
    to the shoulders (long hair), from the "sides" region's samples.

    A side is long-haired when at least LONG_HAIR of its samples beside the face
    (SIDES_U) are hair-like and not skin, row after row down to the clothing: hair
    continuing from the hairline, not a patch of hair colour somewhere.

    Args:
        lab: (h, w, 3) samples of the "sides" region; inside: (h, w) bool.
        hair: (3,) Lab of the hair (from the hairline band).
        skin: (h, w) bool, the samples like the cheeks' colour.
    """
    cols = lab.shape[1]
    u = (np.arange(cols) + 0.5) / cols * 1.9 - 0.95
    # the bottom row first, both sides in one ΔE2000 call: on most faces it is not hair
    # (16 of 344 sides of 180 faces of real clips were), and then no other row is needed
    bottom = hair_like(lab[-1], hair) & inside[-1] & ~skin[-1]  # (w,)
    left, right = (
        bool(side.any() and bottom[side].mean() >= 0.5)
        and _hair_down_the_side(lab[:, side], inside[:, side], hair, skin[:, side])
        for side in (u < -SIDES_U[0], u > SIDES_U[0])
    )
    return left, right


def _hair_down_the_side(
    lab: np.ndarray, inside: np.ndarray, hair: np.ndarray, skin: np.ndarray
) -> bool:
    """`long_hair_sides`' row test for one side whose bottom row is hair, from its
    (h, k >= 1) columns beside the face."""
    rows = (hair_like(lab, hair) & inside & ~skin).mean(axis=1) >= 0.5
    seen = inside.any(axis=1)
    return bool(seen.sum() and rows[seen].mean() >= LONG_HAIR)


def clothing_without_hair(
    lab: np.ndarray, inside: np.ndarray, hair: np.ndarray, sides: tuple[bool, bool]
) -> np.ndarray:
    """(h, w) bool: the clothing samples that are not long hair lying on it.

    On a long-haired side, each column's hair-like run from the region's top (the hair
    falling on from above, >= 75 % hair-like so strands and shadows do not end it)
    is hair, not clothing.
    """
    rows, cols = inside.shape
    like = hair_like(lab, hair) & inside
    height = np.arange(1, rows + 1)[:, None]
    run = np.where(like & (np.cumsum(like, axis=0) >= 0.75 * height), height, 0).max(axis=0)
    u = (np.arange(cols) + 0.5) / cols * 1.8 - 0.9
    long = np.where(u < 0, sides[0], sides[1])
    return inside & ~((np.arange(rows)[:, None] < run) & long)


def background_colour(samples: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """(3,) Lab of the background beside the head (the "background_*" regions), or None
    when too little of it is in the frame."""
    lab = np.concatenate([s[0].reshape(-1, 3) for s in samples])
    keep = np.concatenate([s[1].ravel() for s in samples])
    if keep.sum() < MIN_PIXELS:
        return None
    return dominant(lab[keep])
