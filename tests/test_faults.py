"""Faults that must stay one clip's problem, or no problem at all (issue 10)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from drift_audit.config import AuditConfig
from drift_audit.pipeline import audit
from drift_audit.run.models import Models
from tests.conftest import BLUE, RED, FakeDetector, FakeEmbedder, write_clip


class ExplodingDetector(FakeDetector):
    """Raises once, on its n-th batch of frames `width` pixels wide (counted from 0),
    while that clip's read-ahead thread is still decoding. It counts one clip's batches,
    not all of them: clips run in parallel lanes, so a shared count could go off in the
    other clip's face pass (it did, once, in CI)."""

    def __init__(self, after: int, width: int) -> None:
        super().__init__()
        self.after = after
        self.width = width
        self.seen = 0

    def detect(self, frames: np.ndarray, indices: np.ndarray):  # type: ignore[no-untyped-def]
        if len(frames) and frames.shape[2] == self.width:
            self.seen += 1
            if self.seen == self.after + 1:
                raise RuntimeError("injected fault in the face pass")
        return super().detect(frames, indices)


def test_an_error_in_the_face_pass_is_that_clips_error(tmp_path: Path) -> None:
    """The source is closed only after the read-ahead thread has stopped: before, its
    decoder was released under a running `grab()` and the whole run segfaulted."""
    long = write_clip(tmp_path / "long.mp4", RED, n_frames=240, size=(320, 240), fps=25)
    fine = write_clip(tmp_path / "fine.mp4", BLUE, n_frames=20)
    config = AuditConfig(use_cache=False, sample_fps=25, detect_batch=2, redetect_s=0)
    models = Models(config, ExplodingDetector(after=2, width=320), FakeEmbedder(), "fake")
    report = audit([long, fine], config, models=models)
    assert report.clips[0].status == "error"
    assert "injected fault" in (report.clips[0].error or "")
    assert report.clips[1].status == "ok"
    assert [t.name for t in threading.enumerate() if t.name.startswith("drift-audit")] == []


def test_a_file_replaced_during_its_analysis_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is the content hashed before decoding; a file replaced after that holds
    other content, so its analysis must not be stored under the old content's key."""
    from drift_audit.run import clip as run_clip

    path = write_clip(tmp_path / "c.mp4", RED, n_frames=30)
    original = path.read_bytes()
    replacement = write_clip(tmp_path / "other.mp4", BLUE, n_frames=50).read_bytes()
    real = run_clip.analyse_clip

    def analyse_then_replace(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        path.write_bytes(replacement)  # the user re-renders the clip meanwhile
        return result

    monkeypatch.setattr(run_clip, "analyse_clip", analyse_then_replace)
    cache = tmp_path / "cache"
    config = AuditConfig(cache_dir=cache)
    models = Models(config, FakeDetector(), FakeEmbedder(), "fake")
    audit([path], config, models=models)
    assert list(cache.rglob("*.npz")) == []
    # The original content, audited again, is analysed afresh and then cached.
    path.write_bytes(original)
    monkeypatch.setattr(run_clip, "analyse_clip", real)
    again = audit([path], config, models=models)
    assert again.clips[0].frames_read == 30
    assert len(list(cache.rglob("*.npz"))) == 1


def test_a_signal_during_the_imports_is_kept_until_the_first_safe_point() -> None:
    """The entry point records signals before importing the command line; `watching()`
    must keep what arrived then (it used to start with a fresh, empty record)."""
    import os
    import signal

    from drift_audit import interrupts

    before = {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS}
    try:
        interrupts.install()
        os.kill(os.getpid(), signal.SIGTERM)
        with interrupts.watching(), pytest.raises(interrupts.Interrupted) as caught:
            interrupts.check()
        assert caught.value.signum == signal.SIGTERM
    finally:
        interrupts._received.clear()
        for sig, handler in before.items():
            signal.signal(sig, handler)


@pytest.mark.slow
def test_an_exception_while_a_worker_loads_the_models_is_an_internal_error(
    tmp_path: Path,
) -> None:
    """It used to print the worker's traceback and end as a clip-less run error."""
    import os
    import subprocess
    import sys

    from tests.generated import REPO

    clip = write_clip(tmp_path / "a.mp4", RED, n_frames=10)
    report = tmp_path / "report.json"
    report.write_text("previous\n")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(REPO / "scripts" / "soak_inject"), str(REPO)]),
        DRIFT_AUDIT_SOAK_FAULT="model",
    )
    out = subprocess.run(
        [sys.executable, "-m", "drift_audit", str(clip), "--jobs", "2", "--json", str(report)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert out.returncode == 3, out.stderr
    [line] = out.stderr.splitlines()
    assert line.startswith(
        "drift-audit: internal error: WorkerCrash: a worker process could not load the"
        " models: RuntimeError: soak: injected model-loading fault (traceback in "
    ), line
    assert line.endswith(".log; please report it)")
    assert report.read_text() == "previous\n"
