"""decode/stills.py: a still is a one-frame clip, turned as its EXIF orientation says;
an image sequence is one clip at --fps; what cannot be read is an InputError."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from drift_audit.decode.registry import open_source
from drift_audit.errors import InputError

REPO = Path(__file__).resolve().parent.parent


def portrait(path: Path, size: tuple[int, int] = (60, 90)) -> np.ndarray:
    """Write an RGB still, `size` (w, h), bright at the top, dark at the bottom; return it."""
    w, h = size
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[: h // 3] = (250, 200, 40)
    rgb[h // 3 :] = (20, 40, 160)
    Image.fromarray(rgb).save(path)
    return rgb


def read_all(path: Path, fps: float = 24.0) -> tuple[list[tuple[int, float]], list[np.ndarray]]:
    source = open_source(path, fps=fps)
    try:
        frames = list(source.frames(lambda i, t: True))
    finally:
        source.close()
    return [(f.index, f.time_s) for f in frames], [f.image for f in frames]  # type: ignore[misc]


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tiff", ".bmp", ".avif"])
def test_a_still_is_one_frame(tmp_path: Path, suffix: str) -> None:
    want = portrait(tmp_path / f"a{suffix}")
    stamps, images = read_all(tmp_path / f"a{suffix}")
    assert stamps == [(0, 0.0)]
    assert images[0].shape == want.shape
    assert np.abs(images[0].astype(int) - want).mean() < 8


def test_the_exif_orientation_is_honoured(tmp_path: Path) -> None:
    """A phone portrait stored landscape with EXIF orientation 6 (turn 90 clockwise).
    FFmpeg's image2 demuxer, which read stills before, ignores the tag."""
    want = portrait(tmp_path / "upright.png")
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(want, 1)))  # turned left
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    _, [image] = read_all(tmp_path / "phone.jpg")
    assert image.shape == want.shape
    assert np.abs(image.astype(int) - want).mean() < 8
    cap = cv2.VideoCapture(str(tmp_path / "phone.jpg"), cv2.CAP_FFMPEG)
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape[:2] == (want.shape[1], want.shape[0])  # sideways


def test_a_sequence_is_one_clip_at_fps(tmp_path: Path) -> None:
    for i in range(5):
        portrait(tmp_path / f"f_{i + 7:03d}.png")
    stamps, _ = read_all(tmp_path, fps=10)
    assert stamps == [(i, i / 10) for i in range(5)]
    source = open_source(tmp_path, fps=10)
    assert (source.info.n_frames, source.info.fps, source.info.backend) == (5, 10.0, "stills")
    assert source.info.duration_s == 0.5
    source.close()


def test_a_sequence_scales_for_the_shot_pass(tmp_path: Path) -> None:
    for i in range(3):
        portrait(tmp_path / f"{i}.png", (400, 600))
    source = open_source(tmp_path)
    images = [f.image for f in source.frames(lambda i, t: True, max_side=160)]
    source.close()
    assert {im.shape for im in images if im is not None} == {(160, 106, 3)}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (b"just some words in a file\n" * 4, "not a video file (it holds plain text)"),
        (bytes(range(256)) * 8, "not a readable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "not a readable image"),
    ],
)
def test_an_unreadable_still_is_an_input_error(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        open_source(path)
    assert caught.value.path == str(path) and reason in caught.value.reason


def test_a_damaged_frame_in_a_sequence_names_the_frame(tmp_path: Path) -> None:
    for i in range(3):
        portrait(tmp_path / f"f{i}.png")
    (tmp_path / "f1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    source = open_source(tmp_path)
    with pytest.raises(InputError) as caught:
        list(source.frames(lambda i, t: True))
    source.close()
    assert caught.value.reason.startswith("image sequence: f1.png: not a readable image")


def test_a_frame_of_another_size_is_an_input_error(tmp_path: Path) -> None:
    portrait(tmp_path / "f0.png")
    portrait(tmp_path / "f1.png", (90, 60))
    source = open_source(tmp_path)
    with pytest.raises(InputError, match=r"f1\.png is 90x60, the first frame 60x90"):
        list(source.frames(lambda i, t: True))
    source.close()


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8")
def test_a_still_whose_name_is_not_utf8(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    want = portrait(good)
    odd = os.fsencode(tmp_path) + b"/still\xff.png"
    os.rename(good, odd)
    _, [image] = read_all(Path(os.fsdecode(odd)))
    assert image.shape == want.shape


def test_png_decodes_when_decord_was_imported_first(tmp_path: Path) -> None:
    """Imported before OpenCV, decord's bundled zlib breaks OpenCV's PNG decoder
    ("libpng error: bad parameters to zlib"): decode/decord.py imports cv2 first."""
    portrait(tmp_path / "a.png")
    code = (
        "import sys; from pathlib import Path\n"
        "import drift_audit.decode.decord\n"
        "from drift_audit.decode.registry import open_source\n"
        f"s = open_source(Path({str(tmp_path / 'a.png')!r}))\n"
        "print(next(iter(s.frames(lambda i, t: True))).image.shape)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(90, 60, 3)"
