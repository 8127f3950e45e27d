"""Tests for scripts/make_fixtures.py and the frame stamps in tests/stamps.py."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from scripts import stamps

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "make_fixtures.py"
GENERATED = REPO / "fixtures" / "generated"

STAMPED = [
    "stamped_h264.mp4",
    "stamped_h264.mov",
    "stamped_h264.mkv",
    "stamped_vp9.webm",
    "stamped_mpeg4.avi",
    "stamped_hevc.mp4",
    "stamped_av1.mkv",
    "stamped_vfr.mkv",
    "stamped_rotated.mp4",
    "one_frame.mp4",
]
SHOTS = ["shots_cuts.mp4", "shots_flash.mp4", "shots_dissolve.mp4", "no_faces.mp4"]
ENTRY_KEYS = {
    "name", "group", "container", "codec", "fps", "n_frames", "width", "height",
    "display_width", "display_height", "duration_s", "stamped", "vfr", "pts_s",
    "rotation_ccw_deg", "cuts", "shots", "dissolves", "glitch_frames", "glitches",
    "expect", "readable", "generated", "size_bytes", "sha256", "spec_hash",
}  # fmt: skip


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the fixture script in a subprocess; fail the test with its log if it fails."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fixtures/generated when `make fixtures` built it, else a fresh build in a temp dir."""
    if (GENERATED / "manifest.json").is_file():
        return GENERATED
    out = tmp_path_factory.mktemp("fixtures")
    run_script(str(out), "--quiet")
    return out


@pytest.fixture(scope="session")
def manifest(fixture_dir: Path) -> dict[str, Any]:
    return json.loads((fixture_dir / "manifest.json").read_text())


def entry_for(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    """The manifest entry for `name`; skips the test when the clip was not generated."""
    entry = manifest["files"][name]
    if not entry["generated"]:
        pytest.skip(f"{name} not generated: {entry['skip_reason']}")
    return entry


def cv2_frames(path: Path) -> Iterator[np.ndarray]:
    """Decode `path` sequentially with OpenCV, yielding RGB frames."""
    cap = cv2.VideoCapture(str(path))
    try:
        while cap.isOpened():
            ok, bgr = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def upright(frame: np.ndarray, entry: dict[str, Any]) -> np.ndarray:
    """Undo the display rotation if the decoder applied it (OpenCV does by default)."""
    if frame.shape[:2] == (entry["height"], entry["width"]):
        return frame
    return np.rot90(frame, -entry["rotation_ccw_deg"] // 90)


def hist_diffs(frames: list[np.ndarray]) -> np.ndarray:
    """(n,) float: half the L1 distance between consecutive 8x8x8 colour histograms."""
    hists = [
        cv2.calcHist([f], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel() / f[..., 0].size
        for f in frames
    ]
    return np.array([0.0] + [np.abs(b - a).sum() / 2 for a, b in itertools.pairwise(hists)])


# --------------------------------------------------------------------------- stamps


@pytest.mark.parametrize("index", [0, 1, 2, 77, 1234, 2730, stamps.MAX_INDEX])
@pytest.mark.parametrize("scale", [1.0, 0.5, 0.35])
def test_stamp_round_trip_after_resize_and_jpeg(index: int, scale: float) -> None:
    rng = np.random.default_rng(index)
    img = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    stamps.draw_stamp(img, index)
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok
    assert stamps.read_stamp(cv2.imdecode(buf, cv2.IMREAD_COLOR)) == index


def test_read_stamp_is_none_without_a_valid_stamp() -> None:
    h, w = 240, 320
    assert stamps.read_stamp(np.zeros((h, w, 3), np.uint8)) is None
    assert stamps.read_stamp(np.full((h, w, 3), 255, np.uint8)) is None
    assert stamps.read_stamp(np.full((h, w, 3), stamps.GREY, np.uint8)) is None
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert stamps.read_stamp(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) is None
    # A flipped index bit must fail the checksum.
    img = np.zeros((h, w, 3), np.uint8)
    stamps.draw_stamp(img, 1)
    other = np.zeros_like(img)
    stamps.draw_stamp(other, 3)
    left, right = stamps._cell_x(w, stamps.INDEX_BITS - 1)
    img[:, int(left) : int(right) + 1] = other[:, int(left) : int(right) + 1]
    assert stamps.read_stamp(img) is None
    assert stamps.read_stamp(np.rot90(img)) is None


def test_draw_stamp_rejects_bad_input() -> None:
    img = np.zeros((240, 320, 3), np.uint8)
    with pytest.raises(ValueError, match="index"):
        stamps.draw_stamp(img, stamps.MAX_INDEX + 1)
    with pytest.raises(ValueError, match="index"):
        stamps.draw_stamp(img, -1)
    with pytest.raises(ValueError, match="uint8"):
        stamps.draw_stamp(img.astype(np.float32), 0)


def test_read_stamp_any_rotation_reports_the_turn() -> None:
    img = np.zeros((240, 320, 3), np.uint8)
    stamps.draw_stamp(img, 42)
    assert stamps.read_stamp_any_rotation(img) == (42, 0)
    assert stamps.read_stamp_any_rotation(np.rot90(img, 1)) == (42, 3)


# --------------------------------------------------------------------------- script


def test_script_builds_a_subset_and_skips_it_when_unchanged(tmp_path: Path) -> None:
    names = ["one_frame.mp4", "text.mp4", "empty.mp4"]
    first = run_script(str(tmp_path), "--only", *names)
    assert first.stderr.count("built in") == len(names)
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(data["files"]) == sorted(names)
    mtimes = {n: (tmp_path / n).stat().st_mtime_ns for n in names}
    second = run_script(str(tmp_path), "--only", *names)
    assert second.stderr.count("up to date") == len(names)
    assert {n: (tmp_path / n).stat().st_mtime_ns for n in names} == mtimes
    (tmp_path / "one_frame.mp4").write_bytes(b"tampered")
    third = run_script(str(tmp_path), "--only", *names)
    assert third.stderr.count("built in") == 1
    assert json.loads((tmp_path / "manifest.json").read_text()) == data


def test_manifest_describes_every_file(fixture_dir: Path, manifest: dict[str, Any]) -> None:
    files = manifest["files"]
    assert set(STAMPED + SHOTS) <= set(files)
    for name, entry in files.items():
        assert set(entry) >= ENTRY_KEYS, name
        assert entry["name"] == name
        if not entry["generated"]:
            continue
        data = (fixture_dir / name).read_bytes()
        assert len(data) == entry["size_bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
    total = sum(e["size_bytes"] or 0 for e in files.values())
    assert total < 8 * 2**20
    for name in ("stamped_h264.mp4", "stamped_vp9.webm", "stamped_mpeg4.avi"):
        assert files[name]["generated"], name


# --------------------------------------------------------------------------- clips


@pytest.mark.parametrize("name", STAMPED)
def test_stamped_clip_decodes_to_its_frame_indices(
    fixture_dir: Path, manifest: dict[str, Any], name: str
) -> None:
    entry = entry_for(manifest, name)
    frames = [upright(f, entry) for f in cv2_frames(fixture_dir / name)]
    if not frames and entry["codec"] == "av1":
        pytest.skip("this OpenCV build has no software AV1 decoder")
    assert len(frames) == entry["n_frames"]
    assert [stamps.read_stamp(f) for f in frames] == list(range(entry["n_frames"]))
    for i in range(0, len(frames), 11):
        half = cv2.resize(frames[i], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        assert stamps.read_stamp(half) == i


def test_vfr_clip_has_the_recorded_timestamps(fixture_dir: Path, manifest: dict[str, Any]) -> None:
    entry = entry_for(manifest, "stamped_vfr.mkv")
    assert entry["vfr"]
    gaps = np.diff(entry["pts_s"])
    assert gaps.min() < gaps.max() - 0.03
    cap = cv2.VideoCapture(str(fixture_dir / "stamped_vfr.mkv"))
    times: list[float] = []
    while cap.read()[0]:
        times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000)
    cap.release()
    assert np.allclose(times, entry["pts_s"], atol=1e-3)


def test_rotated_clip_carries_a_display_matrix(fixture_dir: Path, manifest: dict[str, Any]) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    entry = entry_for(manifest, "stamped_rotated.mp4")
    assert entry["rotation_ccw_deg"] == 90
    assert (entry["display_width"], entry["display_height"]) == (entry["height"], entry["width"])
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(fixture_dir / entry["name"])],
        capture_output=True,
        text=True,
    )
    assert re.search(r"rotation of 90(\.0+)? degrees", probe.stderr), probe.stderr


@pytest.mark.parametrize("name", ["shots_cuts.mp4", "shots_flash.mp4", "shots_dissolve.mp4"])
def test_shot_clip_ground_truth_matches_its_content(
    fixture_dir: Path, manifest: dict[str, Any], name: str
) -> None:
    entry = entry_for(manifest, name)
    frames = list(cv2_frames(fixture_dir / name))
    assert len(frames) == entry["n_frames"]
    assert all(stamps.read_stamp(f) is None for f in frames)  # not stamped: no false hits
    diff = hist_diffs(frames)
    jumps = set(entry["cuts"])
    jumps |= {g + k for g in entry["glitch_frames"] for k in (0, 1)}
    jumps |= {i for d in entry["dissolves"] for i in range(d["start"], d["end"] + 2)}
    calm = [i for i in range(1, len(frames)) if i not in jumps]
    assert diff[calm].max() < 0.25
    for cut in entry["cuts"]:
        assert diff[cut] > 0.9, cut
    for glitch in entry["glitches"]:
        assert set(glitch["frames"]) <= set(entry["glitch_frames"])
        assert diff[glitch["frames"][0]] > 0.3, glitch
        assert diff[glitch["frames"][-1] + 1] > 0.3, glitch
    starts = [s for s, _ in entry["shots"]]
    assert starts[0] == 0 and entry["shots"][-1][1] == entry["n_frames"] - 1
    assert set(entry["cuts"]) <= set(starts)


def test_broken_files_fail_or_degrade_as_recorded(
    fixture_dir: Path, manifest: dict[str, Any]
) -> None:
    broken = {n: e for n, e in manifest["files"].items() if e["group"] == "broken"}
    kinds = {e["expect"] for e in broken.values()}
    assert {"empty_file", "not_a_video", "no_video_stream", "truncated_unreadable",
            "truncated_partial", "corrupt_header", "corrupt_partial"} <= kinds  # fmt: skip
    assert (fixture_dir / "empty.mp4").stat().st_size == 0
    for name, entry in broken.items():
        n = sum(1 for _ in cv2_frames(fixture_dir / name))
        if not entry["readable"]:
            assert n == 0, name
        elif entry["expect"] == "ok":
            assert n == entry["n_frames"], name
        else:
            assert 0 < n < entry["n_frames"], name


def test_encodes_run_side_by_side_give_the_same_bytes(tmp_path: Path) -> None:
    """x264's frame threads made an encode depend on timing (2 of 6 side by side
    differed); `run_ffmpeg` encodes on one thread, so a fixture is the same bytes on
    every build, however loaded the machine."""
    from concurrent.futures import ThreadPoolExecutor

    from scripts.make_fixtures import (
        H264_MP4,
        STAMPED_FRAMES,
        STAMPED_SIZE,
        encode_frames,
        ffmpeg_exe,
        stamped_scene,
    )

    frames = [stamped_scene(i) for i in range(STAMPED_FRAMES)]  # the stamped fixtures'

    def encode(k: int) -> bytes:
        out = tmp_path / f"{k}.mp4"
        encode_frames(ffmpeg_exe(), frames, STAMPED_SIZE, out, H264_MP4)
        return out.read_bytes()

    with ThreadPoolExecutor(8) as pool:
        outputs = list(pool.map(encode, range(8)))
    assert all(out == outputs[0] for out in outputs)
