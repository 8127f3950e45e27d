"""`--script FILE`: CSV, JSON and YAML scripts parsed to the same entries; every bad
file is one error naming the file, the line and the problem; the CLI refuses it
before any work."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drift_audit import pipeline
from drift_audit.cli import audit_app
from drift_audit.config import AuditConfig, CastMember
from drift_audit.errors import ConfigError
from drift_audit.script import Script, ScriptEntry, ScriptError, load_script

CSV = """clip,cast
# Biden's clip
1,obama;biden
scene2_*.mp4,biden

4,
"""

JSON = """{
  "1": ["obama", "biden"],
  "scene2_*.mp4": "biden",
  "4": []
}
"""

YAML = """# who is where
1: [obama, biden]
scene2_*.mp4: biden
4: []
"""

WANT = [("1", ("obama", "biden")), ("scene2_*.mp4", ("biden",)), ("4", ())]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "lines"),
    [("s.csv", CSV, [3, 4, 6]), ("s.json", JSON, [2, 3, 4]), ("s.yaml", YAML, [2, 3, 4])],
)
def test_the_three_formats_give_the_same_entries(
    tmp_path: Path, name: str, text: str, lines: list[int]
) -> None:
    script = load_script(write(tmp_path, name, text))
    assert [(e.selector, e.names) for e in script.entries] == WANT
    assert [e.line for e in script.entries] == lines


def test_clips_are_named_by_index_file_name_or_glob() -> None:
    script = Script(
        "s.csv",
        (
            ScriptEntry("2", ("a",), 1),
            ScriptEntry("intro.mp4", ("b",), 2),
            ScriptEntry("scene2_*.mp4", ("c",), 3),
            ScriptEntry("renders/*/take1.mp4", ("d",), 4),
        ),
    )
    assert script.expected(1, "out/intro.mp4") == (frozenset({"b"}), [script.entries[1]])
    names, _ = script.expected(2, "out/scene2_a.mp4") or (None, None)
    assert names == {"a", "c"}  # two entries name clip 2: both casts are expected
    assert script.expected(3, "renders/x/take1.mp4") is not None
    assert script.expected(3, "take1.mp4") is None  # a "/" pattern matches the whole path
    assert script.expected(4, "scene3.mp4") is None  # not named: not checked
    assert script.expected(5, "Scene2_b.mp4") is None  # case-sensitive


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.csv", "clip,cast\n1,obama\n0,biden\n", "s.csv line 3: clip indices start at 1"),
        ("s.csv", "1,obama\n1,biden\n", "s.csv line 2: clip '1' is already listed on line 1"),
        ("s.csv", '1,"obama\n', "s.csv line 1: not a CSV row"),
        ("s.csv", ",obama\n", "s.csv line 1: the clip is empty"),
        ("s.csv", "1,ob ama\n", "s.csv line 1: 'ob ama' is not a cast name"),
        ("s.csv", "# nothing\n\n", "s.csv: lists no clip"),
        ("s.json", '{"1": ["obama"],\n "2": [3]}\n', "s.json line 2: 3 is not a cast name"),
        ("s.json", '{"1": ["obama"],\n "2" ["biden"]}\n', "s.json line 2: not JSON"),
        ("s.json", '["obama"]\n', "s.json line 1: a script is one object"),
        (
            "s.json",
            '{"1": ["a"],\n"1": ["b"]}',
            "s.json line 2: clip '1' is already listed on line 1",
        ),
        ("s.json", '{"1": {"x": 1}}', "s.json line 1: the cast of clip 1 must be a list"),
        ("s.yaml", "1: [obama\n2: biden\n", "s.yaml line 2: not YAML"),
        ("s.yaml", "- obama\n", "s.yaml line 1: a script is one mapping"),
        ("s.yaml", "1: obama\n2: {a: b}\n", "s.yaml line 2: the cast of clip 2 must be a list"),
        ("s.txt", "1,obama\n", "--script s.txt: unknown format '.txt'"),
    ],
)
def test_a_bad_script_is_one_error_naming_file_line_and_problem(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert message.replace(name, str(path), 1) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_or_undecodable_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"none\.csv: cannot read \(No such file"):
        load_script(tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"1,ob\xffama\n")
    with pytest.raises(ScriptError, match=r"bad\.csv: cannot read"):
        load_script(bad)


def test_yaml_without_pyyaml_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_yaml(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "yaml":
            raise ImportError("No module named 'yaml'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yaml)
    with pytest.raises(ScriptError, match=r"needs PyYAML.*pip install pyyaml.*\.csv or \.json"):
        load_script(write(tmp_path, "s.yml", YAML))


def test_every_entry_must_name_a_clip(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, "s.csv", "1,a\n5,a\nintro*.mp4,a\n"))
    with pytest.raises(ScriptError, match=r"s\.csv line 2: clip 5 does not exist \(3 clip"):
        script.check_clips(["a.mp4", "b.mp4", "intro1.mp4"])
    script = load_script(write(tmp_path, "t.csv", "1,a\nintro*.mp4,a\n"))
    with pytest.raises(ScriptError, match=r"t\.csv line 2: 'intro\*\.mp4' matches none"):
        script.check_clips(["a.mp4"])
    script.check_clips(["a.mp4", "intro_2.mp4"])


def test_config_checks_the_names_against_the_cast(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, "s.csv", "1,obama\n2,bidn\n"))
    cast = (CastMember("obama", Path("o.png")), CastMember("biden", Path("b.png")))
    with pytest.raises(ConfigError, match=r"s\.csv line 2: 'bidn' is not a --cast name \(the"):
        AuditConfig(cast=cast, script=script)
    with pytest.raises(ConfigError, match="no --cast was given"):
        AuditConfig(script=script)
    ok = load_script(write(tmp_path, "ok.json", json.dumps({"1": ["obama"], "2": "biden"})))
    assert AuditConfig(cast=cast, script=ok).script == ok


def test_config_refuses_tracks_at_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match=r"--tracks .*f: is not a folder"):
        AuditConfig(tracks_dir=tmp_path / "f")
    AuditConfig(tracks_dir=tmp_path / "new" / "folder")  # made at the end of the run


@pytest.fixture
def no_audit(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError("the pipeline ran although the script was bad")

    monkeypatch.setattr(pipeline, "audit", refuse)
    return calls


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,obama\n2,nobody\n", "line 2: 'nobody' is not a --cast name"),
        ("1,obama\n3,obama\n", "line 2: clip 3 does not exist (2 clip(s) given)"),
        ("1,obama\n\n1,obama\n", "line 3: clip '1' is already listed on line 1"),
    ],
)
def test_cli_refuses_a_bad_script_before_any_work(
    tmp_path: Path, no_audit: list[object], text: str, message: str
) -> None:
    script = write(tmp_path, "script.csv", text)
    ref = write(tmp_path, "obama.png", "not read: the script is checked first")
    clips = [write(tmp_path, n, "x") for n in ("a.mp4", "b.mp4")]
    result = CliRunner().invoke(
        audit_app, [*map(str, clips), "--cast", f"obama={ref}", "--script", str(script)]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(f"drift-audit: error: {script} {message}")
    assert no_audit == []


# --- end to end, with the fake detector and embedder (conftest.py) ------------------


def test_a_script_reaches_the_findings(
    tmp_path: Path, make_clip: Any, fake_models: dict[str, object]
) -> None:
    """ann (red) is expected in both clips; clip 2 shows a blue face in her place: a
    swap by the script's slot, reported with its evidence; exit 1."""
    from tests.test_cli import write_face_image

    try:
        from tests.conftest import BLUE, RED
    except ImportError:  # pytest put tests/ itself on sys.path
        from conftest import BLUE, RED  # type: ignore[no-redef]

    ann = write_face_image(tmp_path / "ann.png", RED)
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)
    script = write(tmp_path, "script.csv", "clip,cast\n1,ann\nb.mp4,ann\n")
    out = tmp_path / "r.json"
    args = [str(a), str(b), "--cast", f"ann={ann}", "--script", str(script), "--json", str(out)]
    result = CliRunner().invoke(audit_app, args)
    assert result.exit_code == 1, result.output
    data = json.loads(out.read_text())
    swap = [f for f in data["findings"] if f["kind"] == "identity_swap"]
    assert [(f["clip"], f["severity"]) for f in swap] == [(2, "fail")]
    assert f"the script's slot: {script} line 3 expects ann here" in swap[0]["message"]
    assert swap[0]["evidence"]["path"] == str(b) and swap[0]["evidence"]["box"] is not None
    assert swap[0]["value"] < swap[0]["threshold"]
    assert not [f for f in data["findings"] if f["kind"] == "missing_character"]


def test_an_info_finding_is_printed_and_never_fails() -> None:
    """A cast_change (info) in the terminal report: printed, and the run passes even
    with --fail-on warn. (The fake detector's centred face leaves no clothes to
    measure, so the CLI cannot be driven to a change of cast here; test_drift.py
    covers the rule.)"""
    import io

    from rich.console import Console

    from drift_audit.report.terminal import render
    from drift_audit.types import Finding, Report

    found = Finding("cast_change", "info", "C1", 2, "C1 (seen in clip 1) is absent")
    report = Report([], [], [found], None, fail_on="warn")
    buffer = io.StringIO()
    render(report, Console(file=buffer, width=200))
    assert "info cast_change" in " ".join(buffer.getvalue().split())
    assert not report.failed
