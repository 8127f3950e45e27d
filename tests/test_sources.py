"""The source matrix (scripts/make_sources.py): a fixture shaped like each generator's
export, read by every decoder backend as displayed, and audited end to end.

The fixtures carry real faces from ../shared/media, so these tests skip without it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drift_audit.decode.registry import backend, open_source
from scripts.make_sources import SOURCES, frames, make_sources
from tests.generated import MEDIA, REPO, needs_media

pytestmark = needs_media

VIDEOS = [s for s in SOURCES if s.kind == "video"]
STILLS = [s for s in SOURCES if s.kind == "still"]


@pytest.fixture(scope="module")
def sources() -> tuple[Path, dict[str, Any]]:
    """fixtures/sources, (re)built where its recipe changed (not in fixtures/generated,
    whose every file is a golden case)."""
    folder = REPO / "fixtures" / "sources"
    return folder, make_sources(folder)["files"]


def probe(path: Path) -> str:
    from scripts.make_fixtures import ffmpeg_exe

    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    return out.stderr


def test_the_matrix_covers_every_generator_named_in_the_issue() -> None:
    shapes = {(s.generator, Path(s.name).suffix, s.codec, s.display) for s in SOURCES}
    for want in [
        ("Sora 2", ".mp4", "h264", (1920, 1080)),
        ("Sora 2", ".mp4", "h264", (1080, 1920)),
        ("Sora 2", ".mp4", "h264", (1280, 720)),
        ("Sora 2", ".mp4", "h264", (720, 1280)),
        ("Runway Gen-3", ".mp4", "h264", (1280, 768)),
        ("X Imagine", ".mp4", "h264", (1280, 720)),
        ("CapCut", ".mp4", "h264", (1080, 1920)),
        ("CapCut", ".mp4", "hevc", (1080, 1920)),
        ("CapCut", ".mov", "h264", (1080, 1920)),
        ("CapCut", ".mov", "hevc", (1080, 1920)),
        ("Midjourney", ".png", "png", (1024, 1024)),
        ("Midjourney", ".webp", "webp", (1024, 1024)),
        ("Adobe Firefly", ".jpg", "jpeg", (2048, 2048)),
        ("Adobe Firefly", ".png", "png", (2048, 2048)),
    ]:
        assert want in shapes, want
    assert all(s.rotation_ccw_deg for s in SOURCES if s.generator == "CapCut")
    assert {s.c2pa_preset for s in SOURCES if s.generator in ("Sora 2", "Adobe Firefly")} == {
        "sora",
        "firefly",
    }


@pytest.mark.parametrize("source", VIDEOS, ids=lambda s: s.name)
def test_each_video_is_what_its_generator_exports(
    sources: tuple[Path, dict[str, Any]], source: Any
) -> None:
    folder, _ = sources
    text = probe(folder / source.name)
    stream = re.search(r"Stream #0:\d+.*?: Video: (\w+)[^\n]*?, (\d+)x(\d+)", text)
    assert stream, text
    codec, w, h = stream[1], int(stream[2]), int(stream[3])
    assert codec == source.codec
    assert (w, h) == source.coded
    assert f"{source.fps:g} fps" in text
    if source.codec == "hevc":
        assert "(hvc1 /" in text  # QuickTime's tag, as phones and CapCut write it
    assert ("Audio: aac" in text) == source.audio
    if source.rotation_ccw_deg:
        turn = (
            source.rotation_ccw_deg
            if source.rotation_ccw_deg <= 180
            else source.rotation_ccw_deg - 360
        )
        assert re.search(rf"rotation of {turn}(\.0+)? degrees", text), text
    assert "major_brand     : qt" in text if source.name.endswith(".mov") else "isom" in text


def _display_error(image: np.ndarray, want: np.ndarray) -> float:
    """Mean absolute difference to the frame as displayed; a frame turned the wrong way
    has another shape or differs by far more than compression does."""
    if image.shape != want.shape:
        return float("inf")
    return float(np.abs(image.astype(np.int16) - want.astype(np.int16)).mean())


HOSTS = ["opencv", "decord"]


def _backends() -> list[str]:
    return HOSTS + (["torchcodec"] if backend("torchcodec") is not None else [])


@pytest.mark.parametrize("source", VIDEOS, ids=lambda s: s.name)
def test_every_backend_reads_each_video_as_displayed(
    sources: tuple[Path, dict[str, Any]], source: Any
) -> None:
    """CapCut's phone rotation tags: each backend must apply the display matrix (the
    coded frames are the picture turned), or faces lie on their side."""
    import torch

    folder, _ = sources
    want = next(iter(frames(source)))
    for name in _backends():
        device = torch.device("cpu") if name == "torchcodec" else None
        reader = open_source(folder / source.name, name, device)
        try:
            decoded = list(reader.frames(lambda i, t: i == 0))
        finally:
            reader.close()
        first = decoded[0].image
        assert first is not None
        image = first.cpu().numpy() if hasattr(first, "cpu") else first
        assert (reader.info.width, reader.info.height) == source.display, name
        assert _display_error(image, want) < 12, (name, source.name)
        assert len(decoded) == source.n_frames, name


@pytest.mark.parametrize("source", STILLS, ids=lambda s: s.name)
def test_each_still_is_read_as_a_one_frame_clip(
    sources: tuple[Path, dict[str, Any]], source: Any
) -> None:
    folder, _ = sources
    reader = open_source(folder / source.name)
    try:
        decoded = list(reader.frames(lambda i, t: True))
    finally:
        reader.close()
    assert reader.info.backend == "stills" and reader.info.codec == source.codec
    assert [f.index for f in decoded] == [0]
    assert decoded[0].image is not None
    assert _display_error(decoded[0].image, next(iter(frames(source)))) < 6


def test_a_second_build_keeps_the_files(sources: tuple[Path, dict[str, Any]]) -> None:
    folder, files = sources
    stamps = {name: (folder / name).stat().st_mtime_ns for name in files}
    make_sources(folder)
    assert {name: (folder / name).stat().st_mtime_ns for name in files} == stamps


@pytest.mark.slow
def test_the_whole_matrix_audits_end_to_end_as_one_story(
    sources: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real decoding, MTCNN and dlib on every generator's export in one story: the same
    person throughout, so one character found in every clip and no fail."""
    from drift_audit.cli import main

    folder, files = sources
    names = [s.name for s in SOURCES]
    out = tmp_path / "report.json"
    with pytest.raises(SystemExit) as caught:
        main([*(str(folder / n) for n in names), "--json", str(out), "-q", "--no-cache"])
    err = capsys.readouterr().err
    assert caught.value.code == 0, err
    data = json.loads(out.read_text())
    for clip, source in zip(data["clips"], SOURCES, strict=True):
        assert clip["status"] == "ok", clip["error"]
        assert (clip["width"], clip["height"]) == source.display, source.name
        assert clip["frames"] == source.n_frames, source.name
        assert clip["tracks"] >= 1, f"{source.name}: no face found"
        assert clip["decoder"] == ("stills" if source.kind == "still" else "opencv")
    leads = [c for c in data["characters"] if c.get("role", "lead") == "lead"]
    assert len(leads) == 1
    assert set(leads[0]["clip_similarity"]) == {str(i) for i in range(1, len(SOURCES) + 1)}
    assert not [f for f in data["findings"] if f["severity"] == "fail"]
    assert data["summary"]["verdict"] == "pass"
    assert MEDIA.is_dir() and files
