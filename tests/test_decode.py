"""Every backend hands on exactly the frame whose index and time it carries."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from drift_audit.decode import registry
from drift_audit.decode.base import FrameSource, RawFrames
from drift_audit.decode.registry import DECODERS, open_source
from drift_audit.errors import ConfigError, InputError
from drift_audit.types import VideoInfo
from scripts.stamps import read_stamp, read_stamp_any_rotation
from tests.generated import generated_dir, manifest, opencv_decodes_av1

STAMPED = [
    "stamped_h264.mp4",
    "stamped_h264.mov",
    "stamped_h264.mkv",
    "stamped_vp9.webm",
    "stamped_mpeg4.avi",
    "stamped_hevc.mp4",
    "stamped_vfr.mkv",
    "stamped_rotated.mp4",
]

HOST = ["decord", "opencv"]  # required dependencies: both must import everywhere


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def truth(fixtures: Path) -> dict[str, Any]:
    return manifest(fixtures)


def _stamp(image: Any, entry: dict[str, Any]) -> int | None:
    if entry.get("rotation_ccw_deg"):
        return read_stamp_any_rotation(image)[0]
    return read_stamp(image)


@pytest.mark.parametrize("backend", HOST)
@pytest.mark.parametrize("name", STAMPED)
@pytest.mark.parametrize("stride", [1, 7])
def test_sampled_frames_carry_their_true_index(
    fixtures: Path, truth: dict[str, Any], backend: str, name: str, stride: int
) -> None:
    entry = truth[name]
    source = open_source(fixtures / name, backend)
    seen = []
    for frame in source.frames(lambda i, t: i % stride == 0):
        if frame.image is not None:
            seen.append((frame.index, _stamp(frame.image, entry)))
    source.close()
    assert len(seen) == len(range(0, entry["n_frames"], stride))
    assert [stamp for _, stamp in seen] == [index for index, _ in seen]


@pytest.mark.parametrize("backend", HOST)
def test_vfr_times_are_presentation_times(
    fixtures: Path, truth: dict[str, Any], backend: str
) -> None:
    pts = truth["stamped_vfr.mkv"]["pts_s"]
    source = open_source(fixtures / "stamped_vfr.mkv", backend)
    times = [(f.index, f.time_s) for f in source.frames(lambda i, t: False)]
    assert [i for i, _ in times] == list(range(len(pts)))
    assert max(abs(t - pts[i]) for i, t in times) < 0.002


def test_rotated_clip_comes_out_as_displayed_on_every_backend(fixtures: Path) -> None:
    turns = set()
    for name in HOST:
        source = open_source(fixtures / "stamped_rotated.mp4", name)
        frame = next(iter(source.frames(lambda i, t: True)))
        assert frame.image is not None
        assert frame.image.shape[:2] == (320, 240)  # portrait: the display matrix was applied
        index, turn = read_stamp_any_rotation(frame.image)
        assert index == 0
        turns.add(turn)
    assert len(turns) == 1 and turns != {0}


@pytest.mark.parametrize("backend", HOST)
def test_frames_lost_to_corruption_keep_later_indices_true(
    fixtures: Path, truth: dict[str, Any], backend: str
) -> None:
    source = open_source(fixtures / "corrupt_middle.mkv", backend)
    frames = list(source.frames(lambda i, t: True))
    lost = sum(f.lost_before for f in frames)
    assert lost > 0
    assert len(frames) + lost == truth["corrupt_middle.mkv"]["n_frames"]
    for f in frames:
        stamp = read_stamp(f.image)
        assert stamp is None or stamp == f.index or stamp == f.index - 1  # concealed repeats


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.mp4", "empty file (0 bytes)"),
        ("text.mp4", "not a video file (it holds plain text)"),
        ("audio_only.m4a", "no video stream"),
        ("truncated.mp4", "not a readable video"),
        ("corrupt_header.mp4", "not a readable video"),
    ],
)
def test_unreadable_files_get_a_plain_reason(fixtures: Path, name: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        open_source(fixtures / name)
    assert caught.value.path == str(fixtures / name)
    assert reason in caught.value.reason
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("backend", ["auto", "opencv"])
def test_av1_is_read_frame_for_frame_or_refused_plainly(
    fixtures: Path, truth: dict[str, Any], backend: str
) -> None:
    """AV1 decodes where this OpenCV build's FFmpeg has a decoder for it (5.1 does, 5.0
    did not): then every frame is there with its own index; else one plain reason."""
    path = fixtures / "stamped_av1.mkv"
    if not opencv_decodes_av1(fixtures):
        with pytest.raises(InputError) as caught:
            open_source(path, backend)
        assert caught.value.reason.startswith("unsupported codec av01")
        return
    source = open_source(path, backend)
    stamps = [(f.index, read_stamp(f.image)) for f in source.frames(lambda i, t: True)]
    source.close()
    assert [index for index, _ in stamps] == list(range(truth["stamped_av1.mkv"]["n_frames"]))
    assert [stamp for _, stamp in stamps] == [index for index, _ in stamps]


def test_missing_directory_and_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_source(tmp_path / "nope.mp4")
    # a folder reaching the decoder is an image sequence (--sequence): here, an empty one
    with pytest.raises(InputError, match="image sequence: the folder holds no numbered stills"):
        open_source(tmp_path)


def test_one_frame_clip(fixtures: Path) -> None:
    source = open_source(fixtures / "one_frame.mp4")
    frames = list(source.frames(lambda i, t: True))
    assert [f.index for f in frames] == [0]


@pytest.mark.parametrize("backend", HOST)
@pytest.mark.parametrize("name", ["stamped_h264.mp4", "stamped_mpeg4.avi", "stamped_hevc.mp4"])
def test_downscaled_reading_is_exact_too(fixtures: Path, backend: str, name: str) -> None:
    source = open_source(fixtures / name, backend)
    frames = list(source.frames(lambda i, t: True, max_side=200))
    assert all(max(f.image.shape[:2]) <= 200 for f in frames)  # type: ignore[union-attr]
    assert [read_stamp(f.image) for f in frames] == [f.index for f in frames]


needs_torchcodec = pytest.mark.skipif(
    registry.backend("torchcodec") is None,
    reason="torchcodec is not installed or cannot load the system FFmpeg libraries",
)


@needs_torchcodec
@pytest.mark.parametrize("name", STAMPED)
@pytest.mark.parametrize("max_side", [None, 200])
def test_torchcodec_on_cpu_is_exact_too(
    fixtures: Path, truth: dict[str, Any], name: str, max_side: int | None
) -> None:
    entry = truth[name]
    source = open_source(fixtures / name, "torchcodec", torch.device("cpu"))
    frames = list(source.frames(lambda i, t: i % 3 == 0, max_side=max_side))
    # torchcodec's sequential read can stop one frame short of the header (AVI, B-frames).
    assert entry["n_frames"] - 1 <= len(frames) <= entry["n_frames"]
    sampled = [f for f in frames if f.image is not None]
    assert [_stamp(f.image, entry) for f in sampled] == [f.index for f in sampled]
    if max_side:
        assert all(max(f.image.shape[:2]) <= max_side for f in sampled)  # type: ignore[union-attr]
    if entry.get("pts_s"):
        assert max(abs(f.time_s - entry["pts_s"][f.index]) for f in frames) < 0.002


def test_torchcodec_missing_is_a_clear_usage_error(
    fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = registry.BACKENDS["torchcodec"].missing
    gone = registry.Backend("drift_audit.decode.not_here:Source", missing)
    monkeypatch.setitem(registry.BACKENDS, "torchcodec", gone)
    assert registry.backend("torchcodec") is None
    with pytest.raises(ConfigError, match=r"drift-audit\[gpu\]"):
        open_source(fixtures / "stamped_h264.mp4", "torchcodec")


def test_a_missing_host_backend_names_those_installed(
    fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.BACKENDS, "decord", registry.Backend("drift_audit.nope:X"))
    with pytest.raises(ConfigError, match=r"--decoder decord is not available here \(installed: "):
        open_source(fixtures / "stamped_h264.mp4", "decord")
    with pytest.raises(ConfigError, match="is not available here"):
        open_source(fixtures / "stamped_h264.mp4", "nvdec")


def test_one_registry_names_the_decoders_everywhere() -> None:
    from drift_audit import config
    from drift_audit.cli import Decoder

    assert DECODERS == ("auto", "decord", "opencv", "torchcodec")
    assert config.DECODERS == DECODERS
    assert [d.value for d in Decoder] == list(DECODERS)
    for name in HOST:
        source = registry.backend(name)
        assert source is not None and source.name == name


# --- stamping, done once in the base for every backend ------------------------------


class ChunkedSource(FrameSource):
    """A backend that decodes in chunks, as torchcodec does: after the decoder reports
    damage in the second chunk, presentation times jump over two lost frames."""

    name = "chunked"
    CHUNKS = ([0.00, 0.04, 0.08], [0.20, 0.24, 0.28])  # frames 3 and 4 are lost

    def _open(self) -> VideoInfo:
        return VideoInfo(str(self.path), 25.0, 8, 4, 4, "", self.name)

    def _decode(self, size: tuple[int, int] | None) -> Generator[RawFrames, None, None]:
        position = 0
        for times in self.CHUNKS:
            first = position

            def pixels(keep: list[int], first: int = first) -> list[np.ndarray]:
                return [np.full((4, 4, 3), first + i, np.uint8) for i in keep]

            yield RawFrames(times, errors=int(position > 0), pixels=pixels)
            position += len(times)


def test_want_gets_the_true_index_after_lost_frames(tmp_path: Path) -> None:
    """The sampler decides by true index (a shot starting at frame 5 must get its
    frame); torchcodec's own loop once handed it the position in decode order."""
    asked: list[int] = []

    def want(index: int, time_s: float) -> bool:
        asked.append(index)
        return index == 5

    frames = list(ChunkedSource(tmp_path / "clip.mp4").frames(want))
    assert asked == [0, 1, 2, 5, 6, 7]
    assert [f.index for f in frames] == [0, 1, 2, 5, 6, 7]
    assert [f.lost_before for f in frames] == [0, 0, 0, 2, 0, 0]
    wanted = [f for f in frames if f.image is not None]
    assert [f.index for f in wanted] == [5]
    assert int(wanted[0].image[0, 0, 0]) == 3  # the 4th frame decoded carries index 5


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [
        (1280, 720, (160, 90)),
        (1920, 1080, (160, 90)),
        (1080, 1920, (90, 160)),
        (854, 480, (160, 90)),
    ],
)
def test_the_shot_pass_shrink_is_an_area_resize_within_two_levels(
    width: int, height: int, size: tuple[int, int]
) -> None:
    """`shrink` halves before its last area step where the size divides the frame:
    the same size, and within its halvings' rounding of OpenCV's one-step area resize,
    on detail at every scale; a size that does not divide the frame, exactly it."""
    import cv2

    from drift_audit.decode.opencv import shrink

    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, (height // 40 + 1, width // 40 + 1, 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    image = cv2.add(image, rng.integers(0, 40, image.shape, dtype=np.uint8))  # pixel noise
    ours = shrink(image, size)
    one_step = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    assert ours.shape == one_step.shape == (size[1], size[0], 3)
    assert np.abs(ours.astype(int) - one_step).max() <= (2 if width % size[0] == 0 else 0)
