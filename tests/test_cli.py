"""The command line, in-process: exit codes, one-line errors, reports on stdout/files.

Runs that reach the pipeline use the fake detector and embedder (conftest.py) on
tiny clips written with cv2.VideoWriter: a red or blue square "face" on grey.
"""

from __future__ import annotations

import json
import os
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
    assert (
        err == "drift-audit: error: internal error: RuntimeError: a bug (a bug; please report it)\n"
    )


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
