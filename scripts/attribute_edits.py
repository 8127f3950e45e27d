#!/usr/bin/env python3
"""Deliberately edited versions of real photos, for testing `drift_audit.attributes`.

Each edit changes one appearance attribute of the face it is given, the way a
generator drifting between clips might: hair recoloured (dark -> blond, dark -> red),
clothing recoloured, a beard painted on, the skin tinted. The masks are built from the
face box and landmarks and the colours around them, independently of the regions
`attributes.measure` samples, so an edit is not just the measurement run backwards.

Usage:
    python scripts/attribute_edits.py OUTDIR   # writes every edit of every photo as PNG
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from drift_audit.attributes import delta_e2000, rgb_to_lab  # noqa: E402

MEDIA = REPO_ROOT.parent / "shared" / "media"

BLOND = np.array([72.0, 4.0, 30.0])  # Lab of light golden-blond hair
RED_HAIR = np.array([32.0, 48.0, 22.0])  # Lab of dyed cherry-red hair
BURGUNDY = np.array([28.0, 32.0, 10.0])  # Lab of a burgundy jacket
LIGHT_GREY = np.array([72.0, 0.0, 4.0])  # Lab of a light grey jacket
TAN = np.array([-15.0, 12.0, 22.0])  # Lab shift: skin turned darker and orange


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) CIELAB (true units) -> (..., 3) uint8 RGB, clipped to the gamut."""
    flat = np.asarray(lab, np.float32).reshape(-1, 1, 3)
    rgb = cv2.cvtColor(flat, cv2.COLOR_LAB2RGB).reshape(np.shape(lab))
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) float32 0..1: a binary mask cleaned of specks and feathered by `sigma` px."""
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur(m.astype(np.float32), (0, 0), max(sigma, 0.5))


def _like(lab: np.ndarray, ref: np.ndarray, tolerance: float) -> np.ndarray:
    """(H, W) bool: pixels within `tolerance` ΔE2000 of the colour `ref`."""
    return delta_e2000(lab, ref) < tolerance


def _cheeks(lab: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(3,) Lab: the median of two squares beside the nose, under each eye."""
    half = max(1, int(0.05 * (box[2] - box[0])))
    patches = []
    for eye, corner in ((landmarks[0], landmarks[3]), (landmarks[1], landmarks[4])):
        x, y = ((eye + corner) / 2).astype(int)
        patches.append(lab[max(y - half, 0) : y + half, max(x - half, 0) : x + half].reshape(-1, 3))
    return np.median(np.concatenate(patches), axis=0)


def _skin(lab: np.ndarray, cheeks: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of the cheeks' hue and chroma, whatever their lightness
    (so shaded skin, a forehead under a fringe, counts too)."""
    chroma, ref_chroma = np.hypot(lab[..., 1], lab[..., 2]), float(np.hypot(*cheeks[1:]))
    turn = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(cheeks[2], cheeks[1]))
    return (chroma > 0.6 * ref_chroma) & (np.abs((turn + 180) % 360 - 180) < 25)


def recolour(frame: np.ndarray, mask: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The frame with `shift` (Lab) added where `mask` (0..1) is set, texture kept."""
    lab = rgb_to_lab(frame)
    out = lab + mask[..., None] * np.asarray(shift, np.float32)
    out[..., 0] = np.clip(out[..., 0], 0, 100)
    return lab_to_rgb(out)


def _foreground(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(H, W) bool: the head, cut from the background by GrabCut.

    GrabCut starts from the face (certain), a head-shaped ellipse around it (likely)
    and a frame around that (background), on the neighbourhood shrunk to <= 160 px,
    so it takes ~0.1 s.
    """
    height, width = frame.shape[:2]
    h, w = box[3] - box[1], box[2] - box[0]
    cx0, cy0 = int(max(0, box[0] - 0.6 * w)), int(max(0, box[1] - 0.8 * h))
    cx1, cy1 = int(min(width, box[2] + 0.6 * w)), int(min(height, box[3] + 0.1 * h))
    scale = min(1.0, 160 / max(cx1 - cx0, cy1 - cy0))
    small = cv2.resize(
        frame[cy0:cy1, cx0:cx1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
    )
    rows, cols = np.mgrid[0 : small.shape[0], 0 : small.shape[1]]
    x, y = cols / scale + cx0, rows / scale + cy0  # frame pixels
    cx = (box[0] + box[2]) / 2
    mask = np.full(small.shape[:2], cv2.GC_BGD, np.uint8)
    head = ((x - cx) / (0.85 * w)) ** 2 + ((y - box[1] - 0.3 * h) / (0.95 * h)) ** 2 <= 1
    mask[head] = cv2.GC_PR_FGD
    face = (np.abs(x - cx) < 0.3 * w) & (y > box[1] + 0.1 * h) & (y < box[3] - 0.1 * h)
    mask[face] = cv2.GC_FGD
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means
    models = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(small[..., ::-1].copy(), mask, None, *models, 3, cv2.GC_INIT_WITH_MASK)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    out = np.zeros((height, width), bool)
    out[cy0:cy1, cx0:cx1] = (
        cv2.resize(fg, (cx1 - cx0, cy1 - cy0), interpolation=cv2.INTER_NEAREST) > 0
    )
    return out


def hair_mask(frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(H, W) float32: dark hair on top and at the sides of the head.

    The head is segmented from the background with GrabCut; hair is its dark,
    low-chroma, non-skin part above the eyebrows (beside the face: above the eyes).
    Meant for dark hair: the edits below turn dark hair blond or red.
    """
    h, w = box[3] - box[1], box[2] - box[0]
    height, width = frame.shape[:2]
    lab = rgb_to_lab(frame)
    cheeks = _cheeks(lab, box, landmarks)
    rows, cols = np.mgrid[0:height, 0:width]
    cx, eye_y = (box[0] + box[2]) / 2, landmarks[:2, 1]
    central = np.abs(cols - cx) < 0.35 * w
    area = np.where(central, rows < eye_y.min() - 0.15 * h, rows < eye_y.max())
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    dark = (lab[..., 0] < min(55.0, cheeks[0] - 15.0)) & (chroma < 25.0)
    return _soft(_foreground(frame, box) & area & dark & ~_skin(lab, cheeks), 0.01 * h)


def clothing_mask(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(H, W) float32: the garment below the chin, the colour of its bulk."""
    h, w = box[3] - box[1], box[2] - box[0]
    lab = rgb_to_lab(frame)
    rows, cols = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]]
    cx = (box[0] + box[2]) / 2
    area = (rows > box[3] + 0.15 * h) & (np.abs(cols - cx) < 1.4 * w)
    probe = lab[
        int(box[3] + 0.5 * h) : int(box[3] + 1.1 * h), int(cx - 0.9 * w) : int(cx + 0.9 * w)
    ]
    if probe.size == 0:
        return np.zeros(frame.shape[:2], np.float32)
    flat = probe.reshape(-1, 3)
    # the bulk: pixels within 15 ΔE of the median, refined once
    ref = np.median(flat, axis=0)
    ref = np.median(flat[delta_e2000(flat, ref) < 15.0], axis=0)
    return _soft(area & _like(lab, ref, 18.0), 0.01 * h)


def recolour_hair(
    frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray, target: np.ndarray = BLOND
) -> np.ndarray:
    """The photo with the hair shifted to the Lab colour `target` (texture kept)."""
    mask = hair_mask(frame, box, landmarks)
    lab = rgb_to_lab(frame)
    ref = np.average(lab.reshape(-1, 3), axis=0, weights=mask.ravel() + 1e-9)
    return recolour(frame, mask, target - ref)


def recolour_clothing(
    frame: np.ndarray, box: np.ndarray, target: np.ndarray = BURGUNDY
) -> np.ndarray:
    """The photo with the garment below the chin shifted to the Lab colour `target`."""
    mask = clothing_mask(frame, box)
    lab = rgb_to_lab(frame)
    ref = np.average(lab.reshape(-1, 3), axis=0, weights=mask.ravel() + 1e-9)
    return recolour(frame, mask, target - ref)


def paint_beard(
    frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray, seed: int = 0
) -> np.ndarray:
    """The photo with a dark, slightly textured beard over the chin and upper lip.

    An ellipse from below the nose to past the chin, as wide as the jaw, with the
    lips left free, blended at 85% over the skin with feathered edges.
    """
    h = box[3] - box[1]
    nose, mouth_l, mouth_r = landmarks[2], landmarks[3], landmarks[4]
    mouth = (mouth_l + mouth_r) / 2
    mouth_w = float(np.hypot(*(mouth_r - mouth_l)))
    top = nose[1] + 0.35 * (mouth[1] - nose[1])
    bottom = box[3] + 0.06 * h
    rows, cols = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]].astype(np.float32)
    beard = ((cols - mouth[0]) / (0.95 * mouth_w)) ** 2 + (
        (rows - (top + bottom) / 2) / ((bottom - top) / 2)
    ) ** 2 <= 1
    lips = ((cols - mouth[0]) / (0.5 * mouth_w)) ** 2 + ((rows - mouth[1]) / (0.1 * h)) ** 2 <= 1
    alpha = 0.85 * cv2.GaussianBlur((beard & ~lips).astype(np.float32), (0, 0), 0.015 * h)
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, frame.shape[:2]).astype(np.float32), (0, 0), 0.8)
    hair = np.array([38.0, 30.0, 24.0], np.float32) + 14.0 * noise[..., None] / noise.std()
    out = frame.astype(np.float32) * (1 - alpha[..., None]) + hair * alpha[..., None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def tint_skin(
    frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray, shift: np.ndarray = TAN
) -> np.ndarray:
    """The photo with the skin of the face, forehead and neck shifted by `shift` (Lab)."""
    h, w = box[3] - box[1], box[2] - box[0]
    lab = rgb_to_lab(frame)
    rows, cols = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]]
    cx, cy = (box[0] + box[2]) / 2, box[1] + 0.45 * h
    head = ((cols - cx) / (0.7 * w)) ** 2 + ((rows - cy) / (0.8 * h)) ** 2 <= 1
    skin = head & _skin(lab, _cheeks(lab, box, landmarks))
    return recolour(frame, _soft(skin, 0.01 * h), shift)


EDITS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "hair_blond": lambda f, b, lm: recolour_hair(f, b, lm, BLOND),
    "hair_red": lambda f, b, lm: recolour_hair(f, b, lm, RED_HAIR),
    "clothing_burgundy": lambda f, b, lm: recolour_clothing(f, b, BURGUNDY),
    "clothing_light_grey": lambda f, b, lm: recolour_clothing(f, b, LIGHT_GREY),
    "beard": paint_beard,
    "skin_tan": tint_skin,
}
"""Edit name -> function(frame, box, landmarks) -> edited frame (all (H, W, 3) uint8 RGB)."""
