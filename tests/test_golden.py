"""Golden reports: the fixed cases of scripts/golden.py, audited fresh, must give the
reports saved in tests/golden byte for byte, or, on a CPU whose float arithmetic
differs, with only their floats moved and each a little (`golden.close`). A change that
means to change a report re-saves them (`make golden`) and the diff shows what moved."""

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


def test_a_report_is_close_only_when_its_floats_alone_moved_and_a_little() -> None:
    from scripts.golden import close

    saved = '{"a": 0.6833, "box": [353.2, 10.0], "name": "brown", "frames": 50}'
    assert close(saved, '{"a": 0.6816, "box": [353.1, 10.0], "name": "brown", "frames": 50}')
    assert not close(saved, '{"a": 0.7833, "box": [353.2, 10.0], "name": "brown", "frames": 50}')
    renamed = saved.replace('"brown"', '"dark brown"')
    assert not close(saved, renamed)
    assert not close(saved, '{"a": 0.6833, "box": [353.2, 10.0], "name": "brown", "frames": 51}')
    assert not close(saved, '{"box": [353.2, 10.0], "a": 0.6833, "name": "brown", "frames": 50}')
    assert not close(saved, '{"a": 0.6833, "box": [353.2], "name": "brown", "frames": 50}')
    assert not close(saved, "not json")


def test_decimals_in_a_message_are_floats_and_the_rest_of_it_is_text() -> None:
    from scripts.golden import close

    saved = '{"m": "C2 takes its role in clip 3: similarity 0.21 to C1, below 0.32"}'
    assert close(saved, saved.replace("0.21", "0.20"))
    assert not close(saved, saved.replace("0.21", "0.31"))  # moved by more than 0.05
    assert not close(saved, saved.replace("clip 3", "clip 4"))  # whole numbers are text
    assert not close(saved, saved.replace("its role", "the role"))
    assert not close(saved, saved.replace("0.32", "0.32 (margin 0.08)"))
