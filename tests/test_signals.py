"""An interrupted run exits with the signal's conventional code and never leaves a
half-written report: the previous one stays, or there is none."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.generated import REPO


def slow_clip(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    rng = np.random.default_rng(1)
    for _ in range(300):
        writer.write(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_signal_keeps_the_previous_report(tmp_path: Path, sig: int, code: int, jobs: str) -> None:
    clip = slow_clip(tmp_path / "slow.avi")
    clip.with_name("again.avi").write_bytes(clip.read_bytes())
    report = tmp_path / "report.json"
    report.write_text('{"previous": true}\n')
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drift_audit",
            str(clip),
            str(clip.with_name("again.avi")),
            "--json",
            str(report),
            "--no-cache",
            "--sample-fps",
            "25",
            "--jobs",
            jobs,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert report.read_text() == '{"previous": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.avi", "report.json", "slow.avi"]
