"""CI's slice of `make soak`: 20 runs under signals and injected faults (two of each
kind in the rotation), each of which must end the documented way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.generated import REPO


@pytest.mark.slow
def test_twenty_runs_under_faults_end_as_documented() -> None:
    out = subprocess.run(
        [sys.executable, "scripts/soak.py", "--runs", "20", "--seed", "20"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1].startswith("soak: 20 of 20 runs passed")
