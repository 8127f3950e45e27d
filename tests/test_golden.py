"""Golden reports: the fixed cases of scripts/golden.py, audited fresh, must give the
reports saved in tests/golden byte for byte. A change that means to change a report
re-saves them (`make golden`) and the diff shows what moved."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.generated import GENERATED, REPO


@pytest.mark.slow
def test_reports_match_the_golden_files() -> None:
    if not (GENERATED / "manifest.json").is_file():
        pytest.skip("the fixtures are not built (make fixtures)")
    out = subprocess.run(
        [sys.executable, "scripts/golden.py", "--check", "tests/golden"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
