"""The command line, in-process: exit codes, one-line errors, reports on stdout/files.

Runs that reach the pipeline use the fake detector and embedder (conftest.py) on
tiny clips written with cv2.VideoWriter: a red or blue square "face" on grey.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner, Result

from drift_audit import __version__, pipeline
from drift_audit.cli import audit_app, main
from drift_audit.report import json as json_report

try:
    from tests.conftest import BLUE, GREEN, GREY, RED, WHITE, FakeDetector
except ImportError:  # pytest put tests/ itself on sys.path
    from conftest import BLUE, GREEN, GREY, RED, WHITE, FakeDetector  # type: ignore[no-redef]

MakeClip = Callable[..., Path]


def invoke(*args: object, stdin: str | None = None) -> Result:
    """Run `drift-audit ARGS` in-process; never a traceback, whatever the outcome."""
    result = CliRunner().invoke(audit_app, [str(a) for a in args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in result.output
    return result


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def report_at(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text("utf-8"))
    jsonschema.validate(data, json_report.schema())
    return data


@pytest.fixture
def no_audit(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records any call into the pipeline or a decoder; option errors must come first."""
    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError("the pipeline ran although the options were bad")

    monkeypatch.setattr(pipeline, "audit", refuse)
    return calls


# --- help and version -------------------------------------------------------------


def test_help_lists_options_and_exit_codes() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for option in ("--json", "--cast", "--fail-on", "--sample-fps", "--weights", "--embedder"):
        assert option in text
    assert "Exit codes: 0" in text
    assert "1 such findings" in text
    assert "2 usage error" in text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"drift-audit {__version__}"


def test_version_after_another_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--quiet", "--version"])
    assert info.value.code in (0, None)
    assert f"drift-audit {__version__}" in capsys.readouterr().out


# --- bad options: exit 2, one line naming the option, nothing read ----------------


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--sample-fps", "0"], "--sample-fps"),
        (["--min-face", "4"], "--min-face"),
        (["--confidence", "0.2"], "--confidence"),
        (["--faces-per-track", "0"], "--faces-per-track"),
        (["--batch-size", "0"], "--batch-size"),
        (["--threshold", "1.5"], "--threshold"),
        (["--clip-timeout", "-1"], "--clip-timeout"),
        (["--cast", "ann"], "--cast"),
        (["--cast", "=face.png"], "--cast"),
        (["--cast", "ann=a.png", "--cast", "ann=b.png"], "--cast"),
        (["--embedder", "dlib", "--weights", "{weights}"], "--weights"),
        (["--weights", "{missing}"], "--weights"),
    ],
)
def test_bad_option_value_is_one_line_exit_2(
    tmp_path: Path, no_audit: list[object], args: list[str], names: str
) -> None:
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"x")
    args = [a.format(weights=weights, missing=tmp_path / "none.pt") for a in args]
    result = invoke(tmp_path / "a.mp4", *args)
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert line.startswith("drift-audit: error: ")
    assert names in line
    assert result.stdout == ""
    assert no_audit == []


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--fail-on", "sometimes"], "--fail-on"),
        (["--embedder", "arcface"], "--embedder"),
        (["--sample-fps", "fast"], "--sample-fps"),
    ],
)
def test_unparsable_option_exits_2(
    tmp_path: Path, no_audit: list[object], args: list[str], names: str
) -> None:
    result = invoke(tmp_path / "a.mp4", *args)
    assert result.exit_code == 2
    assert names in result.stderr
    assert no_audit == []


def test_json_into_missing_folder_fails_before_any_clip_is_read(
    tmp_path: Path, no_audit: list[object]
) -> None:
    target = tmp_path / "nowhere" / "report.json"
    result = invoke(tmp_path / "a.mp4", "--json", target)
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert str(target) in line
    assert "does not exist" in line
    assert no_audit == []


def test_json_into_missing_folder_names_the_option(tmp_path: Path, no_audit: list[object]) -> None:
    result = invoke(tmp_path / "a.mp4", "--json", tmp_path / "nowhere" / "report.json")
    assert "--json" in result.stderr


def test_json_into_a_directory_exits_2(tmp_path: Path, no_audit: list[object]) -> None:
    result = invoke(tmp_path / "a.mp4", "--json", tmp_path)
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "--json" in line
    assert no_audit == []


def test_empty_stdin_is_a_usage_error(no_audit: list[object]) -> None:
    result = invoke("-", stdin="\n\n")
    assert result.exit_code == 2
    assert "no clips given" in result.stderr


# --- unreadable inputs ----------------------------------------------------------


def test_missing_clip_exits_2_and_is_listed_in_the_report(
    tmp_path: Path, fake_models: dict
) -> None:
    missing = tmp_path / "gone.mp4"
    out = tmp_path / "report.json"
    result = invoke(missing, "--json", out, "-q")
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    assert str(missing) in result.stderr
    data = report_at(out)
    [clip] = data["clips"]
    assert clip["status"] == "error"
    assert "no such file" in clip["error"]
    assert data["embedder"] is None
    assert data["summary"]["unreadable_clips"] == 1


def test_unreadable_clip_does_not_stop_the_readable_one(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    good = make_clip("good.mp4", RED)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all, just some words\n" * 4)
    out = tmp_path / "report.json"
    result = invoke(good, text, "--json", out)
    assert result.exit_code == 2
    assert any(str(text) in line for line in error_lines(result))
    data = report_at(out)
    assert [(c["index"], c["status"]) for c in data["clips"]] == [(1, "ok"), (2, "error")]
    assert data["clips"][0]["frames"] == 20
    assert data["clips"][0]["tracks"] == 1
    assert len(data["characters"]) == 1


# --- runs through the pipeline with the fakes ------------------------------------


def test_consistent_identity_passes(tmp_path: Path, make_clip: MakeClip, fake_models: dict) -> None:
    a, b = make_clip("a.mp4", RED), make_clip("b.avi", RED)
    out = tmp_path / "report.json"
    result = invoke(a, b, "--json", out)
    assert result.exit_code == 0, result.output
    assert "PASS" in result.stdout
    data = report_at(out)
    assert [c["status"] for c in data["clips"]] == ["ok", "ok"]
    assert [ch["id"] for ch in data["characters"]] == ["C1"]
    assert set(data["characters"][0]["clip_similarity"]) == {"1", "2"}
    assert data["findings"] == []
    assert data["summary"]["verdict"] == "pass"
    assert data["embedder"]["name"] == "dlib"  # the fake's name: no real model was built
    assert fake_models["embedder"].batches  # type: ignore[attr-defined]


def test_swapped_identity_fails(tmp_path: Path, make_clip: MakeClip, fake_models: dict) -> None:
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)
    out = tmp_path / "report.json"
    result = invoke(a, b, "--json", out)
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.stdout
    data = report_at(out)
    fails = [(f["kind"], f["clip"]) for f in data["findings"] if f["severity"] == "fail"]
    assert fails
    assert all(kind in ("identity_swap", "identity_drift") for kind, _ in fails)
    assert {clip for _, clip in fails} == {2}
    assert data["summary"]["verdict"] == "fail"


def test_fail_on_never_passes_despite_failures(make_clip: MakeClip, fake_models: dict) -> None:
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)
    result = invoke(a, b, "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert "identity_" in result.stdout  # the finding is still reported


def test_fail_on_warn_fails_a_warn_only_run(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    # At a threshold of 0.95 the same face lands in the "uncertain" band above it.
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", RED)
    out = tmp_path / "report.json"
    warn_only = invoke(a, b, "--threshold", "0.95", "--json", out)
    assert warn_only.exit_code == 0, warn_only.output
    data = report_at(out)
    assert data["findings"]
    assert {f["severity"] for f in data["findings"]} == {"warn"}
    assert "uncertain_identity" in {f["kind"] for f in data["findings"]}
    strict = invoke(a, b, "--threshold", "0.95", "--fail-on", "warn")
    assert strict.exit_code == 1, strict.output


def test_flash_is_a_warn_that_fails_only_with_fail_on_warn(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    flash = make_clip("flash.mp4", RED, changes={10: WHITE, 11: GREY})
    out = tmp_path / "report.json"
    result = invoke(flash, "--json", out)
    assert result.exit_code == 0, result.output
    data = report_at(out)
    [clip] = data["clips"]
    assert len(clip["shots"]) == 1
    assert clip["glitch_frames"] == [10]
    assert [(f["kind"], f["severity"], f["frame"]) for f in data["findings"]] == [
        ("glitch_frame", "warn", 10)
    ]
    assert invoke(flash, "--fail-on", "warn").exit_code == 1


def test_cut_inside_a_clip_keeps_one_character(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    cut = make_clip("cut.mp4", RED, changes={10: GREEN})
    result = invoke(cut, make_clip("b.mp4", RED), "--json", "-", "-q")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(s["start_frame"], s["end_frame"]) for s in data["clips"][0]["shots"]] == [
        (0, 9),
        (10, 19),
    ]
    [character] = data["characters"]
    assert [(a["clip"], a["shot"]) for a in character["appearances"]] == [(1, 1), (1, 2), (2, 1)]
    # The background behind the fake face changes colour, which reads as clothing: only
    # an attribute warning, no identity finding.
    assert [f["kind"] for f in data["findings"]] in ([], ["attribute_drift"])


def test_json_to_stdout_is_only_json(make_clip: MakeClip, fake_models: dict) -> None:
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)
    result = invoke(a, b, "--json", "-")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    jsonschema.validate(data, json_report.schema())
    assert len(data["clips"]) == 2
    assert "verdict" in result.stderr  # the terminal report moved to stderr


def test_json_to_stdout_quiet_leaves_stderr_empty(make_clip: MakeClip, fake_models: dict) -> None:
    result = invoke(make_clip("a.mp4", RED), "--json", "-", "-q")
    assert result.exit_code == 0
    json.loads(result.stdout)
    assert result.stderr == ""


def test_json_report_is_identical_across_runs(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)
    first = invoke(a, b, "--json", "-", "-q").stdout
    assert first == invoke(a, b, "--json", "-", "-q").stdout


def test_clips_from_stdin_and_folders(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    folder = tmp_path / "story"
    folder.mkdir()
    second = make_clip("story/2.mp4", BLUE)
    first = make_clip("story/1.mp4", RED)
    result = invoke("-", "--json", "-", "-q", stdin=f"{folder}\n")
    data = json.loads(result.stdout)
    assert [c["path"] for c in data["clips"]] == [str(first), str(second)]


def test_main_maps_errors_to_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "a.mp4"), "--sample-fps", "0"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("drift-audit: error: --sample-fps")


def test_failed_report_write_is_one_line_exit_2(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = make_clip("a.mp4", RED)
    report = tmp_path / "r.json"
    real_replace = os.replace

    def refuse_report(src: str, dst: str | Path) -> None:
        if Path(dst) == report:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse_report)
    result = CliRunner().invoke(audit_app, [str(clip), "--json", str(report)])
    assert result.exit_code == 2
    assert not isinstance(result.exception, OSError)
    assert "drift-audit: error:" in result.stderr


# --- cast references ---------------------------------------------------------------


def write_face_image(path: Path, rgb: tuple[int, int, int]) -> Path:
    image = np.full((96, 128, 3), 110, np.uint8)
    x0, y0, x1, y1 = (round(float(v)) for v in FakeDetector.box(96, 128))
    image[y0:y1, x0:x1] = rgb  # where FakeDetector finds the face
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def test_cast_member_names_the_matching_character(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    ann = write_face_image(tmp_path / "ann.png", RED)
    bob = write_face_image(tmp_path / "bob.png", BLUE)
    clip = make_clip("a.mp4", RED)
    result = invoke(clip, "--cast", f"ann={ann}", "--cast", f"bob={bob}", "--json", "-", "-q")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(c["id"], c["name"]) for c in data["characters"]] == [("C1", "ann")]
    assert [(f["kind"], f["severity"], f["clip"]) for f in data["findings"]] == [
        ("missing_character", "warn", 1)
    ]
    assert "bob" in data["findings"][0]["message"]


def test_missing_cast_image_exits_2(tmp_path: Path, make_clip: MakeClip, fake_models: dict) -> None:
    result = invoke(make_clip("a.mp4", RED), "--cast", f"ann={tmp_path / 'none.png'}")
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "none.png" in line
    assert "no such file" in line


@pytest.mark.skipif(sys.platform != "linux", reason="needs file names that are not UTF-8")
def test_clip_with_a_non_utf8_name_is_reported_not_a_crash(tmp_path: Path) -> None:
    # Run in a child process: the crash takes the interpreter with it.
    odd = os.fsencode(tmp_path) + b"/clip\xff.mp4"
    with open(odd, "wb") as fh:
        fh.write(bytes(range(256)) * 16)  # binary, and no video
    proc = subprocess.run(
        [sys.executable, "-m", "drift_audit", "-q", odd], capture_output=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr[-500:]
    assert b"Traceback" not in proc.stderr


# --- drift-audit models --------------------------------------------------------------


def run_main(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def empty_model_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRIFT_AUDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "home"


def test_models_lists_both_embedders(
    empty_model_folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(["models"]) == 0
    out = capsys.readouterr().out
    assert "dlib     installed" in out
    assert "facenet  missing" in out
    assert str(empty_model_folders / "models") in " ".join(out.split())


@pytest.mark.slow
def test_models_import_of_garbage_is_one_line_exit_2(
    tmp_path: Path, empty_model_folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "weights.pt"
    garbage.write_bytes(b"not torch")
    assert run_main(["models", "import", str(garbage)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("drift-audit: error: ")
    assert str(garbage) in line
    assert list((empty_model_folders / "models").glob("*")) == []


def test_an_internal_error_has_its_own_exit_code(
    monkeypatch: pytest.MonkeyPatch, make_clip: MakeClip, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug must never read as "findings" (1) to the CI that runs the gate."""
    from drift_audit.cli import main

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, "audit", broken)
    with pytest.raises(SystemExit) as caught:
        main([str(make_clip("a.mp4")), "-q"])
    assert caught.value.code == 3
    err = capsys.readouterr().err
    [line] = err.splitlines()
    match = re.fullmatch(
        r"drift-audit: internal error: RuntimeError: a bug "
        r"\(traceback in (\S+); please report it\)",
        line,
    )
    assert match, line
    log = Path(match[1]).read_text()
    assert "Traceback (most recent call last)" in log and "RuntimeError: a bug" in log
    assert "def broken" not in log and "in broken" in log  # the traceback, not the source


def test_a_full_stdout_is_a_one_line_error(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    """`--json -` into /dev/full: one line naming stdout, exit 2, no traceback."""
    import subprocess
    import sys

    clip = make_clip("a.mp4")
    code = (
        "import sys; from tests.conftest import FakeDetector, FakeEmbedder\n"
        "from drift_audit import pipeline; from drift_audit.run import models\n"
        "real = models.Models\n"
        "class Fake(real):\n"
        "    def __init__(self, config, *a, **k):\n"
        "        super().__init__(config, FakeDetector(), FakeEmbedder(), 'fake')\n"
        "pipeline.Models = Fake\n"
        "from drift_audit.cli import main\n"
        f"main([{str(clip)!r}, '--json', '-', '-q', '--no-cache'])\n"
    )
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-c", code],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("drift-audit: error: --json -: cannot write to stdout")
    assert "Traceback" not in out.stderr


def test_two_reports_at_one_path_are_refused_before_any_work(
    tmp_path: Path, make_clip: MakeClip, no_audit: list[object]
) -> None:
    """--html onto the --json path used to overwrite the JSON silently."""
    clip = make_clip("a.mp4")
    out = tmp_path / "report.json"
    result = invoke(clip, "--json", out, "--html", out)
    assert result.exit_code == 2
    assert error_lines(result) == [
        f"drift-audit: error: --json and --html name the same file {out}"
    ]
    assert not out.exists() and no_audit == []


@pytest.mark.skipif(os.name != "posix", reason="FIFOs and symlinks")
def test_a_report_onto_a_fifo_is_refused_before_any_work(
    tmp_path: Path, make_clip: MakeClip, no_audit: list[object]
) -> None:
    """--json onto a FIFO used to replace the FIFO with a regular file."""
    clip = make_clip("a.mp4")
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    result = invoke(clip, "--json", fifo)
    assert result.exit_code == 2
    assert error_lines(result) == [
        f"drift-audit: error: --json {fifo}: is a FIFO, not a regular file; give a file path;"
        " use --json - for stdout"
    ]
    assert stat.S_ISFIFO(fifo.stat().st_mode) and no_audit == []


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_two_reports_through_a_symlink_at_one_file_are_refused(
    tmp_path: Path, make_clip: MakeClip, no_audit: list[object]
) -> None:
    clip = make_clip("a.mp4")
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = invoke(clip, "--json", link, "--contact-sheet", real)
    assert result.exit_code == 2
    assert error_lines(result) == [
        f"drift-audit: error: --json and --contact-sheet name the same file {real}"
    ]


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_a_report_through_a_symlink_replaces_its_target_and_keeps_the_link(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    clip = make_clip("a.mp4")
    real = tmp_path / "real.json"
    real.write_text("previous\n")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    result = invoke(clip, "--json", link, "--no-cache", "-q")
    assert result.exit_code in (0, 1), result.output
    assert link.is_symlink() and json.loads(real.read_text())["clips"]


# --- issue 13: inputs that never crash -----------------------------------------------

FAKE_MODELS = (
    "import sys; from tests.conftest import FakeDetector, FakeEmbedder\n"
    "from drift_audit import pipeline; from drift_audit.run import models\n"
    "real = models.Models\n"
    "class Fake(real):\n"
    "    def __init__(self, config, *a, **k):\n"
    "        super().__init__(config, FakeDetector(), FakeEmbedder(), 'fake')\n"
    "pipeline.Models = Fake\n"
)
REPO = Path(__file__).resolve().parent.parent


def test_nul_separated_stdin_is_read_not_a_crash(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    """`find ... -print0 | drift-audit -` used to crash ("embedded null byte", exit 1)."""
    a, b = make_clip("a.mp4", RED), make_clip("b b.avi", RED)
    result = invoke("-", "--json", "-", "-q", stdin=f"{a}\0{b}\0")
    assert result.exit_code == 0, result.output
    assert [c["path"] for c in json.loads(result.stdout)["clips"]] == [str(a), str(b)]


def test_null_flag_reads_names_with_newlines(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    odd = make_clip("two\nlines.mp4", RED)
    result = invoke("-0", "-", "--json", "-", "-q", stdin=str(odd))
    assert result.exit_code == 0, result.output
    assert [c["path"] for c in json.loads(result.stdout)["clips"]] == [str(odd)]


def test_the_same_path_twice_warns_and_is_audited_once(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    """It used to end "INCOMPLETE (unreadable input)" with exit 2."""
    a = make_clip("a.mp4", RED)
    result = invoke(a, a, "--json", "-", "-q")
    assert result.exit_code == 0, result.output
    assert error_lines(result) == [
        f"drift-audit: warning: {a}: given again (clip 1); audited once, as clip 1"
    ]
    data = json.loads(result.stdout)
    assert [c["status"] for c in data["clips"]] == ["ok"]
    assert data["summary"]["unreadable_clips"] == 0


def test_a_byte_identical_copy_is_a_duplicate_clip_warning(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    a = make_clip("a.mp4", RED)
    copy = tmp_path / "final_v2.mp4"
    copy.write_bytes(a.read_bytes())
    out = tmp_path / "r.json"
    result = invoke(a, copy, "--json", out, "-q")
    assert result.exit_code == 0, result.output
    data = report_at(out)
    assert [c["status"] for c in data["clips"]] == ["ok", "ok"]
    dups = [f for f in data["findings"] if f["kind"] == "duplicate_clip"]
    assert [(f["severity"], f["clip"]) for f in dups] == [("warn", 2)]
    assert "final_v2.mp4" in dups[0]["message"] and "a.mp4" in dups[0]["message"]
    assert invoke(a, copy, "--fail-on", "warn", "-q").exit_code == 1


def test_a_mixed_folder_lists_every_skipped_file(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict
) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    make_clip("delivery/1.mp4", RED)
    write_face_image(folder / "2.png", RED)
    (folder / "notes.txt").write_text("hello")
    (folder / "cover.heic").write_bytes(b"\0" * 64)
    (folder / "old").mkdir()
    result = invoke(folder, "--json", "-", "-q")
    assert result.exit_code == 0, result.output
    assert [c["path"] for c in json.loads(result.stdout)["clips"]] == [
        str(folder / "1.mp4"),
        str(folder / "2.png"),
    ]
    lines = error_lines(result)
    assert len(lines) == 3
    assert all(line.startswith("drift-audit: warning: ") for line in lines)
    for name, reason in [
        ("cover.heic", "HEIC/HEIF stills cannot be decoded here"),
        ("notes.txt", "not a video or still image (.txt)"),
        ("old", "a folder"),
    ]:
        assert any(f"{folder / name}: skipped: {reason}" in line for line in lines), lines


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".avif"])
def test_a_folder_of_stills_is_one_one_frame_clip_each(
    tmp_path: Path, fake_models: dict, suffix: str
) -> None:
    folder = tmp_path / "stills"
    folder.mkdir()
    for name, colour in (("a", RED), ("b", RED), ("c", BLUE)):
        write_face_image(folder / f"{name}{suffix}", colour)
    out = tmp_path / "r.json"
    result = invoke(folder, "--json", out, "-q")
    assert result.exit_code == 1, result.output  # c is someone else: a swap or drift fails
    data = report_at(out)
    assert [(c["frames"], c["decoder"], c["tracks"]) for c in data["clips"]] == [
        (1, "stills", 1)
    ] * 3
    assert {f["clip"] for f in data["findings"] if f["severity"] == "fail"} == {3}


def test_a_sequence_is_one_clip_at_fps(tmp_path: Path, fake_models: dict) -> None:
    folder = tmp_path / "shot_010"
    folder.mkdir()
    for i in range(1001, 1011):
        write_face_image(folder / f"shot_010.{i}.png", RED)
    (folder / "thumbs.db").write_bytes(b"\0")
    out = tmp_path / "r.json"
    result = invoke("--sequence", folder, "--fps", "5", "--json", out, "-q")
    assert result.exit_code == 0, result.output
    [clip] = report_at(out)["clips"]
    assert (clip["path"], clip["frames"], clip["fps"], clip["decoder"]) == (
        str(folder),
        10,
        5.0,
        "stills",
    )
    assert clip["duration_s"] == 2.0 and clip["tracks"] == 1
    assert error_lines(result) == [
        f"drift-audit: warning: {folder / 'thumbs.db'}: skipped: not a video or still image (.db)"
    ]


def test_a_sequence_with_a_gap_is_an_unreadable_input(tmp_path: Path, fake_models: dict) -> None:
    folder = tmp_path / "seq"
    folder.mkdir()
    for i in (1, 2, 4):
        write_face_image(folder / f"f{i:03d}.png", RED)
    result = invoke("--sequence", folder, "-q")
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert line.startswith(f"drift-audit: error: {folder}: image sequence: 1 frame(s) missing")


def test_a_sequence_of_mixed_sizes_is_an_unreadable_input(
    tmp_path: Path, fake_models: dict
) -> None:
    folder = tmp_path / "seq"
    folder.mkdir()
    for i in range(3):
        write_face_image(folder / f"f{i}.png", RED)
    big = np.zeros((120, 160, 3), np.uint8)
    assert cv2.imwrite(str(folder / "f3.png"), big)
    result = invoke("--sequence", folder, "--json", "-", "-q")
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "f3.png is 160x120, the first frame 128x96" in line
    [clip] = json.loads(result.stdout)["clips"]
    assert clip["status"] == "error"


def test_fps_is_range_checked(tmp_path: Path, no_audit: list[object]) -> None:
    result = invoke(tmp_path / "a.mp4", "--fps", "0")
    assert result.exit_code == 2
    assert "--fps" in result.stderr and no_audit == []


def test_lanes_reach_the_config_and_are_range_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_audit: list[object]
) -> None:
    result = invoke(tmp_path / "a.mp4", "--lanes", "0")
    assert result.exit_code == 2 and no_audit == []
    assert error_lines(result) == ["drift-audit: error: --lanes must be in 1..8, got 0"]
    seen: list[int] = []

    def record(paths: object, config: Any, *args: object, **kwargs: object) -> None:
        seen.append(config.lanes)
        raise KeyboardInterrupt  # stop here: only the config is wanted

    monkeypatch.setattr(pipeline, "audit", record)
    invoke(tmp_path / "a.mp4", "--lanes", "1")
    assert seen == [1]


@pytest.mark.parametrize(
    "error",
    [RuntimeError("a bug"), EOFError("stdin ended"), KeyError("x"), ValueError("embedded null")],
)
def test_no_internal_error_ever_exits_1(
    monkeypatch: pytest.MonkeyPatch,
    make_clip: MakeClip,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
) -> None:
    """typer turns an EOFError into "Aborted!" and exit 1 (the findings code)."""

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(pipeline, "audit", broken)
    with pytest.raises(SystemExit) as caught:
        main([str(make_clip("a.mp4")), "-q"])
    assert caught.value.code == 3
    # typer writes an empty line before it turns an EOFError into Abort
    [line] = [line for line in capsys.readouterr().err.splitlines() if line]
    assert line.startswith(f"drift-audit: internal error: {type(error).__name__}: ")
    assert "traceback in " in line


def test_an_internal_error_in_rendering_is_3(
    monkeypatch: pytest.MonkeyPatch,
    make_clip: MakeClip,
    fake_models: dict,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from drift_audit.report import terminal

    def broken(*args: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(terminal, "render", broken)
    with pytest.raises(SystemExit) as caught:
        main([str(make_clip("a.mp4"))])
    assert caught.value.code == 3
    assert "internal error: ZeroDivisionError" in capsys.readouterr().err


def test_the_crash_log_goes_to_the_temp_folder_when_the_cache_folder_is_unwritable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from drift_audit import crash

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("DRIFT_AUDIT_CACHE", str(blocker))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError as exc:
        assert crash.report(exc, ["a.mp4"]) == 3
    [line] = capsys.readouterr().err.splitlines()
    assert "RuntimeError: boom second line" in line
    [log] = (tmp_path / "tmp").glob("drift-audit-crash-*.log")
    assert f"traceback in {log};" in line
    text = log.read_text()
    assert "arguments: ['a.mp4']" in text and "RuntimeError: boom" in text


def test_crash_logs_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from drift_audit import crash

    monkeypatch.setenv("DRIFT_AUDIT_CACHE", str(tmp_path))
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(crash.KEEP_LOGS + 5):
        old = logs / f"drift-audit-crash-old-{i}.log"
        old.write_text("x")
        os.utime(old, (i, i))
    (logs / "unrelated.log").write_text("kept")
    crash.report(RuntimeError("x"), [])
    assert len(list(logs.glob("drift-audit-crash-*.log"))) == crash.KEEP_LOGS
    assert (logs / "unrelated.log").exists()


def test_a_command_line_that_cannot_import_is_an_internal_error(tmp_path: Path) -> None:
    """The entry point catches what breaks before the command line exists."""
    broken = tmp_path / "site" / "rich"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise RuntimeError('rich is broken here')\n")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(tmp_path / "site"), str(REPO)]),
        DRIFT_AUDIT_CACHE=str(tmp_path / "cache"),
    )
    out = subprocess.run(
        [sys.executable, "-m", "drift_audit", "a.mp4"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 3, out.stderr
    [line] = out.stderr.splitlines()
    assert line.startswith("drift-audit: internal error: RuntimeError: rich is broken here")
    assert list((tmp_path / "cache" / "logs").glob("drift-audit-crash-*.log"))


def test_a_reader_that_stops_early_does_not_change_the_exit_code(
    tmp_path: Path, make_clip: MakeClip
) -> None:
    """`drift-audit clips | head -1` used to exit 1 (typer's code for a broken pipe)."""
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", RED)
    code = FAKE_MODELS + (
        "import os; r, w = os.pipe(); os.dup2(w, 1); os.close(r); os.close(w)\n"  # unread
        "from drift_audit.cli import main\n"
        f"main([{str(a)!r}, {str(b)!r}, '--no-cache'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr


# --- issue 13: conventions ------------------------------------------------------------


def test_dash_h_is_help() -> None:
    short, long = invoke("-h"), invoke("--help")
    assert short.exit_code == 0 and short.stdout == long.stdout
    assert "-h, --help" in short.stdout


def test_models_dash_h_is_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["models", "-h"]) == 0
    assert "List or install face embedder weights" in capsys.readouterr().out


def test_help_documents_the_environment_and_the_config_file() -> None:
    text = " ".join(invoke("--help").stdout.split())
    for word in ("DRIFT_AUDIT_CACHE", "DRIFT_AUDIT_HOME", "TORCH_HOME", "drift-audit.toml"):
        assert word in text
    for option in ("--config", "--sequence", "--fps", "-0, --null", "--install-completion"):
        assert option in text


def test_every_environment_variable_the_code_reads_is_in_help() -> None:
    import re as regex

    read = set()
    for path in (REPO / "drift_audit").rglob("*.py"):
        read |= set(regex.findall(r"environ\.get\(\s*\"([A-Z_]+)\"", path.read_text()))
        read |= set(regex.findall(r"getenv\(\s*\"([A-Z_]+)\"", path.read_text()))
    assert {"DRIFT_AUDIT_CACHE", "DRIFT_AUDIT_HOME"} <= read
    text = invoke("--help").stdout
    readme = (REPO / "README.md").read_text()
    missing = {v for v in read if v not in text or v not in readme}
    assert not missing, f"read by the code, not documented in --help and the README: {missing}"


def test_models_json(empty_model_folders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in data["embedders"]}
    assert rows["dlib"]["installed"] is True and len(rows["dlib"]["sha256"]) == 64
    assert rows["facenet"]["installed"] is False and rows["facenet"]["sha256"] is None
    assert str(empty_model_folders / "models") in rows["facenet"]["looked_in"][0]


def test_shell_completion_completes_options_and_choices(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        _DRIFT_AUDIT_COMPLETE="complete_bash",
        COMP_WORDS="drift-audit --embedder ",
        COMP_CWORD="2",
        PYTHONPATH=str(REPO),
    )
    out = subprocess.run(
        [sys.executable, "-c", "from drift_audit.cli import main; main(['--embedder', ''])"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert set(out.stdout.split()) >= {"auto", "dlib", "facenet"}
    # The script `--install-completion` installs, asked for by name: `--show-completion`
    # guesses the shell from the process tree, which a test run does not control.
    script = subprocess.run(
        [sys.executable, "-c", "from drift_audit.cli import main; main([])"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "_DRIFT_AUDIT_COMPLETE": "source_bash"},
        timeout=60,
    )
    assert script.returncode == 0, script.stderr
    assert "_DRIFT_AUDIT_COMPLETE=complete_bash" in script.stdout


@pytest.mark.parametrize(
    ("second", "extra", "expected"), [(RED, [], 0), (BLUE, [], 1), (RED, ["--lanes", "0"], 2)]
)
def test_the_command_exits_at_once_with_its_code_and_whole_reports(
    tmp_path: Path,
    make_clip: MakeClip,
    second: tuple[int, int, int],
    extra: list[str],
    expected: int,
) -> None:
    """The console script (`entry.main`) skips the interpreter's teardown (`exit_now`):
    the code is the command's, what it printed is all there, the JSON file whole."""
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", second)
    out = tmp_path / "report.json"
    argv = ["drift-audit", str(a), str(b), "--no-cache", "--json", str(out), *extra]
    code = FAKE_MODELS + f"sys.argv = {argv!r}\nfrom drift_audit.entry import main\nmain()\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == expected, done.stderr
    assert "Traceback" not in done.stderr
    if expected == 2:
        assert "--lanes" in done.stderr and not out.exists()
        return
    assert "verdict" in done.stdout
    assert json.loads(out.read_text())["clips"][1]["status"] == "ok"
