"""The real pipeline on real faces: clips built from ../shared/media's photos, and its
real multi-shot clip. Skipped, with a reason, when ../shared/media is absent."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drift_audit.cli import main
from tests.generated import MEDIA, needs_media

pytestmark = [needs_media, pytest.mark.slow, pytest.mark.media]

HAMILTON = MEDIA / "clips" / "hamilton_short.mp4"
MIRANDA = MEDIA / "faces" / "lin_manuel_miranda" / "lmm1.png"


@pytest.fixture(scope="module")
def clip_sets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scripts.media_clips import CLIP_SETS, build_set

    out = tmp_path_factory.mktemp("media_clips")
    for name in CLIP_SETS:
        build_set(name, out)
    return out


def audit(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    with pytest.raises(SystemExit) as caught:
        main([*args, "--json", "-", "-q"])
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), json.loads(out), err


def test_consistent_character_passes(clip_sets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = audit([str(clip_sets / "consistent")], capsys)
    assert code == 0, err
    assert len(report["characters"]) == 1
    c1 = report["characters"][0]
    assert c1["id"] == "C1"
    assert sorted(c1["clip_similarity"]) == ["1", "2", "3"]
    assert all(v >= report["embedder"]["threshold"] for v in c1["clip_similarity"].values())
    assert not [f for f in report["findings"] if f["severity"] == "fail"]


def test_swapped_character_fails_on_the_swapped_clip(
    clip_sets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = audit([str(clip_sets / "swap")], capsys)
    assert code == 1
    fails = [f for f in report["findings"] if f["severity"] == "fail"]
    assert fails
    assert {f["clip"] for f in fails} == {3}
    assert {f["kind"] for f in fails} <= {"identity_swap", "identity_drift"}
    assert report["summary"]["verdict"] == "fail"


def test_cast_names_the_character_and_flags_the_swap(
    clip_sets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = MEDIA / "faces" / "obama" / "obama3.jpg"
    code, report, _ = audit([str(clip_sets / "swap"), "--cast", f"obama={ref}"], capsys)
    assert code == 1
    named = [c for c in report["characters"] if c["name"] == "obama"]
    assert len(named) == 1 and sorted(named[0]["clip_similarity"]) == ["1", "2"]
    assert any(f["kind"] == "missing_character" and f["clip"] == 3 for f in report["findings"])


def test_hamilton_shots_and_cast_match(capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = audit([str(HAMILTON), "--cast", f"miranda={MIRANDA}"], capsys)
    assert code in (0, 1), err
    shots = report["clips"][0]["shots"]
    assert len(shots) == 4
    starts = [s["start_frame"] for s in shots]
    assert starts[0] == 0
    assert abs(starts[1] - 20) <= 5  # dissolve over ~20-25
    assert abs(starts[2] - 82) <= 1
    assert abs(starts[3] - 211) <= 1
    assert shots[-1]["end_frame"] == 274
    miranda = [c for c in report["characters"] if c["name"] == "miranda"]
    assert len(miranda) == 1
    assert 3 in {a["shot"] for a in miranda[0]["appearances"]}
    shot3 = next(a for a in miranda[0]["appearances"] if a["shot"] == 3)
    assert shot3["similarity"] >= report["embedder"]["threshold"]


def test_morph_curve_falls_and_the_horizon_lands_at_the_flip(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from drift_audit.config import AuditConfig
    from drift_audit.run.cast import embed_image
    from drift_audit.run.clip import analyse_clip
    from drift_audit.run.models import Models
    from scripts.media_clips import build_morph

    a, b = MEDIA / "faces" / "obama" / "obama1.jpg", MEDIA / "faces" / "biden" / "biden1.jpg"
    clips = build_morph(tmp_path_factory.mktemp("morph"), a, b, generations=8)
    code, report, _ = audit([str(c) for c in clips], capsys)
    assert code == 1
    assert len(report["characters"]) == 1  # one identity, drifting: not a swap
    curve = [entry["similarity"] for entry in report["characters"][0]["clips"]]
    assert len(curve) == 8
    assert all(later < earlier for earlier, later in itertools.pairwise(curve))
    horizon = report["characters"][0]["coherence_horizon"]
    assert report["characters"][0]["drift_slope"] < 0

    # Where does the identity flip? The first generation that is closer to B than to A.
    models = Models(AuditConfig())
    ref_a, ref_b = embed_image(a, models)[0], embed_image(b, models)[0]
    emb = models.embedder
    flip = None
    for generation, clip in enumerate(clips, start=1):
        tracks = analyse_clip(generation, clip, AuditConfig(), models).tracks
        centre = emb.centroid(np.concatenate([t.embeddings for t in tracks]))[None]
        if emb.similarity(centre, ref_b[None])[0, 0] > emb.similarity(centre, ref_a[None])[0, 0]:
            flip = generation
            break
    assert flip is not None and horizon is not None
    assert abs(horizon - flip) <= 1, (horizon, flip, curve)
    kinds = {(f["kind"], f["clip"]) for f in report["findings"]}
    # Below the threshold the first drifting clip is uncertain; it fails once it is below
    # the threshold less the margin, at most two generations after the flip.
    emb_info = report["embedder"]
    floor = emb_info["calibration"]["measured_threshold"] - emb_info["uncertain_margin"]
    first_fail = next(i for i, sim in enumerate(curve, start=1) if sim < floor)
    assert ("identity_drift", first_fail) in kinds
    assert not {c for k, c in kinds if k == "identity_drift" and c < first_fail}
    assert horizon == first_fail or ("uncertain_identity", horizon) in kinds
    assert first_fail - flip <= 2, (first_fail, flip, curve)


def test_two_fresh_runs_and_a_cached_run_give_the_same_bytes(
    clip_sets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Determinism on the real pipeline: two runs from empty caches write the same
    bytes, and a run that finds every clip in the cache writes those bytes too."""

    def run(cache: Path) -> str:
        with pytest.raises(SystemExit):
            main([str(clip_sets / "swap"), "--cache-dir", str(cache), "--json", "-", "-q"])
        return capsys.readouterr().out

    first, second = run(tmp_path / "a"), run(tmp_path / "b")
    assert first == second
    assert len(list((tmp_path / "a").rglob("*.npz"))) == 3
    assert run(tmp_path / "a") == first
    report = json.loads(first)
    assert report["characters"] and report["characters"][0]["clips"][0]["attributes"] is not None


def test_frames_kept_as_tensors_give_the_same_analysis(
    clip_sets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GPU face pass (torchcodec frames left on the device as tensors: detection,
    tracking and crops there; only crops and the pixels around each face's attribute
    regions reach the host), run here on the CPU: the same tracks and embeddings as
    from numpy frames."""
    from drift_audit.config import AuditConfig
    from drift_audit.decode.registry import backend
    from drift_audit.run import clip as run_clip
    from drift_audit.run import models as run_models

    if backend("torchcodec") is None:
        pytest.skip("torchcodec is not installed or cannot load the system FFmpeg libraries")
    clip = sorted((clip_sets / "consistent").iterdir())[1]
    config = AuditConfig(decoder="torchcodec", device="cpu", use_cache=False)
    models = run_models.Models(config)
    as_arrays = run_clip.analyse_clip(1, clip, config, models)
    models.frames_on_device = True  # what a GPU sets: the same tensor code, on the CPU
    seen: list[str] = []
    detect = models.detector.detect

    def spy(frames, indices):  # type: ignore[no-untyped-def]
        seen.append(type(frames).__name__)
        return detect(frames, indices)

    monkeypatch.setattr(models.detector, "detect", spy)
    as_tensors = run_clip.analyse_clip(1, clip, config, models)
    assert seen and set(seen) == {"Tensor"}
    assert len(as_arrays.tracks) == len(as_tensors.tracks) >= 1
    moved = []
    for a, b in zip(as_arrays.tracks, as_tensors.tracks, strict=True):
        assert np.array_equal(a.faces.frame, b.faces.frame)
        assert np.allclose(a.faces.xyxy, b.faces.xyxy, atol=1e-3)
        # Crops cut on the device agree with cv2's within rounding (one level).
        diff = np.abs(a.crops.images.astype(int) - b.crops.images.astype(int))
        assert diff.max() <= 1 and diff.mean() < 0.01
        moved += list(np.linalg.norm(a.embeddings - b.embeddings, axis=1))
    # dlib's shape predictor (trees of pixel comparisons) can turn a one-level change
    # into another alignment: measured, one level on 0.3% of a crop's pixels moved its
    # embedding by 0.001 in the median of 30 draws and by 0.05 at most (OpenCV 5.1's
    # warpAffine rounds so against 5.0 on 0.3-1% of pixels: two of 10 rows moved 0.03-0.04).
    assert np.median(moved) < 0.005 and max(moved) < 0.08
