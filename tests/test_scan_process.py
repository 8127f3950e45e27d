"""The lanes' shot passes in a forked child process (issue 14): the same report byte
for byte, each clip's error its own, and a child that dies costs nothing but time."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from drift_audit.config import AuditConfig
from drift_audit.pipeline import audit
from drift_audit.report.json import dumps
from drift_audit.run import scan_process
from drift_audit.run.keep import FrameKeeper
from drift_audit.run.models import Models
from drift_audit.run.scan import scan_shots
from tests.conftest import BLUE, RED, FakeDetector, FakeEmbedder, write_clip
from tests.generated import generated_dir

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork (Linux)"
)


def _fake(config: AuditConfig) -> Models:
    return Models(config, FakeDetector(), FakeEmbedder(), "fake")


def _nothing_left() -> None:
    assert multiprocessing.active_children() == []
    assert [t.name for t in threading.enumerate() if t.name.startswith("drift-audit")] == []


def _scanned_here(clips: list[Path], config: AuditConfig, monkeypatch: pytest.MonkeyPatch) -> str:
    """The JSON report of `clips` with the lanes scanning in this process's threads."""
    with monkeypatch.context() as here:
        here.setattr(scan_process, "ENABLED", False)
        return dumps(audit(clips, config, models=_fake(config)))


def _clips(tmp_path: Path, n: int) -> list[Path]:
    return [write_clip(tmp_path / f"c{i}.mp4", (RED, BLUE)[i % 2], n_frames=30) for i in range(n)]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dir(tmp_path_factory)


def test_the_child_hands_back_the_scan_and_the_frames_a_scan_here_keeps(
    fixtures: Path, tmp_path: Path
) -> None:
    """Also on real codecs' fixtures: the child decodes with one FFmpeg thread, this
    process with FFmpeg's own choice, and the pixels are the same."""
    names = ["shots_cuts.mp4", "stamped_mpeg4.avi", "stamped_vfr.mkv", "stamped_h264.mp4"]
    clips = [*_clips(tmp_path, 2), *(fixtures / n for n in names)]
    config = AuditConfig(use_cache=False)
    scans = scan_process.ScanProcess(list(enumerate(clips)), config)
    try:
        for index, path in enumerate(clips):
            keeper = FrameKeeper(config)
            here = scan_shots(index, path, config, None, decoder="opencv", keeper=keeper)
            done = scans.take(index)
            assert done is not None
            result, kept = done
            assert result.shots == here.shots and result.times == here.times
            assert kept is not None
            frames, expected = kept.wanted(result), keeper.wanted(here)
            assert expected and [f.index for f in frames] == [f.index for f in expected]
            for a, b in zip(frames, expected, strict=True):
                assert a.time_s == b.time_s and np.array_equal(a.image, b.image)
    finally:
        scans.close()
    _nothing_left()


def test_the_report_is_the_one_scanned_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips = _clips(tmp_path, 4)
    config = AuditConfig(use_cache=False, lanes=2)
    taken: list[int] = []
    real = scan_process.ScanProcess.take

    def take(self, index):  # type: ignore[no-untyped-def]
        taken.append(index)
        return real(self, index)

    monkeypatch.setattr(scan_process.ScanProcess, "take", take)
    child = dumps(audit(clips, config, models=_fake(config)))
    assert sorted(taken) == [1, 2, 3, 4]
    assert _scanned_here(clips, config, monkeypatch) == child
    _nothing_left()


@pytest.mark.parametrize("decoder", ["auto", "opencv"])
def test_a_clip_the_child_cannot_read_is_that_clips_error(tmp_path: Path, decoder: str) -> None:
    clips = _clips(tmp_path, 3)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")
    config = AuditConfig(use_cache=False, lanes=2, decoder=decoder)
    report = audit([clips[0], text, clips[1], clips[2]], config, models=_fake(config))
    assert [c.status for c in report.clips] == ["ok", "error", "ok", "ok"]
    assert "notes.mp4" in (report.clips[1].error or "")
    _nothing_left()


def test_a_child_that_dies_leaves_its_clips_to_be_scanned_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips = _clips(tmp_path, 4)
    config = AuditConfig(use_cache=False, lanes=2)
    expected = _scanned_here(clips, config, monkeypatch)
    parent, real = os.getpid(), scan_process.scan_shots

    def dies_at_the_second(index, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.getpid() != parent and index == 1:
            os._exit(9)  # as if killed in the middle of the clip
        return real(index, *args, **kwargs)

    monkeypatch.setattr(scan_process, "scan_shots", dies_at_the_second)
    assert dumps(audit(clips, config, models=_fake(config))) == expected
    _nothing_left()


def test_a_child_whose_parent_is_killed_does_not_live_on(tmp_path: Path) -> None:
    """SIGKILL leaves no one to stop the child: it sees its parent gone and ends."""
    import signal
    import subprocess
    import sys
    import time

    clips = _clips(tmp_path, 6)  # more than AHEAD: the child waits for a lane
    code = (
        "import sys, time\n"
        "from drift_audit.config import AuditConfig\n"
        "from drift_audit.run.scan_process import ScanProcess\n"
        f"scans = ScanProcess(list(enumerate({[str(c) for c in clips]!r})), AuditConfig())\n"
        "print(scans._process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    repo = Path(__file__).resolve().parent.parent
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=repo)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child has scanned AHEAD clips and waits
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def alive() -> bool:
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        return state not in ("Z", "X")  # a zombie has ended; only its parent can reap it

    deadline = time.monotonic() + 10
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive()
