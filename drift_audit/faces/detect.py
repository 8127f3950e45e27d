"""Face detection with facenet-pytorch's MTCNN, batched over frames."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from drift_audit.device import half_precision
from drift_audit.faces.crop import sharpness
from drift_audit.types import FaceCrops, Faces

if TYPE_CHECKING:
    import torch

    from drift_audit.faces.mtcnn import Detections


class Detector(Protocol):
    def detect(self, frames: np.ndarray, indices: np.ndarray) -> Faces:
        """Faces in a batch of frames.

        Args:
            frames: (b, H, W, 3) uint8 RGB, all the same size.
            indices: (b,) frame index of each frame, copied into `Faces.frame`.
        """
        ...

    def refine(self, frame: np.ndarray, boxes: np.ndarray, index: int) -> Faces:
        """Faces near `boxes` (faces tracked in an earlier frame) in one (H, W, 3) frame."""
        ...


class MTCNNDetector:
    """MTCNN (facenet-pytorch's networks and weights) run by `mtcnn.Cascade`: batched
    over frames and candidate boxes, on the CPU or a GPU. Boxes are in frame pixels.

    Args:
        min_face_px: smallest face side kept, in frame pixels; it sets the largest
            pyramid level (12 / min_face_px of the frame), which dominates the cost.
        confidence: smallest detector probability kept.
        max_side: the largest pyramid level is at most this long (very large frames
            then detect their faces from min_face_px * long side / max_side up).
        device: where the cascade runs.
        half: the networks in float16; None: on CUDA only (tests/test_mtcnn.py runs the
            float16 path on the CPU: the same faces as facenet-pytorch's).
    """

    def __init__(
        self,
        min_face_px: int = 32,
        confidence: float = 0.92,
        max_side: int = 960,
        device: torch.device | str = "cpu",
        half: bool | None = None,
    ) -> None:
        import torch

        from drift_audit.faces.mtcnn import Cascade

        self.min_face_px = min_face_px
        self.confidence = confidence
        self.max_side = max_side
        self.device = torch.device(device)
        self._torch = torch
        # Stage thresholds above facenet-pytorch's (0.6, 0.7, 0.7): fewer candidate
        # boxes reach stages 2 and 3; measured on 720p frames of faces: 1.3-1.8x
        # faster, the same faces at confidence 0.92.
        half = half_precision(self.device) if half is None else half
        self.cascade = Cascade(device, thresholds=(0.7, 0.8, 0.9), half=half)

    def detect(self, frames: np.ndarray, indices: np.ndarray) -> Faces:
        if len(frames) == 0:
            return Faces.empty()
        height, width = frames.shape[1:3]
        first = min(12.0 / self.min_face_px, self.max_side / max(height, width), 1.0)
        images = self._torch.as_tensor(frames).to(self.device, non_blocking=True)
        return self._keep(self.cascade.detect(images, first), indices)

    def refine(self, frame: np.ndarray, boxes: np.ndarray, index: int) -> Faces:
        """Faces near `boxes` ((m, 4) xyxy, faces tracked a moment ago) in one frame,
        without a full-frame search (`Cascade.refine`)."""
        if len(boxes) == 0:
            return Faces.empty()
        images = self._torch.as_tensor(frame[None]).to(self.device, non_blocking=True)
        found = self.cascade.refine(images, boxes, np.zeros(len(boxes), np.int64))
        return self._keep(found, np.array([index]))

    def _keep(self, found: Detections, indices: np.ndarray) -> Faces:
        """Faces above the confidence and size floors, ordered by frame, then x."""
        wh = found.boxes[:, 2:] - found.boxes[:, :2]
        side = wh.min(axis=1)
        keep = (found.scores >= self.confidence) & (side >= self.min_face_px)
        if not keep.any():
            return Faces.empty()
        order = np.lexsort((found.boxes[keep, 0], found.image[keep]))  # by frame, then x
        return Faces(
            np.asarray(indices, np.int64)[found.image[keep]][order],
            found.boxes[keep][order],
            found.scores[keep][order],
            found.landmarks[keep][order],
        )


def face_quality(faces: Faces, crops: FaceCrops | None = None) -> np.ndarray:
    """(n,) float32 in 0..1: detector confidence x size x frontalness x sharpness.

    Size saturates at 112 px (dlib and facenet both work at ~150 px crops);
    frontalness falls as the nose moves off the eyes' midline (profile faces);
    sharpness (`crop.sharpness`, from the crops when given) falls with blur and the
    smearing of heavy compression, which embed as poorly as a small face does.
    """
    if len(faces) == 0:
        return np.zeros(0, np.float32)
    size = np.clip(faces.size / 112.0, 0.0, 1.0)
    left, right, nose = faces.landmarks[:, 0], faces.landmarks[:, 1], faces.landmarks[:, 2]
    eye_dist = np.maximum(np.linalg.norm(right - left, axis=1), 1e-3)
    offset = np.abs(nose[:, 0] - (left[:, 0] + right[:, 0]) / 2) / eye_dist
    frontal = np.clip(1.0 - offset, 0.0, 1.0)
    sharp = np.ones(len(faces)) if crops is None else sharpness(crops.images)
    return (faces.score * size * (0.25 + 0.75 * frontal) * (0.25 + 0.75 * sharp)).astype(np.float32)
