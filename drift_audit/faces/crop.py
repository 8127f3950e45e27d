"""Square face crops around detected faces: what is embedded and shown."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from drift_audit.types import CROP_SCALE, CROP_SIZE, FaceCrops, Faces


def crop_faces(frame: np.ndarray, faces: Faces) -> FaceCrops:
    """Square crops centred on each face, CROP_SCALE times its box, CROP_SIZE pixels.

    Args:
        frame: (H, W, 3) uint8 RGB, the frame all `faces` were found in.
    Returns:
        Crops with landmarks mapped into crop pixels; borders are replicated.
    """
    if len(faces) == 0:
        return FaceCrops.empty()
    if not isinstance(frame, np.ndarray):
        return _crop_faces_tensor(frame, faces)
    images = np.empty((len(faces), CROP_SIZE, CROP_SIZE, 3), np.uint8)
    landmarks = np.empty((len(faces), 5, 2), np.float32)
    for i, (box, lm) in enumerate(zip(faces.xyxy, faces.landmarks, strict=True)):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        side = CROP_SCALE * max(box[2] - box[0], box[3] - box[1])
        s = CROP_SIZE / side
        matrix = np.array(
            [[s, 0, CROP_SIZE / 2 - s * cx], [0, s, CROP_SIZE / 2 - s * cy]], np.float32
        )
        images[i] = cv2.warpAffine(
            frame,
            matrix,
            (CROP_SIZE, CROP_SIZE),
            flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        landmarks[i] = lm * s + matrix[:, 2]
    return FaceCrops(images, landmarks)


SHARP, SOFT = 0.42, 0.62
"""Blur measures (`blur_measure`) of a sharp face and of one too soft to embed well.
Measured on the 15 photos of ../shared/media at a 75 px face: as taken 0.28-0.43,
after a Gaussian blur of 1.5 px 0.39-0.53, of 3 px 0.56-0.70; stylized renders
(cv2.stylization) 0.25-0.32."""


def blur_measure(face: np.ndarray) -> float:
    """How blurred a grey (h, w) float32 face is, 0 (sharp) .. 1: Crete et al.'s
    no-reference measure (2007). Blurring the face again changes a sharp one a lot and
    a blurred one little; the measure is the share of edge contrast that a 9-pixel
    box blur does not remove, the larger of the horizontal and vertical."""
    box = np.ones((1, 9), np.float32) / 9
    worst = 0.0
    for axis, kernel in ((1, box), (0, box.T)):
        edges = np.abs(np.diff(face, axis=axis))
        reblurred = np.abs(np.diff(cv2.filter2D(face, -1, kernel), axis=axis))
        total = float(edges.sum())
        if total <= 0:
            return 1.0  # a flat patch: nothing sharp in it
        lost = float(np.maximum(edges - reblurred, 0).sum())
        worst = max(worst, (total - lost) / total)
    return worst


def sharpness(images: np.ndarray) -> np.ndarray:
    """(n,) in 0..1 for (n, CROP_SIZE, CROP_SIZE, 3) uint8 crops: 1 for a sharp face,
    0 for one at or past SOFT, from the face's box inside each crop resampled to
    64 px (so the measure does not depend on the face's size)."""
    half = CROP_SIZE / CROP_SCALE / 2
    lo, hi = round(CROP_SIZE / 2 - half), round(CROP_SIZE / 2 + half)
    out = np.empty(len(images), np.float64)
    for i, image in enumerate(images):
        grey = cv2.cvtColor(image[lo:hi, lo:hi], cv2.COLOR_RGB2GRAY).astype(np.float32)
        face = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA)
        out[i] = (SOFT - blur_measure(face)) / (SOFT - SHARP)
    return np.clip(out, 0.0, 1.0)


# Two implementations of one crop, on purpose: cv2 on host frames (the CPU path),
# torch on device frames (the GPU path, which must not copy whole frames to the
# host). tests/test_tensor_frames.py holds them to the same pixels.
def _crop_faces_tensor(frame: Any, faces: Faces) -> FaceCrops:
    """`crop_faces` for an (H, W, 3) uint8 tensor on its device (a GPU frame): one
    bilinear `grid_sample` with replicated borders, what cv2.warpAffine does above
    (measured: the same pixels within rounding); only the crops reach the host."""
    import torch

    height, width = frame.shape[:2]
    device = frame.device
    box = torch.as_tensor(faces.xyxy, dtype=torch.float32, device=device)
    centre = (box[:, :2] + box[:, 2:]) / 2  # (n, 2) x, y
    side = CROP_SCALE * (box[:, 2:] - box[:, :2]).max(dim=1).values
    scale = CROP_SIZE / side  # (n,) crop pixels per frame pixel
    u = torch.arange(CROP_SIZE, dtype=torch.float32, device=device) - CROP_SIZE / 2
    xs = centre[:, :1] + u[None] / scale[:, None]  # (n, CROP_SIZE) frame x of each column
    ys = centre[:, 1:] + u[None] / scale[:, None]
    gx = (2 * xs + 1) / width - 1  # grid_sample's normalised pixel centres
    gy = (2 * ys + 1) / height - 1
    n = len(faces)
    grid = torch.stack(
        [
            gx[:, None, :].expand(n, CROP_SIZE, CROP_SIZE),
            gy[:, :, None].expand(n, CROP_SIZE, CROP_SIZE),
        ],
        dim=-1,
    )
    image = frame.permute(2, 0, 1)[None].float().expand(n, -1, -1, -1)
    crops = torch.nn.functional.grid_sample(
        image, grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    images = crops.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    s = scale.cpu().numpy()[:, None, None]
    shift = CROP_SIZE / 2 - s * centre.cpu().numpy()[:, None, :]
    landmarks = (faces.landmarks * s + shift).astype(np.float32)
    return FaceCrops(np.ascontiguousarray(images), landmarks)


def crop_face_box() -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the face in a crop (`crop_faces`): centred,
    CROP_SIZE / CROP_SCALE wide; where dlib's shape predictor looks for it."""
    half, c = CROP_SIZE / CROP_SCALE / 2, CROP_SIZE / 2
    return int(c - half), int(c - half), int(c + half), int(c + half)
