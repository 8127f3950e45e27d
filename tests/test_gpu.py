"""The GPU path on a CUDA device: NVDEC decoding, the MTCNN cascade and dlib's network
on the GPU in float16, and a whole audit, each against the CPU's answer.

Skipped with a reason where torch sees no CUDA device. The same tensor code runs on
the CPU in every run: the float pyramid and float16 networks in tests/test_mtcnn.py,
float16 descriptors in tests/test_dlib_torch.py, torchcodec in tests/test_decode.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from drift_audit.cli import main
from scripts.stamps import read_stamp
from tests.generated import generated_dir, manifest, needs_media

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA device: the GPU path's tensor code is tested on the CPU instead",
)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dir(tmp_path_factory)


def test_nvdec_frames_are_the_frames_asked_for(fixtures: Path) -> None:
    from drift_audit.decode.registry import backend, open_source

    if backend("torchcodec") is None:
        pytest.skip("torchcodec is not installed or cannot load the system FFmpeg libraries")
    entry = manifest(fixtures)["stamped_h264.mp4"]
    source = open_source(fixtures / "stamped_h264.mp4", "torchcodec", torch.device("cuda"))
    frames = [f for f in source.frames(lambda i, t: i % 3 == 0) if f.image is not None]
    assert len(frames) >= entry["n_frames"] // 3
    assert [read_stamp(f.image) for f in frames] == [f.index for f in frames]


@needs_media
def test_the_cascade_on_cuda_finds_the_cpus_faces() -> None:
    import cv2

    from drift_audit.faces.detect import MTCNNDetector
    from tests.test_mtcnn import _iou, _photos

    cpu, gpu = MTCNNDetector(device="cpu"), MTCNNDetector(device="cuda")  # float16 on CUDA
    for photo in _photos():
        rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
        a = cpu.detect(rgb[None], np.zeros(1, np.int64))
        b = gpu.detect(rgb[None], np.zeros(1, np.int64))
        assert len(a) == len(b), photo.name
        if len(a):
            assert (_iou(a.xyxy, b.xyxy).max(axis=1) >= 0.8).all(), photo.name


def test_dlib_network_on_cuda_gives_the_cpus_descriptors() -> None:
    from drift_audit.identity.embedders import dlib as dlib_embedder
    from drift_audit.types import CROP_SIZE, FaceCrops

    rng = np.random.default_rng(5)
    images = rng.integers(0, 255, (6, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    crops = FaceCrops(images, np.zeros((6, 5, 2), np.float32))
    cpu = dlib_embedder.DlibEmbedder(device="cpu").embed(crops)
    gpu = dlib_embedder.DlibEmbedder(device="cuda").embed(crops)  # float16 on CUDA
    assert np.linalg.norm(cpu - gpu, axis=1).max() < 0.01


@needs_media
def test_an_audit_on_cuda_gives_the_cpus_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts.media_clips import build_set

    build_set("swap", tmp_path)
    reports: dict[str, Any] = {}
    for device in ("cpu", "cuda"):
        with pytest.raises(SystemExit):
            main([str(tmp_path / "swap"), "--device", device, "--no-cache", "--json", "-", "-q"])
        reports[device] = json.loads(capsys.readouterr().out)
    cpu, gpu = reports["cpu"], reports["cuda"]
    assert len(cpu["characters"]) == len(gpu["characters"])
    assert [f["kind"] for f in cpu["findings"]] == [f["kind"] for f in gpu["findings"]]
    for a, b in zip(cpu["characters"], gpu["characters"], strict=True):
        for clip, value in a["clip_similarity"].items():
            assert abs(value - b["clip_similarity"][clip]) < 0.03
