#!/usr/bin/env python3
"""Deliberately edited versions of real photos, for testing `drift_audit.faces.attributes`.

Each edit changes one appearance attribute, the way a generator drifting between
clips might: dark hair turned blond or red, the garment below the chin recoloured,
a beard painted on, the skin tinted; and, on long hair painted over the shoulders
(none of the photos has any), auburn hair turned near-black, brown hair turned blond,
the coat under the hair recoloured, and the whole photo relit as controls. The masks
come from the face box, landmarks, colours and a GrabCut of the head, not from the
regions `attributes.measure` samples, so an edit is not the measurement run backwards.

Usage:
    python scripts/attribute_edits.py OUTDIR   # each photo in ../shared/media/faces
                                               # and its edits, side by side, as PNG
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from drift_audit.faces.colour import delta_e2000, lab_to_rgb, rgb_to_lab  # noqa: E402

MEDIA = REPO_ROOT.parent / "shared" / "media"

BLOND = np.array([72.0, 4.0, 30.0])  # Lab of golden-blond hair
RED_HAIR = np.array([32.0, 48.0, 22.0])  # Lab of dyed cherry-red hair
BURGUNDY = np.array([28.0, 32.0, 10.0])  # Lab of a burgundy jacket
LIGHT_GREY = np.array([72.0, 0.0, 4.0])  # Lab of a light grey jacket
TAN = np.array([-15.0, 12.0, 22.0])  # Lab shift: skin turned darker and orange
BEARD = np.array([38.0, 30.0, 24.0])  # RGB of the painted beard (dark brown)

AUBURN = np.array([27.0, 24.0, 28.0])  # Lab of long auburn hair (issue 12: 26, 23, 27)
NEAR_BLACK = np.array([26.0, 3.0, 5.0])  # Lab of the same hair dyed near-black
BROWN = np.array([32.0, 7.0, 14.0])  # Lab of mid-brown hair
WARM_DIM = (0.75, 0.6, 0.42)  # linear-light gains: tungsten, a stop darker
COOL_BRIGHT = (1.1, 1.25, 1.5)  # linear-light gains: bluish shade light, brighter

EDITS = {
    "hair_blond": "hair",
    "hair_red": "hair",
    "clothing_burgundy": "upper_clothing",
    "clothing_light_grey": "upper_clothing",
    "beard": "facial_hair",
    "skin_tan": "skin",
}
"""Edit name -> the attribute it changes."""

LONG_HAIR_EDITS = {
    "long_black": ("long_red", "hair"),
    "long_blond": ("long_brown", "hair"),
    "long_red_coat": ("long_red", "upper_clothing"),
    "long_red_warm": ("long_red", None),
    "long_brown_cool": ("long_brown", None),
}
"""Edits on long hair painted on the photo: name -> (the edit it is compared with, the
attribute it changes or None for a control). long_red and long_brown paint long auburn
and brown hair; long_black and long_blond recolour it; long_red_coat recolours the coat
under the auburn hair; the controls relight the whole photo (WARM_DIM, COOL_BRIGHT)."""


def load_photo(path: Path, max_side: int = 640) -> np.ndarray:
    """(H, W, 3) uint8 RGB, shrunk (area averaging) so its longer side is <= max_side."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    scale = max_side / max(bgr.shape[:2])
    if scale < 1:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(bgr[..., ::-1])


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) float32 0..1: a binary mask cleaned of specks and feathered by `sigma` px."""
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur(m.astype(np.float32), (0, 0), max(sigma, 0.5))


def shift(frame: np.ndarray, mask: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The frame with the Lab `offset` added in proportion to `mask` (0..1), texture kept."""
    lab = rgb_to_lab(frame) + mask[..., None] * np.asarray(offset, np.float32)
    lab[..., 0] = np.clip(lab[..., 0], 0, 100)
    return lab_to_rgb(lab)


def shift_to(frame: np.ndarray, mask: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The frame with the masked pixels moved so that their mean Lab colour is `target`."""
    lab = rgb_to_lab(frame).reshape(-1, 3)
    mean = np.average(lab, axis=0, weights=mask.ravel() + 1e-9)
    return shift(frame, mask, np.asarray(target) - mean)


def relight(frame: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """The whole frame under another light: per-channel gains in linear light."""
    linear = (frame.astype(np.float32) / 255.0) ** 2.2 * np.array(gains, np.float32)
    out = np.clip(linear, 0.0, 1.0) ** (1 / 2.2)
    return np.clip(np.round(255.0 * out), 0, 255).astype(np.uint8)


def long_hair_mask(shape: tuple[int, int], box: np.ndarray) -> np.ndarray:
    """(H, W) float32 0..1: long hair around a face box: a cap from above the skull to
    the forehead and two curtains beside the face that fall over the shoulders (to 2.2
    box heights below the box top), narrowing below the chin; the face oval left free.
    The shape follows the box only, not the regions the attributes are measured in."""
    fx0, fy0, fx1, fy1 = (float(v) for v in box)
    w, h = fx1 - fx0, fy1 - fy0
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    u, v = (xx - (fx0 + fx1) / 2) / w, (yy - fy0) / h
    cap = (u / 0.95) ** 2 + ((v - 0.25) / 0.88) ** 2 <= 1
    taper = np.clip((v - 1.0) / 0.4, 0.0, 1.0)
    curtains = (np.abs(u) < 0.95) & (np.abs(u) > 0.46 - 0.16 * taper) & (v > 0.2) & (v < 2.2)
    face = (u / 0.46) ** 2 + ((v - 0.6) / 0.5) ** 2 <= 1
    hair = ((cap | curtains) & ~face).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(hair, (0, 0), 1.2), np.float32)


def hair_texture(shape: tuple[int, int], lab: np.ndarray, seed: int = 7) -> np.ndarray:
    """(H, W, 3) float32 RGB 0..1: hair of Lab colour `lab`, streaked along its length
    (lightness +-4 in vertical strands)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, shape).astype(np.float32)
    strands = cv2.GaussianBlur(noise, (0, 0), 0.7, sigmaY=5)
    img = np.empty((*shape, 3), np.float32)
    img[:] = lab
    img[..., 0] += 4.0 * strands / max(float(strands.std()), 1e-6)
    return lab_to_rgb(img).astype(np.float32) / 255.0


def paint_long_hair(frame: np.ndarray, box: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """The frame with long hair of colour `lab` painted around the face (long_hair_mask)."""
    mask = long_hair_mask(frame.shape[:2], box)[..., None]
    rgb = hair_texture(frame.shape[:2], lab)
    out = frame.astype(np.float32) / 255.0 * (1 - mask) + rgb * mask
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def head_foreground(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(H, W) bool: the head cut from the background by GrabCut.

    GrabCut starts from the face (certain), a head-shaped ellipse around it (likely)
    and the rest of a frame around that (background), on the neighbourhood shrunk to
    <= 160 px, so that it takes about 0.1 s.
    """
    height, width = frame.shape[:2]
    h, w = box[3] - box[1], box[2] - box[0]
    x0, y0 = int(max(0, box[0] - 0.6 * w)), int(max(0, box[1] - 0.8 * h))
    x1, y1 = int(min(width, box[2] + 0.6 * w)), int(min(height, box[3] + 0.1 * h))
    scale = min(1.0, 160 / max(x1 - x0, y1 - y0))
    small = cv2.resize(frame[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    rows, cols = np.mgrid[0 : small.shape[0], 0 : small.shape[1]]
    x, y = cols / scale + x0, rows / scale + y0  # frame pixels
    cx = (box[0] + box[2]) / 2
    mask = np.full(small.shape[:2], cv2.GC_BGD, np.uint8)
    mask[((x - cx) / (0.85 * w)) ** 2 + ((y - box[1] - 0.3 * h) / (0.95 * h)) ** 2 <= 1] = (
        cv2.GC_PR_FGD
    )
    mask[(np.abs(x - cx) < 0.3 * w) & (y > box[1] + 0.1 * h) & (y < box[3] - 0.1 * h)] = cv2.GC_FGD
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means
    models = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(small[..., ::-1].copy(), mask, None, *models, 3, cv2.GC_INIT_WITH_MASK)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    out = np.zeros((height, width), bool)
    out[y0:y1, x0:x1] = cv2.resize(fg, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST) > 0
    return out


class PhotoEdits:
    """The edits of one face in one photo; each mask is built once.

    Args:
        frame: (H, W, 3) uint8 RGB.
        box: (4,) xyxy face box.
        landmarks: (5, 2) eyes, nose, mouth corners (MTCNN order).
    """

    def __init__(self, frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> None:
        self.frame = frame
        self.box = np.asarray(box, np.float64)
        self.landmarks = np.asarray(landmarks, np.float64)
        self.lab = rgb_to_lab(frame)  # (H, W, 3) float32
        self.h, self.w = self.box[3] - self.box[1], self.box[2] - self.box[0]
        self.rows, self.cols = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]]

    @cached_property
    def cheeks(self) -> np.ndarray:
        """(3,) Lab: the median of two squares beside the nose, under each eye."""
        half = max(1, int(0.05 * self.w))
        lm = self.landmarks
        patches = []
        for eye, corner in ((lm[0], lm[3]), (lm[1], lm[4])):
            x, y = ((eye + corner) / 2).astype(int)
            patch = self.lab[max(y - half, 0) : y + half, max(x - half, 0) : x + half]
            patches.append(patch.reshape(-1, 3))
        return np.median(np.concatenate(patches), axis=0)

    @cached_property
    def skin(self) -> np.ndarray:
        """(H, W) bool: pixels of the cheeks' hue and chroma, whatever their lightness
        (so that shaded skin, a forehead under a fringe, counts too)."""
        lab, ref = self.lab, self.cheeks
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        turn = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(ref[2], ref[1]))
        similar_hue = np.abs((turn + 180) % 360 - 180) < 25
        return similar_hue & (chroma > 0.6 * float(np.hypot(ref[1], ref[2])))

    @cached_property
    def hair_mask(self) -> np.ndarray:
        """(H, W) float32: dark hair on top and at the sides of the head.

        Hair is the dark, low-chroma, non-skin part of the head (GrabCut, or a skull-sized
        ellipse) above the eyebrows, or above the eyes beside the face. For dark hair.
        """
        cx, eyes_y = (self.box[0] + self.box[2]) / 2, self.landmarks[:2, 1]
        central = np.abs(self.cols - cx) < 0.35 * self.w
        area = np.where(central, self.rows < eyes_y.min() - 0.15 * self.h, self.rows < eyes_y.max())
        chroma = np.hypot(self.lab[..., 1], self.lab[..., 2])
        dark = (self.lab[..., 0] < min(55.0, self.cheeks[0] - 15.0)) & (chroma < 20.0)
        # GrabCut can lose hair against a dark background: a skull-sized ellipse keeps it
        skull = ((self.cols - cx) / (0.55 * self.w)) ** 2 + (
            (self.rows - self.box[1] - 0.35 * self.h) / (0.5 * self.h)
        ) ** 2 <= 1
        head = head_foreground(self.frame, self.box) | skull
        return _soft(head & area & dark & ~self.skin, 0.01 * self.h)

    @cached_property
    def clothing_mask(self) -> np.ndarray:
        """(H, W) float32: the garment below the chin, pixels of its bulk's colour."""
        box, h, w = self.box, self.h, self.w
        cx = (box[0] + box[2]) / 2
        probe = self.lab[
            max(0, int(box[3] + 0.5 * h)) : max(0, int(box[3] + 1.1 * h)),
            max(0, int(cx - 0.9 * w)) : max(0, int(cx + 0.9 * w)),
        ].reshape(-1, 3)
        if len(probe) == 0:
            return np.zeros(self.frame.shape[:2], np.float32)
        ref = np.median(probe, axis=0)
        ref = np.median(probe[delta_e2000(probe, ref) < 15.0], axis=0)  # the bulk's colour
        area = (self.rows > box[3] + 0.15 * h) & (np.abs(self.cols - cx) < 1.4 * w)
        return _soft(area & (delta_e2000(self.lab, ref) < 18.0), 0.01 * h)

    @cached_property
    def skin_mask(self) -> np.ndarray:
        """(H, W) float32: the skin of the face, forehead and neck."""
        cx, cy = (self.box[0] + self.box[2]) / 2, self.box[1] + 0.45 * self.h
        head = ((self.cols - cx) / (0.7 * self.w)) ** 2 + ((self.rows - cy) / (0.8 * self.h)) ** 2
        return _soft((head <= 1) & self.skin, 0.01 * self.h)

    def beard(self, seed: int = 0) -> np.ndarray:
        """The photo with a dark, slightly textured beard painted over chin and upper lip:
        an ellipse from below the nose to past the chin, the lips left free, blended at
        85% with feathered edges."""
        nose, mouth_l, mouth_r = self.landmarks[2:]
        mouth = (mouth_l + mouth_r) / 2
        mouth_w = float(np.hypot(*(mouth_r - mouth_l)))
        top, bottom = nose[1] + 0.35 * (mouth[1] - nose[1]), self.box[3] + 0.06 * self.h
        x, y = self.cols - mouth[0], self.rows
        beard = (x / (0.95 * mouth_w)) ** 2 + ((y - (top + bottom) / 2) / ((bottom - top) / 2)) ** 2
        lips = (x / (0.5 * mouth_w)) ** 2 + ((y - mouth[1]) / (0.1 * self.h)) ** 2
        region = ((beard <= 1) & (lips > 1)).astype(np.float32)
        alpha = 0.85 * cv2.GaussianBlur(region, (0, 0), 0.015 * self.h)[..., None]
        noise = np.random.default_rng(seed).normal(0, 1, self.frame.shape[:2]).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.8)
        strands = BEARD + 14.0 * (noise / noise.std())[..., None]
        out = self.frame * (1 - alpha) + strands * alpha
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    def edit(self, name: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB: the photo with the edit `name` (a key of EDITS or
        LONG_HAIR_EDITS, or long_red / long_brown)."""
        if name.startswith("long_"):
            return self.long_hair(name)
        if name == "beard":
            return self.beard()
        if name == "skin_tan":
            return shift(self.frame, self.skin_mask, TAN)
        targets = {"hair_blond": BLOND, "hair_red": RED_HAIR}
        if name in targets:
            return shift_to(self.frame, self.hair_mask, targets[name])
        targets = {"clothing_burgundy": BURGUNDY, "clothing_light_grey": LIGHT_GREY}
        return shift_to(self.frame, self.clothing_mask, targets[name])

    def long_hair(self, name: str) -> np.ndarray:
        """The long-hair edits (see LONG_HAIR_EDITS)."""
        colours = {"long_red": AUBURN, "long_black": NEAR_BLACK, "long_brown": BROWN}
        colours |= {"long_blond": BLOND, "long_red_warm": AUBURN, "long_brown_cool": BROWN}
        colours |= {"long_red_coat": AUBURN}
        base = self.edit("clothing_burgundy") if name == "long_red_coat" else self.frame
        out = paint_long_hair(base, self.box, colours[name])
        lights = {"long_red_warm": WARM_DIM, "long_brown_cool": COOL_BRIGHT}
        return relight(out, lights[name]) if name in lights else out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    from drift_audit.faces.detect import MTCNNDetector

    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    detector = MTCNNDetector(max_side=640)
    for path in sorted((MEDIA / "faces").glob("*/*")):
        frame = load_photo(path)
        faces = detector.detect(frame[None], np.array([0]))
        if not len(faces):
            continue
        i = int(np.argmax(faces.size))
        edits = PhotoEdits(frame, faces.xyxy[i], faces.landmarks[i])
        names = [*EDITS, "long_red", *LONG_HAIR_EDITS]
        row = np.hstack([frame, *(edits.edit(name) for name in names)])
        cv2.imwrite(str(out / f"{path.stem}.png"), row[..., ::-1])
        print(out / f"{path.stem}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
