"""The batched MTCNN cascade: its parts on synthetic input, and the same faces as
facenet-pytorch's own MTCNN on real photos (skipped without ../shared/media)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from drift_audit.faces.mtcnn import CPU_PAD_ROWS, CPU_STAGE_ROWS, SMALL_STAGE, Cascade
from drift_audit.faces.mtcnn_boxes import nms_min, rerec
from drift_audit.faces.mtcnn_crops import Mips
from tests.generated import MEDIA, needs_media

THRESHOLDS = (0.7, 0.8, 0.9)


@pytest.fixture(scope="module")
def cascade() -> Cascade:
    return Cascade("cpu", THRESHOLDS)


def test_mip_crops_are_area_averages_of_the_box() -> None:
    """facenet-pytorch's crop is an area resize of the box; the mip crop matches it up
    to the mild blur of its filters, and is not shifted by a pixel."""
    rng = np.random.default_rng(0)
    small = rng.uniform(0, 255, (1, 3, 12, 20)).astype(np.float32)
    image = torch.nn.functional.interpolate(
        torch.from_numpy(small), size=(240, 400), mode="bicubic"
    )
    image = image.clamp(0, 255).round().to(torch.uint8)
    mips = Mips(image)
    rois = [[0, 100, 40, 196, 136], [0, 10, 10, 34, 34], [0, 0, 0, 240, 240], [0, 100, 40, 148, 88]]
    crops = mips.crop(torch.tensor(rois).float(), 24)
    for roi, crop in zip(rois, crops, strict=True):
        _, x1, y1, x2, y2 = roi
        region = image[:, :, y1:y2, x1:x2].float()
        expected = torch.nn.functional.interpolate(region, size=(24, 24), mode="area")[0]
        step = (expected[:, :, 1:] - expected[:, :, :-1]).abs().mean()  # one output pixel
        error = (crop - expected)[:, 1:-1, 1:-1].abs().mean()
        assert error < 0.3 * step, roi
        for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            shifted = expected.roll((dy, dx), (1, 2))[:, 1:-1, 1:-1]
            assert error < (crop[:, 1:-1, 1:-1] - shifted).abs().mean(), (roi, dy, dx)


@pytest.mark.parametrize("channels_last", [True, False])
def test_exact_crops_are_torchs_area_resize_bit_for_bit(channels_last: bool) -> None:
    """O-net's crops come from integral images on the CPU: the same float32 values as
    torch's "area" interpolation, for boxes larger and smaller than the crop, on frames
    in either layout; float frames (a GPU's pyramid) take torch's own resize."""
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (2, 200, 300, 3), dtype=np.uint8)
    frames = torch.from_numpy(pixels).permute(0, 3, 1, 2)
    if not channels_last:
        frames = frames.contiguous()
    rois = []
    for _ in range(60):
        h, w = int(rng.integers(1, 200)), int(rng.integers(1, 300))
        y1, x1 = int(rng.integers(0, 201 - h)), int(rng.integers(0, 301 - w))
        rois.append([int(rng.integers(0, 2)), x1, y1, x1 + w, y1 + h])
    for side in (24, 48):
        for images in (frames, frames.float()):
            crops = Mips(images).exact(torch.tensor(rois).float(), side)
            for (i, x1, y1, x2, y2), crop in zip(rois, crops, strict=True):
                region = frames[i : i + 1, :, y1:y2, x1:x2].float()
                expected = torch.nn.functional.interpolate(region, size=(side, side), mode="area")
                assert torch.equal(crop, expected[0]), (side, x1, y1, x2, y2)


def test_min_nms_keeps_the_best_of_nested_boxes_per_image() -> None:
    boxes = torch.tensor(
        [[0, 0, 100, 100], [10, 10, 60, 60], [200, 0, 300, 100], [10, 10, 60, 60]],
        dtype=torch.float32,
    )
    scores = torch.tensor([0.9, 0.95, 0.8, 0.7])
    inds = torch.tensor([0, 0, 0, 1])
    # The small box inside the large one overlaps it fully by "Min": only the better stays;
    # the same box in another image is untouched.
    assert sorted(nms_min(boxes, scores, inds, 0.7).tolist()) == [1, 2, 3]


def test_rerec_squares_about_the_centre() -> None:
    out = rerec(torch.tensor([[10.0, 20.0, 30.0, 80.0, 0.9]]))
    assert out[0, :4].tolist() == [-10.0, 20.0, 50.0, 80.0]
    assert out[0, 4].item() == pytest.approx(0.9)


def test_a_frame_without_faces_gives_empty_arrays(cascade: Cascade) -> None:
    frames = torch.full((2, 120, 160, 3), 127, dtype=torch.uint8)
    found = cascade.detect(frames, 12 / 32)
    assert found.boxes.shape == (0, 4)
    assert found.landmarks.shape == (0, 5, 2)
    assert found.image.dtype == np.int64


@pytest.mark.parametrize("stage", ["rnet", "onet"])
def test_fixed_size_stage_calls_give_every_crop_its_own_outputs(
    cascade: Cascade, stage: str
) -> None:
    """On the CPU, R-net and O-net run in calls of CPU_STAGE_ROWS crops, the last one
    padded to a multiple of CPU_PAD_ROWS: each crop gets the outputs of one call on all
    the crops, in order, no padding row comes out, and the calls take four shapes."""
    net, side = (cascade.rnet, 24) if stage == "rnet" else (cascade.onet, 48)
    crops = torch.randn(3 * CPU_STAGE_ROWS + 5, 3, side, side, generator=torch.manual_seed(0))
    shapes: set[int] = set()

    def spy(part: torch.Tensor) -> tuple[torch.Tensor, ...]:
        shapes.add(len(part))
        return net(part)  # type: ignore[no-any-return]

    with torch.inference_mode():
        for n in (5, SMALL_STAGE + 1, 33, 47, CPU_STAGE_ROWS, CPU_STAGE_ROWS + 1, len(crops)):
            whole = [o.float() for o in net(crops[:n])]
            got = cascade._run(spy, crops[:n])
            assert [o.shape for o in got] == [o.shape for o in whole], n
            for a, b in zip(got, whole, strict=True):
                torch.testing.assert_close(a, b)
    assert shapes == {5, 16, 32, 48, 64}  # 5: a refine's call, under SMALL_STAGE, as it is
    assert CPU_STAGE_ROWS % CPU_PAD_ROWS == 0


def _photos() -> list[Path]:
    return sorted(
        p for p in (MEDIA / "faces").rglob("*") if p.suffix.lower() in {".jpg", ".png"}
    ) + sorted((MEDIA / "group").glob("*.jpg"))


def _kept(boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
    side = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return (scores >= 0.92) & (side >= 32)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


@needs_media
@pytest.mark.slow
@pytest.mark.parametrize(
    "variant",
    [{}, {"float_pyramid": True}, {"float_pyramid": True, "half": True}],
    ids=["cpu-uint8-pyramid", "gpu-path-float32", "gpu-path-float16"],
)
def test_the_same_faces_as_facenet_pytorch_on_real_photos(variant: dict[str, bool]) -> None:
    """The GPU path's tensor code (float pyramid; float16 networks) runs here on the CPU."""
    from facenet_pytorch import MTCNN

    reference = MTCNN(keep_all=True, min_face_size=32, thresholds=list(THRESHOLDS))
    cascade = Cascade("cpu", THRESHOLDS, **variant)
    photos = _photos()
    assert len(photos) >= 8
    errors: list[float] = []  # landmark error / box side, per face
    for photo in photos:
        rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
        boxes, probs, points = reference.detect(rgb, landmarks=True)
        if boxes is None:
            boxes, probs, points = np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        boxes, probs = np.asarray(boxes, np.float32), np.asarray(probs, np.float32)
        points = np.asarray(points, np.float32).reshape(-1, 5, 2)
        want = _kept(boxes, probs)
        found = cascade.detect(torch.from_numpy(rgb[None].copy()), 12 / 32)
        got = _kept(found.boxes, found.scores)
        assert got.sum() == want.sum(), photo.name
        if not want.any():
            continue
        ref_boxes, ref_points = boxes[want], points[want]
        iou = _iou(ref_boxes, found.boxes[got])
        match = iou.argmax(axis=1)
        assert (iou.max(axis=1) >= 0.8).all(), (photo.name, iou.max(axis=1))
        side = ref_boxes[:, 2] - ref_boxes[:, 0]
        err = np.linalg.norm(found.landmarks[got][match] - ref_points, axis=2).mean(axis=1)
        errors += (err / side).tolist()
    # Measured on 18 faces: median 1.1% of the box side; at most 4% (6.2% in float16,
    # on the half-visible face of obama_partial_face.jpg).
    assert len(errors) >= 10
    assert max(errors) <= 0.08
    assert float(np.median(errors)) <= 0.02


@needs_media
@pytest.mark.slow
def test_refine_re_finds_a_moved_face_and_nothing_where_there_is_none(cascade: Cascade) -> None:
    """Tracking between full detections: a face's box from a moment ago, shifted by a
    fifth of its size, still leads stages 2 and 3 back to the face."""
    rgb = cv2.cvtColor(cv2.imread(str(MEDIA / "group" / "obama_biden_1.jpg")), cv2.COLOR_BGR2RGB)
    frames = torch.from_numpy(rgb[None].copy())
    full = cascade.detect(frames, 12 / 32)
    faces = full.boxes[full.scores >= 0.92]
    assert len(faces) == 2
    side = (faces[:, 2:] - faces[:, :2]).max(axis=1, keepdims=True)
    moved = faces + np.tile(np.array([[0.2, -0.2]], np.float32) * side, 2)
    found = cascade.refine(frames, moved, np.zeros(2, np.int64))
    kept = found.boxes[found.scores >= 0.92]
    assert len(kept) == 2
    assert (_iou(faces, kept).max(axis=1) >= 0.8).all()
    # The same box size over a wall of the frame: no face.
    empty = np.array([[0, rgb.shape[0] - 120, 120, rgb.shape[0]]], np.float32)
    nothing = cascade.refine(frames, empty, np.zeros(1, np.int64))
    assert not (nothing.scores >= 0.92).any()


def test_models_load_without_the_torchvision_package() -> None:
    """Importing torchvision pulls in torch._dynamo (1.1 s here): the detector uses its
    compiled operators, and facenet-pytorch's weights, without importing either package."""
    import subprocess
    import sys

    code = (
        "import sys; from drift_audit.faces.detect import MTCNNDetector; "
        "from drift_audit.identity.embedders.dlib import DlibEmbedder; "
        "MTCNNDetector(); DlibEmbedder(); "
        "print(sorted(m for m in ('torchvision', 'torch._dynamo', 'facenet_pytorch') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_refine_around_boxes_all_outside_the_frame_finds_nothing() -> None:
    """It raised IndexError / ValueError on the empty crop list."""
    from drift_audit.config import AuditConfig
    from drift_audit.run.models import Models

    detector = Models(AuditConfig()).detector
    outside = np.array([[700, 400, 760, 460], [-100, -100, -50, -50]], np.float32)
    assert len(detector.refine(np.zeros((360, 640, 3), np.uint8), outside, 3)) == 0
