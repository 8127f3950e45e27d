"""Frames kept as tensors on the device (the GPU face pass), run here on the CPU: face
crops and attribute measures from a tensor frame equal those from the numpy frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drift_audit.faces.attributes import measure, measure_near
from drift_audit.faces.crop import crop_faces
from drift_audit.types import Faces
from tests.generated import MEDIA, needs_media


def smooth_frame(height: int = 360, width: int = 640, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (1, 3, 9, 16)).astype(np.float32)
    big = torch.nn.functional.interpolate(
        torch.from_numpy(small), size=(height, width), mode="bicubic"
    )
    return big.clamp(0, 255).round().to(torch.uint8)[0].permute(1, 2, 0).numpy().copy()


def faces(boxes: list[list[float]]) -> Faces:
    xyxy = np.array(boxes, np.float32)
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    size = (xyxy[:, 2:] - xyxy[:, :2])[:, :1]
    offsets = np.array([[-0.2, -0.1], [0.2, -0.1], [0, 0.05], [-0.15, 0.25], [0.15, 0.25]])
    landmarks = (centre[:, None, :] + offsets[None] * size[:, None, :]).astype(np.float32)
    return Faces(np.zeros(len(xyxy), np.int64), xyxy, np.ones(len(xyxy), np.float32), landmarks)


# A face in the middle, a small one, a large one (the crop shrinks it), and one at the
# frame's corner (the crop runs off the frame: replicated borders).
BOXES = [[270, 120, 370, 240], [40, 40, 80, 90], [300, 20, 600, 340], [-20, 280, 60, 380]]


def test_tensor_crops_are_the_numpy_crops() -> None:
    frame = smooth_frame()
    found = faces(BOXES)
    ref = crop_faces(frame, found)
    got = crop_faces(torch.from_numpy(frame), found)
    diff = np.abs(ref.images.astype(int) - got.images.astype(int))
    assert diff.max() <= 1  # rounding
    assert diff.mean() < 0.05
    assert np.allclose(ref.landmarks, got.landmarks, atol=1e-3)


def test_attribute_measures_from_the_pixels_near_the_face_are_the_whole_frames() -> None:
    frame = smooth_frame(seed=1)
    found = faces(BOXES)
    tensor = torch.from_numpy(frame)
    for box, landmarks in zip(found.xyxy, found.landmarks, strict=True):
        assert np.array_equal(measure(frame, box, landmarks), measure_near(tensor, box, landmarks))


@needs_media
@pytest.mark.slow
def test_on_real_faces_too() -> None:
    import cv2

    from drift_audit.faces.detect import MTCNNDetector

    detector = MTCNNDetector()
    for name in ("group/obama_biden_1.jpg", "faces/alex_lacamoire/alex2.jpg"):
        rgb = cv2.cvtColor(cv2.imread(str(MEDIA / name)), cv2.COLOR_BGR2RGB)
        found = detector.detect(rgb[None], np.zeros(1, np.int64))
        assert len(found)
        tensor = torch.from_numpy(rgb)
        diff = np.abs(
            crop_faces(rgb, found).images.astype(int) - crop_faces(tensor, found).images.astype(int)
        )
        assert diff.max() <= 1
        for box, landmarks in zip(found.xyxy, found.landmarks, strict=True):
            assert np.array_equal(
                measure(rgb, box, landmarks), measure_near(tensor, box, landmarks)
            )
