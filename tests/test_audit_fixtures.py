"""The real pipeline (MTCNN + dlib, real decoding) end to end on the synthetic fixtures."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from drift_audit.cli import main
from drift_audit.report.json import schema
from tests.generated import generated_dir, manifest, opencv_decodes_av1


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dir(tmp_path_factory)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        main(args)
    out, err = capsys.readouterr()
    code = caught.value.code
    return (0 if code is None else int(code)), out, err


def report(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    jsonschema.validate(data, schema())
    return data


def test_shot_patterns_match_ground_truth(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = manifest(fixtures)
    names = ["shots_cuts.mp4", "shots_flash.mp4", "shots_dissolve.mp4", "no_faces.mp4"]
    out = tmp_path / "r.json"
    code, _, err = run([str(fixtures / n) for n in names] + ["--json", str(out), "-q"], capsys)
    assert code == 0, err
    data = report(out)
    for clip, name in zip(data["clips"], names, strict=True):
        got = [[s["start_frame"], s["end_frame"]] for s in clip["shots"]]
        want = truth[name]["shots"]
        assert len(got) == len(want), (name, got, want)
        for (gs, ge), (ws, we) in zip(got, want, strict=True):
            tolerance = 3 if truth[name]["dissolves"] else 0
            assert abs(gs - ws) <= tolerance and abs(ge - we) <= tolerance, (name, got, want)
        assert clip["glitch_frames"] == truth[name]["glitch_frames"]
    glitches = [f for f in data["findings"] if f["kind"] == "glitch_frame"]
    assert sorted(f["frame"] for f in glitches) == truth["shots_flash.mp4"]["glitch_frames"]
    assert all(f["severity"] == "warn" for f in glitches)
    assert data["characters"] == []


def test_bad_inputs_are_reported_and_the_rest_is_audited(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spaced = tmp_path / "dir with späces" / "clip ünïcode.mp4"
    spaced.parent.mkdir()
    shutil.copy(fixtures / "no_faces.mp4", spaced)
    locked = tmp_path / "locked.mp4"
    shutil.copy(fixtures / "no_faces.mp4", locked)
    locked.chmod(0)
    bad = {
        "empty.mp4": "empty file (0 bytes)",
        "text.mp4": "not a video file",
        "audio_only.m4a": "no video stream",
        "truncated.mp4": "not a readable video",
        "corrupt_header.mp4": "not a readable video",
    }
    args = [str(fixtures / n) for n in bad]
    args += [
        str(tmp_path / "missing.mp4"),
        str(tmp_path / "*.mov"),
        str(spaced),
        str(spaced),
        str(fixtures / "one_frame.mp4"),
        str(fixtures / "corrupt_middle.mkv"),
        str(fixtures / "truncated_faststart.mp4"),
        str(fixtures / "stamped_av1.mkv"),
    ]
    if os.geteuid() != 0:  # root reads anything
        args.append(str(locked))
    out = tmp_path / "r.json"
    code, _, err = run([*args, "--json", str(out), "-q"], capsys)
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    data = report(out)
    clips = data["clips"]
    assert len(clips) == len(args) - 1  # the spaced clip given twice is audited once
    assert f"drift-audit: warning: {spaced}: given again (clip " in err
    for clip, (name, reason) in zip(clips, bad.items(), strict=False):
        assert clip["status"] == "error" and reason in clip["error"] and name in clip["error"]
        assert any(name in line and reason in line for line in lines)
    by_path = {c["path"]: c for c in clips}
    assert "no such file" in by_path[str(tmp_path / "missing.mp4")]["error"]
    assert "glob" in by_path[str(tmp_path / "*.mov")]["error"]
    spaced_entries = [c for c in clips if c["path"] == str(spaced)]
    assert [c["status"] for c in spaced_entries] == ["ok"]
    assert by_path[str(fixtures / "one_frame.mp4")]["status"] == "ok"
    assert by_path[str(fixtures / "one_frame.mp4")]["frames"] == 1
    av1 = by_path[str(fixtures / "stamped_av1.mkv")]
    if opencv_decodes_av1(fixtures):  # opencv-python-headless 5.1; 5.0 had no AV1 decoder
        assert av1["status"] == "ok" and av1["frames"] == 90
    else:
        assert av1["status"] == "error" and "unsupported codec av01" in av1["error"]
    damaged = by_path[str(fixtures / "corrupt_middle.mkv")]
    assert damaged["status"] == "ok" and damaged["corrupt_frames"] > 0
    kinds = {(f["kind"], f["clip"]) for f in data["findings"]}
    assert ("damaged_clip", damaged["index"]) in kinds
    assert ("damaged_clip", by_path[str(fixtures / "truncated_faststart.mp4")]["index"]) in kinds
    if os.geteuid() != 0:
        assert "permission denied" in by_path[str(locked)]["error"]
    assert all(len(line) < 300 for line in lines)


def test_same_input_gives_the_same_bytes(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = [str(fixtures / "shots_flash.mp4"), str(fixtures / "empty.mp4")]
    run([*clips, "--json", str(tmp_path / "a.json"), "-q"], capsys)
    run([*clips, "--json", str(tmp_path / "b.json"), "-q"], capsys)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_json_on_stdout_is_json_only(fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(fixtures / "no_faces.mp4"), "--json", "-", "-q"], capsys)
    assert code == 0
    assert json.loads(out)["summary"]["verdict"] == "pass"


def test_directory_and_stdin_inputs(
    fixtures: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("b.mp4", "a.mp4"):
        shutil.copy(fixtures / "no_faces.mp4", folder / name)
    (folder / "notes.txt").write_text("not a clip")
    code, out, _ = run([str(folder), "--json", "-", "-q"], capsys)
    assert code == 0
    assert [Path(c["path"]).name for c in json.loads(out)["clips"]] == ["a.mp4", "b.mp4"]

    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{folder / 'b.mp4'}\n\n{folder / 'a.mp4'}\n"))
    code, out, _ = run(["-", "--json", "-", "-q"], capsys)
    assert code == 0
    assert [Path(c["path"]).name for c in json.loads(out)["clips"]] == ["b.mp4", "a.mp4"]
