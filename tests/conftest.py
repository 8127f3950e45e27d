"""Shared fixtures: a deterministic fake detector and embedder, and tiny real clips.

The fakes stand in for MTCNN and dlib/facenet so that pipeline and CLI tests run
in a fraction of a second, without weights or a GPU:

- FakeDetector finds one centred square "face" in every frame.
- FakeEmbedder maps the mean colour of a crop's centre to a unit vector, so clips
  whose face square has a different colour hold different identities.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drift_audit.identity.embedders.base import Embedder
from drift_audit.types import CROP_SIZE, FaceCrops, Faces

RED = (200, 40, 40)
BLUE = (40, 40, 200)
GREY = (110, 110, 110)
GREEN = (20, 120, 20)
WHITE = (250, 250, 250)


class FakeDetector:
    """One fixed face per frame: a centred square two thirds of the frame's height."""

    def __init__(self, score: float = 0.99) -> None:
        self.score = score
        self.calls = 0
        self.refines = 0

    @staticmethod
    def box(height: int, width: int) -> np.ndarray:
        """(4,) float32 xyxy of the face square in a frame of this size."""
        side = 2 * min(height, width) / 3
        cx, cy = width / 2, height / 2
        return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)

    def detect(self, frames: np.ndarray, indices: np.ndarray) -> Faces:
        self.calls += 1
        n = len(frames)
        if n == 0:
            return Faces.empty()
        height, width = frames.shape[1:3]
        x0, y0, x1, y1 = self.box(height, width)
        s = x1 - x0
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        # eyes, nose, mouth corners of a frontal face
        points = np.array(
            [
                [cx - 0.2 * s, cy - 0.1 * s],
                [cx + 0.2 * s, cy - 0.1 * s],
                [cx, cy + 0.05 * s],
                [cx - 0.15 * s, cy + 0.25 * s],
                [cx + 0.15 * s, cy + 0.25 * s],
            ],
            np.float32,
        )
        return Faces(
            frame=np.asarray(indices, np.int64).copy(),
            xyxy=np.tile(np.array([x0, y0, x1, y1], np.float32), (n, 1)),
            score=np.full(n, self.score, np.float32),
            landmarks=np.tile(points, (n, 1, 1)),
        )

    def refine(self, frame: np.ndarray, boxes: np.ndarray, index: int) -> Faces:
        """The same face, found again only where a track was: none without one."""
        self.refines += 1
        if len(boxes) == 0:
            return Faces.empty()
        faces = self.detect(frame[None], np.array([index]))
        self.calls -= 1
        return faces


class FakeEmbedder(Embedder):
    """Cosine embedder over the mean colour of the crop's central quarter.

    The central region lies inside the face box (a crop is CROP_SCALE times the box),
    so the background of the frame does not move the vector.
    """

    name = "dlib"
    dim = 8
    threshold = 0.5
    uncertain_margin = 0.08
    weights_sha256 = hashlib.sha256(b"fake embedder").hexdigest()
    weights_path = "<fake>"

    def __init__(self, batch_size: int = 4) -> None:
        self.batch_size = batch_size
        self.batches: list[int] = []

    def _embed_batch(self, crops: FaceCrops) -> np.ndarray:
        self.batches.append(len(crops))
        c = CROP_SIZE
        centre = crops.images[:, c // 4 : 3 * c // 4, c // 4 : 3 * c // 4].astype(np.float32)
        rgb = centre.mean(axis=(1, 2)) - 128.0  # (b, 3)
        out = np.zeros((len(crops), self.dim), np.float32)
        out[:, :3] = rgb
        out[:, 3] = 10.0  # keeps a mid-grey face from being the zero vector
        return out


@pytest.fixture(autouse=True)
def analysis_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Every test audits with an empty per-clip analysis cache of its own, never the
    user's (~/.cache/drift-audit): a test must not pass, or fail, on analyses an older
    run of other code left there. Worker processes inherit the variable."""
    folder = tmp_path_factory.mktemp("analysis-cache")
    monkeypatch.setenv("DRIFT_AUDIT_CACHE", str(folder))
    return folder


@pytest.fixture
def fake_detector() -> FakeDetector:
    return FakeDetector()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, object]]:
    """Makes every `drift_audit.pipeline.Models(config)` use the fakes (the analysis
    cache is the test's own, see `analysis_cache`).

    Yields a dict that holds the last detector and embedder handed out, so a test
    can check that they were (or were not) used.
    """
    from drift_audit import pipeline

    made: dict[str, object] = {}

    class FakeModels(pipeline.Models):
        def __init__(self, config, detector=None, embedder=None, choice=""):  # type: ignore[no-untyped-def]
            made["detector"] = detector or FakeDetector()
            made["embedder"] = embedder or FakeEmbedder()
            super().__init__(config, made["detector"], made["embedder"], choice or "fake: test")

    monkeypatch.setattr(pipeline, "Models", FakeModels)
    yield made


def write_clip(
    path: Path,
    face_rgb: tuple[int, int, int] = RED,
    n_frames: int = 20,
    size: tuple[int, int] = (128, 96),
    fps: float = 10.0,
    background: tuple[int, int, int] = GREY,
    changes: dict[int, tuple[int, int, int]] | None = None,
) -> Path:
    """A tiny real video: a flat background with a coloured square where FakeDetector
    looks for the face. `.avi` is written as MJPG, anything else as mp4v.

    `changes` maps a frame index to the background colour from that frame on, so
    {10: WHITE, 11: GREY} is a one-frame flash at 10 and {10: GREEN} a cut at 10;
    the face stays the same throughout.
    """
    width, height = size
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix == ".avi" else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    assert writer.isOpened(), f"cv2.VideoWriter cannot write {path}"
    x0, y0, x1, y1 = (round(float(v)) for v in FakeDetector.box(height, width))
    for i in range(n_frames):
        background = (changes or {}).get(i, background)
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = background
        frame[y0:y1, x0:x1] = face_rgb
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    assert path.stat().st_size > 0
    return path


@pytest.fixture
def make_clip(tmp_path: Path) -> Callable[..., Path]:
    """make_clip(name, face_rgb=RED, **kwargs) -> a clip written into tmp_path."""

    def make(name: str, face_rgb: tuple[int, int, int] = RED, **kwargs: object) -> Path:
        return write_clip(tmp_path / name, face_rgb, **kwargs)  # type: ignore[arg-type]

    return make
