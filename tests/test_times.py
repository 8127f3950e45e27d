"""Times are never negative and never decrease, on clips whose decoders give frames
no timestamp, a zero one or a garbage one (AVI / MPEG-4 Part 2 with B-frames: OpenCV
gives the last frame POS_MSEC 0, decord gives the first third a negative time)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import torch

from drift_audit.config import AuditConfig
from drift_audit.decode import registry
from drift_audit.decode.base import FrameSource, RawFrames
from drift_audit.decode.registry import open_source
from drift_audit.pipeline import audit
from drift_audit.report.json import schema, to_dict
from drift_audit.types import VideoInfo
from scripts.make_fixtures import AVI_23976
from tests.generated import generated_dir, manifest, on_demand

BACKENDS = [
    "opencv",
    "decord",
    pytest.param(
        "torchcodec",
        marks=pytest.mark.skipif(
            registry.backend("torchcodec") is None,
            reason="torchcodec is not installed or cannot load the system FFmpeg libraries",
        ),
    ),
]
CFR = [AVI_23976, "stamped_mpeg4.avi", "stamped_h264.mp4"]  # times must be index / fps
ALL = [*CFR, "stamped_vfr.mkv", "corrupt_middle.mkv"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """name -> (path, manifest entry) of every clip these tests read."""
    generated = generated_dir(tmp_path_factory)
    truth = manifest(generated)
    built, entries = on_demand(tmp_path_factory, AVI_23976)
    out = {name: (generated / name, truth[name]) for name in ALL if name in truth}
    out[AVI_23976] = (built / AVI_23976, entries[AVI_23976])
    return out


def _open(path: Path, backend: str) -> FrameSource:
    return open_source(path, backend, torch.device("cpu") if backend == "torchcodec" else None)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ALL)
def test_frame_times_never_decrease_and_are_never_negative(
    clips: dict[str, tuple[Path, dict[str, Any]]], backend: str, name: str
) -> None:
    path, entry = clips[name]
    source = _open(path, backend)
    try:
        frames = list(source.frames(lambda i, t: False))
    finally:
        source.close()
    times = [f.time_s for f in frames]
    assert all(math.isfinite(t) and t >= 0 for t in times), times[:5]
    assert all(b >= a for a, b in itertools.pairwise(times)), times
    if name in CFR:  # right, not only ordered: index / fps, to a quarter of a frame
        step = 1 / entry["fps"]
        worst = max(abs(f.time_s - f.index * step) for f in frames)
        assert worst <= step / 4, (worst, [(f.index, f.time_s) for f in frames][-5:])


@pytest.fixture(scope="module")
def reports(clips: dict[str, tuple[Path, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """backend -> the JSON report of the real pipeline over the AVI and VFR clips."""
    names = [AVI_23976, "stamped_mpeg4.avi", "stamped_vfr.mkv"]
    out = {}
    for backend in ("opencv", "decord", "torchcodec"):
        if registry.backend(backend) is None:
            continue
        config = AuditConfig(use_cache=False, decoder=backend)
        out[backend] = to_dict(audit([clips[n][0] for n in names], config))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_shot_ends_at_or_after_it_starts_and_within_the_clip(
    clips: dict[str, tuple[Path, dict[str, Any]]],
    reports: dict[str, dict[str, Any]],
    backend: str,
) -> None:
    data = reports[backend]
    jsonschema.validate(data, schema())
    for clip in data["clips"]:
        name = Path(clip["path"]).name
        assert clip["status"] == "ok", clip["error"]
        shots = clip["shots"]
        assert shots, name
        for shot in shots:
            assert 0 <= shot["start_s"] <= shot["end_s"] <= clip["duration_s"], (name, shot)
        starts = [s["start_s"] for s in shots]
        assert starts == sorted(starts), name
        # The reported symptom: 270 frames at 23.976 fps said duration_s 0.0417.
        entry = clips[name][1]
        assert clip["duration_s"] == pytest.approx(entry["n_frames"] / entry["fps"], abs=0.11)
        for character in data["characters"]:
            for a in character["appearances"]:
                assert 0 <= a["start_s"] <= a["end_s"], a


def _time_fields(node: Any, where: str = "") -> Generator[tuple[str, dict[str, Any]], None, None]:
    """(path, schema) of every property whose name ends in _s (a time in seconds)."""
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            if key.endswith("_s"):
                yield f"{where}.{key}", value
        for key, value in node.items():
            yield from _time_fields(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _time_fields(value, f"{where}[{i}]")


def test_the_schema_refuses_negative_times() -> None:
    fields = dict(_time_fields(schema()))
    assert {k.rsplit(".", 1)[-1] for k in fields} == {"duration_s", "start_s", "end_s"}
    assert all(f.get("minimum") == 0 for f in fields.values()), fields
    shot = {"index": 1, "start_frame": 0, "end_frame": 269, "start_s": 0.0417, "end_s": -11.2196}
    clip = {
        "index": 1,
        "path": "clip.avi",
        "status": "ok",
        "error": None,
        "fps": 23.976,
        "frames": 270,
        "duration_s": 0.0417,
        "shots": [shot],
    }
    report = {
        "schema_version": 2,
        "tool": {"name": "drift-audit", "version": "0"},
        "embedder": None,
        "clips": [clip],
        "characters": [],
        "findings": [],
        "summary": {"clips": 1, "characters": 0, "findings": 0, "verdict": "pass"},
    }
    with pytest.raises(jsonschema.ValidationError, match=r"-11\.2196 is less than the minimum"):
        jsonschema.validate(report, schema())
    shot["end_s"] = 11.2613
    jsonschema.validate(report, schema())


# --- the rule, on hand-made timestamps -----------------------------------------------


class StampedSource(FrameSource):
    """A backend whose decoder gives the frames the timestamps in `TIMES`."""

    name = "stamped"
    TIMES: tuple[float | None, ...] = ()

    def _open(self) -> VideoInfo:
        return VideoInfo(str(self.path), 25.0, len(self.TIMES), 4, 4, "", self.name)

    def _decode(self, size: tuple[int, int] | None) -> Generator[RawFrames, None, None]:
        def pixels(keep: list[int]) -> list[np.ndarray]:
            return [np.zeros((4, 4, 3), np.uint8) for _ in keep]

        yield RawFrames(list(self.TIMES), 0, pixels)


def _times(tmp_path: Path, times: tuple[float | None, ...]) -> list[float]:
    source = type("Source", (StampedSource,), {"TIMES": times})(tmp_path / "clip.avi")
    return [round(f.time_s, 6) for f in source.frames(lambda i, t: False)]


@pytest.mark.parametrize(
    ("given", "want"),
    [
        # decord on AVI: a negative garbage time first, then real ones
        ((-3.7e17, -3.7e17, 0.08, 0.12), [0.0, 0.04, 0.08, 0.12]),
        # OpenCV on AVI: the first frame one frame late, the last one's POS_MSEC 0
        ((0.04, 0.08, 0.12, 0.0), [0.0, 0.04, 0.08, 0.12]),
        # no time, not a number, infinity, a time before the previous one
        ((0.0, None, math.nan, math.inf, 0.02, 0.2), [0.0, 0.04, 0.08, 0.12, 0.16, 0.2]),
        # a garbage time far ahead, then sane ones again
        ((0.0, 0.04, 3.7e17, 0.12), [0.0, 0.04, 0.08, 0.12]),
        ((3.7e17, 0.04, 0.08), [0.0, 0.04, 0.08]),
        # the same time again, give or take float32 rounding (decord)
        ((0.0, 0.04, 0.040000057, 0.12), [0.0, 0.04, 0.08, 0.12]),
        # a stream that starts before 0 (B-frames, no edit list) or after it
        ((-0.08, -0.04, 0.0), [0.0, 0.04, 0.08]),
        ((1.4, 1.44, 1.48), [0.0, 0.04, 0.08]),
        # variable frame rate: steps longer than a nominal frame are kept
        ((0.0, 0.04, 0.12, 0.16, 0.26), [0.0, 0.04, 0.12, 0.16, 0.26]),
    ],
)
def test_sane_timestamps_are_kept_and_the_others_replaced(
    tmp_path: Path, given: tuple[float | None, ...], want: list[float]
) -> None:
    assert _times(tmp_path, given) == want
