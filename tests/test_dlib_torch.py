"""dlib's face network read into torch: the same descriptors as dlib's own network,
and a clear error for a file it cannot read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from drift_audit.errors import ModelError
from drift_audit.identity.embedders import dlib as dlib_embedder
from drift_audit.identity.embedders.dlib_format import DlibFormatError, read_dlib_net
from drift_audit.identity.embedders.dlib_net import load_dlib_resnet
from tests.generated import MEDIA, needs_media


@pytest.fixture(scope="module")
def resnet_path() -> Path:
    return dlib_embedder.dlib_model_files()[1]


def chips(n: int) -> np.ndarray:
    """Smooth synthetic 150 px chips: a bright oval on a varying background."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[:150, :150] / 150.0
    out = []
    for _ in range(n):
        base = rng.uniform(40, 200, 3)
        oval = ((xx - 0.5) / 0.3) ** 2 + ((yy - 0.5) / 0.4) ** 2 < 1
        img = base + 40 * np.sin(6 * xx[..., None] + rng.uniform(0, 6, 3)) + 60 * oval[..., None]
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(out)


def test_the_torch_network_gives_dlibs_descriptors(resnet_path: Path) -> None:
    import dlib

    reference = dlib.face_recognition_model_v1(str(resnet_path))
    net = load_dlib_resnet(resnet_path)
    batch = chips(4)
    with torch.inference_mode():
        ours = net(torch.from_numpy(batch).permute(0, 3, 1, 2).float()).numpy()
    theirs = np.array([np.asarray(reference.compute_face_descriptor(c)) for c in batch])
    assert ours.shape == (4, 128)
    assert np.abs(ours - theirs).max() < 1e-5
    # Four different chips give four different descriptors: the check has teeth.
    assert np.linalg.norm(theirs[0] - theirs[1]) > 0.01


def test_a_truncated_network_file_is_a_format_error(resnet_path: Path, tmp_path: Path) -> None:
    short = tmp_path / "short.dat"
    short.write_bytes(resnet_path.read_bytes()[:100_000])
    with pytest.raises(DlibFormatError, match="end of file"):
        read_dlib_net(short)


def test_the_embedder_reports_an_unreadable_network_as_a_model_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    predictor, _ = dlib_embedder.dlib_model_files()
    bad = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    bad.write_bytes(b"not a dlib network")
    monkeypatch.setattr(dlib_embedder, "dlib_model_files", lambda: (predictor, bad))
    with pytest.raises(ModelError, match="cannot read dlib's face network"):
        dlib_embedder.DlibEmbedder()


@needs_media
@pytest.mark.slow
def test_real_faces_embed_as_dlib_embeds_them() -> None:
    """The embedder (dlib's chips, torch's network) against dlib's compute_face_descriptor
    on the same crops of real photos, as the embedder ran before the port."""
    import cv2
    import dlib

    from drift_audit.faces.crop import crop_faces
    from drift_audit.faces.detect import MTCNNDetector

    detector = MTCNNDetector()
    embedder = dlib_embedder.DlibEmbedder()
    reference = dlib.face_recognition_model_v1(embedder.weights_path)
    photos = sorted((MEDIA / "faces").glob("*/*.jpg"))[:6]
    for photo in photos:
        rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
        faces = detector.detect(rgb[None], np.zeros(1, np.int64))
        crops = crop_faces(rgb, faces)
        ours = embedder.embed(crops)
        for image, vector in zip(crops.images, ours, strict=True):
            image = np.ascontiguousarray(image)
            shape = embedder._predictor(image, embedder._rect)
            theirs = np.asarray(reference.compute_face_descriptor(image, shape), np.float32)
            assert np.linalg.norm(vector - theirs) < 1e-4, photo.name


def test_float16_descriptors_stay_within_a_hair_of_float32() -> None:
    """The CUDA default, run here on the CPU: float16 moves a descriptor by ~0.002,
    against a 0.13 gap between the same and different people (make calibrate)."""
    import cv2

    from drift_audit.types import CROP_SIZE, FaceCrops

    images = np.stack([cv2.resize(c, (CROP_SIZE, CROP_SIZE)) for c in chips(4)])
    crops = FaceCrops(images, np.zeros((4, 5, 2), np.float32))
    full = dlib_embedder.DlibEmbedder(half=False).embed(crops)
    half = dlib_embedder.DlibEmbedder(half=True).embed(crops)
    assert half.dtype == np.float32
    assert np.linalg.norm(full - half, axis=1).max() < 0.01
