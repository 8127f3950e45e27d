"""Face detection with facenet-pytorch's MTCNN, batched over frames."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from drift_audit.types import CROP_SCALE, CROP_SIZE, FaceCrops, Faces

if TYPE_CHECKING:
    from drift_audit.mtcnn import Detections


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


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        from drift_audit.errors import ConfigError

        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    return device


class MTCNNDetector:
    """MTCNN (facenet-pytorch's networks and weights) run by `mtcnn.Cascade`: batched
    over frames and candidate boxes, on the CPU or a GPU. Boxes are in frame pixels.

    Args:
        min_face_px: smallest face side kept, in frame pixels; it sets the largest
            pyramid level (12 / min_face_px of the frame), which dominates the cost.
        confidence: smallest detector probability kept.
        max_side: the largest pyramid level is at most this long (very large frames
            then detect their faces from min_face_px * long side / max_side up).
        device: torch device string.
        half: the networks in float16; None: on CUDA only (tests/test_mtcnn.py runs the
            float16 path on the CPU: the same faces as facenet-pytorch's).
    """

    def __init__(
        self,
        min_face_px: int = 32,
        confidence: float = 0.92,
        max_side: int = 960,
        device: str = "cpu",
        half: bool | None = None,
    ) -> None:
        import torch

        from drift_audit.mtcnn import Cascade

        self.min_face_px = min_face_px
        self.confidence = confidence
        self.max_side = max_side
        self.device = device
        self._torch = torch
        # Stage thresholds above facenet-pytorch's (0.6, 0.7, 0.7): fewer candidate
        # boxes reach stages 2 and 3; measured on 720p frames of faces: 1.3-1.8x
        # faster, the same faces at confidence 0.92.
        half = device.startswith("cuda") if half is None else half
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


def face_quality(faces: Faces) -> np.ndarray:
    """(n,) float32 in 0..1: detector confidence x size x frontalness.

    Size saturates at 112 px (dlib and facenet both work at ~150 px crops);
    frontalness falls as the nose moves off the eyes' midline (profile faces).
    """
    if len(faces) == 0:
        return np.zeros(0, np.float32)
    size = np.clip(faces.size / 112.0, 0.0, 1.0)
    left, right, nose = faces.landmarks[:, 0], faces.landmarks[:, 1], faces.landmarks[:, 2]
    eye_dist = np.maximum(np.linalg.norm(right - left, axis=1), 1e-3)
    offset = np.abs(nose[:, 0] - (left[:, 0] + right[:, 0]) / 2) / eye_dist
    frontal = np.clip(1.0 - offset, 0.0, 1.0)
    return (faces.score * size * (0.25 + 0.75 * frontal)).astype(np.float32)
