"""Worker processes (--jobs, --clip-timeout) and the per-clip cache, on the real pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drift_audit.cache import ClipCache, cache_key
from drift_audit.cli import main
from drift_audit.config import AuditConfig
from tests.generated import generated_dir


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dir(tmp_path_factory)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    with pytest.raises(SystemExit) as caught:
        main([*args, "--json", "-", "-q"])
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), json.loads(out), err


def test_cache_key_changes_with_what_changes_the_analysis() -> None:
    base = cache_key("a" * 64, AuditConfig(), "dlib", "b" * 64)
    assert base == cache_key("a" * 64, AuditConfig(fail_on="warn", jobs=2), "dlib", "b" * 64)
    assert base != cache_key("c" * 64, AuditConfig(), "dlib", "b" * 64)
    assert base != cache_key("a" * 64, AuditConfig(sample_fps=2.0), "dlib", "b" * 64)
    assert base != cache_key("a" * 64, AuditConfig(), "facenet", "b" * 64)
    assert base != cache_key("a" * 64, AuditConfig(), "dlib", "d" * 64)


@pytest.mark.slow
def test_an_entry_made_by_other_analysis_code_is_never_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key carries drift-audit's version and a fingerprint of its analysis code, so
    an upgrade (or an edit that forgot to bump CACHE_FORMAT) never reuses old analyses."""
    from drift_audit import cache

    config = AuditConfig()
    now = cache_key("c" * 64, config, "dlib", "w" * 64)
    assert len(cache.code_fingerprint()) == 64
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "0" * 64)
    assert cache_key("c" * 64, config, "dlib", "w" * 64) != now
    monkeypatch.setattr(cache, "__version__", "0.0.0-older")
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "0" * 64)
    older = cache_key("c" * 64, config, "dlib", "w" * 64)
    assert older not in (now, cache_key("c" * 64, AuditConfig(sample_fps=4), "dlib", "w" * 64))


def test_cache_hit_gives_the_same_report_and_corrupt_entries_are_rebuilt(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = [str(fixtures / "shots_flash.mp4"), str(fixtures / "stamped_h264.mp4")]
    cache = tmp_path / "cache"
    _, first, _ = run([*clips, "--cache-dir", str(cache)], capsys)
    entries = sorted(cache.rglob("*.npz"))
    assert len(entries) == 2
    _, second, _ = run([*clips, "--cache-dir", str(cache)], capsys)
    assert second == first
    # Corrupt one entry and truncate the other: both are rebuilt, the report is unchanged.
    entries[0].write_bytes(b"\0" * 100 + entries[0].read_bytes()[100:])
    entries[1].write_bytes(entries[1].read_bytes()[:50])
    _, third, _ = run([*clips, "--cache-dir", str(cache)], capsys)
    assert third == first
    store = ClipCache(cache)
    for entry in sorted(cache.rglob("*.npz")):
        assert store.load(entry.stem, 1, "x") is not None  # rewritten, valid again


@pytest.mark.slow
def test_jobs_give_the_same_report_as_one_process(
    fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = [str(fixtures / n) for n in ("shots_cuts.mp4", "empty.mp4", "no_faces.mp4")]
    code1, one, _ = run([*clips, "--no-cache"], capsys)
    code2, two, _ = run([*clips, "--no-cache", "--jobs", "2"], capsys)
    assert code1 == code2 == 2
    assert one == two


@pytest.mark.slow
def test_clip_over_its_time_budget_is_an_error_and_the_rest_goes_on(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2
    import numpy as np

    slow = tmp_path / "slow.avi"
    writer = cv2.VideoWriter(str(slow), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    rng = np.random.default_rng(0)
    for _ in range(400):
        writer.write(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    writer.release()
    code, report, err = run(
        [
            str(slow),
            str(fixtures / "one_frame.mp4"),
            "--no-cache",
            "--sample-fps",
            "25",
            "--redetect",
            "0",  # a full-frame detection on all 400 frames: well over 3 s
            "--clip-timeout",
            "3",
        ],
        capsys,
    )
    assert code == 2
    assert report["clips"][0]["status"] == "error"
    assert "timed out after 3 s (--clip-timeout)" in report["clips"][0]["error"]
    assert "slow.avi: timed out" in err
    assert report["clips"][1]["status"] == "ok"


def test_the_next_clips_shot_pass_runs_beside_this_clips_faces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one lane, pass 1 of clip k + 1 runs in a background thread during clip k's
    face pass; the report is the same as with every clip scanned in turn."""
    import threading

    from drift_audit import pipeline
    from drift_audit.run import clip as run_clip
    from drift_audit.run import models as run_models
    from drift_audit.run import prefetch, scan
    from tests.conftest import FakeDetector, FakeEmbedder, write_clip

    clips = [write_clip(tmp_path / f"c{i}.avi", n_frames=12) for i in range(3)]
    clips.append(tmp_path / "missing.mp4")  # an error found ahead is still this clip's
    config = AuditConfig(use_cache=False, lanes=1)
    scans: list[tuple[str, str]] = []
    real = scan.scan_shots

    def spy(index, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        scans.append((Path(path).name, threading.current_thread().name))
        return real(index, path, *args, **kwargs)

    monkeypatch.setattr(prefetch, "scan_shots", spy)
    monkeypatch.setattr(run_clip, "scan_shots", spy)
    models = run_models.Models(config, FakeDetector(), FakeEmbedder(), "fake")
    ahead = pipeline.audit(list(clips), config, models=models)
    threads = {name: {t for n, t in scans if n == name} for name, _ in scans}
    assert threads["c0.avi"] == {"MainThread"}
    assert threads["c1.avi"] == threads["c2.avi"] == {"drift-audit-scan"}
    # A clip the scan ahead could not read is tried again in turn, as usual.
    assert threads["missing.mp4"] == {"drift-audit-scan", "MainThread"}
    assert [c.status for c in ahead.clips] == ["ok", "ok", "ok", "error"]
    assert "missing.mp4" in (ahead.clips[3].error or "")

    one_by_one = [
        run_clip.analyse_clip(i + 1, clip, config, models) for i, clip in enumerate(clips[:3])
    ]
    for a, b in zip(ahead.clips[:3], one_by_one, strict=True):
        assert [(s.start_frame, s.end_frame) for s in a.shots] == [
            (s.start_frame, s.end_frame) for s in b.shots
        ]
        assert a.info == b.info


class SlowDetector:
    """FakeDetector whose calls take a while (sleeping, as torch does, without the GIL)
    and are recorded: (clip frame size, thread, start, end)."""

    def __init__(self) -> None:
        import threading

        from tests.conftest import FakeDetector

        self.inner = FakeDetector()
        self.calls: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def _timed(self, call):  # type: ignore[no-untyped-def]
        import threading
        import time

        start = time.monotonic()
        time.sleep(0.02)
        out = call()
        with self._lock:
            self.calls.append((threading.current_thread().name, start, time.monotonic()))
        return out

    def detect(self, frames, indices):  # type: ignore[no-untyped-def]
        return self._timed(lambda: self.inner.detect(frames, indices))

    def refine(self, frame, boxes, index):  # type: ignore[no-untyped-def]
        return self._timed(lambda: self.inner.refine(frame, boxes, index))


def test_lanes_run_clips_side_by_side_and_report_the_same(tmp_path: Path) -> None:
    """Two lanes: the next clip's decode and detection run beside this one's, in two
    threads; the report is byte for byte the one of clips analysed in turn."""
    from drift_audit import pipeline
    from drift_audit.report.json import dumps
    from drift_audit.run import models as run_models
    from tests.conftest import BLUE, RED, FakeEmbedder, write_clip

    clips: list[Path] = [
        write_clip(tmp_path / f"c{i}.avi", (RED, BLUE)[i % 2], n_frames=30) for i in range(4)
    ]
    clips.insert(2, tmp_path / "missing.mp4")
    reports = {}
    detectors = {}
    for lanes in (1, 2):
        config = AuditConfig(use_cache=False, lanes=lanes, sample_fps=10)
        detectors[lanes] = SlowDetector()
        models = run_models.Models(config, detectors[lanes], FakeEmbedder(), "fake")  # type: ignore[arg-type]
        reports[lanes] = dumps(pipeline.audit(list(clips), config, models=models))
    assert reports[2] == reports[1]
    assert '"status": "error"' in reports[2] and "missing.mp4" in reports[2]
    calls = detectors[2].calls
    assert {t for t, _, _ in calls} == {"drift-audit-lane-0", "drift-audit-lane-1"}
    overlapping = [
        (a, b)
        for a in calls
        for b in calls
        if a[0] != b[0] and a[1] < b[2] and b[1] < a[2]  # two lanes detecting at once
    ]
    assert overlapping
    assert {t for t, _, _ in detectors[1].calls} == {"MainThread"}


@pytest.mark.parametrize(
    "name", ["shots_cuts.mp4", "shots_dissolve.mp4", "stamped_mpeg4.avi", "stamped_vfr.mkv"]
)
def test_frames_kept_by_the_shot_pass_are_those_a_second_decode_gives(
    fixtures: Path, name: str
) -> None:
    """One decode: the frames pass 1 keeps for pass 2 are, frame for frame and pixel for
    pixel, the sampled frames a second decode gives; the shots are those of a pass 1
    that keeps nothing."""
    import numpy as np

    from drift_audit.decode.registry import open_source
    from drift_audit.run.faces import sampler
    from drift_audit.run.keep import FrameKeeper
    from drift_audit.run.scan import scan_shots

    config = AuditConfig(use_cache=False)
    path = fixtures / name
    plain = scan_shots(1, path, config, None)
    keeper = FrameKeeper(config)
    result = scan_shots(1, path, config, None, keeper=keeper)
    assert (result.shots, result.glitches, result.times) == (
        plain.shots,
        plain.glitches,
        plain.times,
    )
    kept = keeper.wanted(result)
    assert kept is not None
    source = open_source(path, "opencv")
    try:
        again = [f for f in source.frames(sampler(config, result.shots)) if f.image is not None]
    finally:
        source.close()
    assert [(f.index, f.time_s, f.lost_before) for f in kept] == [
        (f.index, f.time_s, f.lost_before) for f in again
    ]
    for a, b in zip(kept, again, strict=True):
        assert np.array_equal(a.image, b.image)
    small = FrameKeeper(config, budget=kept[0].image.nbytes * 3)  # type: ignore[union-attr]
    assert small.wanted(scan_shots(1, path, config, None, keeper=small)) is None


def test_temporary_entries_of_killed_runs_are_swept(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    cache = tmp_path / "cache"
    args = [str(fixtures / "no_faces.mp4"), "--cache-dir", str(cache)]
    assert run(args, capsys)[0] == 0
    (entry,) = cache.glob("*/*.npz")
    stale = entry.parent / f".{entry.name}.0123456789ab.tmp"  # as a kill -9 leaves it
    stale.write_bytes(entry.read_bytes()[:100])
    os.utime(stale, (1e9, 1e9))
    assert ClipCache(cache).sweep() == 1
    stale.write_bytes(b"x")
    os.utime(stale, (1e9, 1e9))
    assert run(args, capsys)[0] == 0
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == [entry.name]


def _small_tmpfs(folder: Path) -> bool:
    import subprocess

    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    return mounted.returncode == 0


def test_a_full_disk_costs_the_cache_nothing_and_leaves_no_files(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    disk = tmp_path / "disk"
    if not _small_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        (disk / "filler").write_bytes(b"\0" * (60 << 10))  # leaves less than an entry
        args = [str(fixtures / "stamped_h264.mp4"), "--cache-dir", str(disk / "cache")]
        code, report, err = run(args, capsys)
        assert code == 0 and report["clips"][0]["status"] == "ok", err
        left = sorted(str(p.relative_to(disk)) for p in disk.rglob("*") if p.is_file())
        assert left == ["filler"]
    finally:
        subprocess.run(["umount", str(disk)], check=False)
