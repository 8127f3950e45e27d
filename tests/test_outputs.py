"""The outputs for the tools around the gate, each read back with the library its users
read it with: --junit (junitparser, and the testsuites/testsuite/testcase/failure
structure Jenkins and GitLab read, with xml.etree), --csv (csv.DictReader), --otio
(opentimelineio, then its EDL and FCP XML adapters), and GitHub annotations.

Runs through the pipeline use the fake detector and embedder (conftest.py). The
story at the end is generator-style: clips and a still signed as Sora, Runway and
Firefly sign theirs (scripts/make_signed.py, the C2PA test certificate from
../shared/media/c2pa), audited end to end with provenance in every report.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner, Result

from drift_audit.cli import audit_app
from drift_audit.report import github
from drift_audit.report import json as json_report
from drift_audit.report.csv_report import COLUMNS, render_csv
from drift_audit.report.junit import render_junit
from drift_audit.report.spans import span, timecode
from drift_audit.types import ClipResult, Evidence, Finding, Report, Shot, VideoInfo
from scripts import make_signed

try:
    from tests.conftest import BLUE, GREY, RED, WHITE, FakeDetector
except ImportError:  # pytest put tests/ itself on sys.path
    from conftest import BLUE, GREY, RED, WHITE, FakeDetector  # type: ignore[no-redef]

C2PA_MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "c2pa"
needs_cert = pytest.mark.skipif(
    not (C2PA_MEDIA / "es256_certs.pem").is_file(),
    reason=f"{C2PA_MEDIA} (the C2PA test certificate) is absent",
)
MakeClip = Callable[..., Path]


def invoke(*args: object, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(audit_app, [str(a) for a in args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in result.output
    return result


def report_at(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text("utf-8"))
    jsonschema.validate(data, json_report.schema())
    return data


def _audit_all(clips: list[Path], tmp_path: Path, *extra: object) -> tuple[Result, dict[str, Path]]:
    out = {ext: tmp_path / f"report.{ext}" for ext in ("json", "xml", "csv", "otio")}
    result = invoke(
        *clips,
        "--json",
        out["json"],
        "--junit",
        out["xml"],
        "--csv",
        out["csv"],
        "--otio",
        out["otio"],
        *extra,
    )
    return result, out


# --- JUnit ---------------------------------------------------------------------------


def _check_junit_structure(text: str) -> ET.Element:
    """What Jenkins' junit step and GitLab's junit report read: <testsuites> of
    <testsuite>s of <testcase>s (name, classname), <failure>/<error> children, and
    tests/failures/errors counts that add up."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(c.find("failure") is not None for c in cases),
            "errors": sum(c.find("error") is not None for c in cases),
        }
        for key, n in counted.items():
            assert suite.get(key) == str(n), (suite.get("name"), key)
            totals[key] += n
        for case in cases:
            assert case.get("name") and case.get("classname")
            for failure in case.findall("failure"):
                assert failure.get("message") and failure.get("type")
    for key, n in totals.items():
        assert root.get(key) == str(n)
    return root


def test_junit_one_testcase_per_character_and_clip(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    clips = [
        make_clip("a.mp4", RED),
        make_clip("b.mp4", RED, n_frames=21),
        make_clip("c.mp4", BLUE),
    ]
    result, out = _audit_all(clips, tmp_path)
    assert result.exit_code == 1, result.output
    data = report_at(out["json"])
    text = out["xml"].read_text("utf-8")
    root = _check_junit_structure(text)
    # One suite per clip; in each, the clip's own case and one per character in it.
    assert [s.get("name") for s in root] == ["clip 1: a.mp4", "clip 2: b.mp4", "clip 3: c.mp4"]
    for suite, clip in zip(root, (1, 2, 3), strict=True):
        chars = {ch["id"] for ch in data["characters"] if str(clip) in ch["clip_similarity"]}
        found = {f["character"] for f in data["findings"] if f["clip"] == clip and f["character"]}
        names = [c.get("name") for c in suite.findall("testcase")]
        assert names[0] == "clip" and set(names[1:]) == chars | found
    fails = {(f["clip"], f["character"]) for f in data["findings"] if f["severity"] == "fail"}
    failed = {
        (int(s.get("name").split(":")[0].split()[1]), c.get("name"))  # type: ignore[union-attr]
        for s in root
        for c in s.findall("testcase")
        if c.find("failure") is not None
    }
    assert failed == fails and fails  # the swap in clip 3 is a failure there
    junitparser = pytest.importorskip("junitparser", reason="junitparser is not installed")
    xml = junitparser.JUnitXml.fromfile(str(out["xml"]))
    suites = list(xml)
    assert len(suites) == 3
    assert sum(s.tests for s in suites) == int(root.get("tests", "0"))
    failures = [
        (case.name, r.type)
        for case in suites[2]
        for r in case.result
        if isinstance(r, junitparser.Failure)
    ]
    assert failures and all(t in ("identity_swap", "identity_drift") for _, t in failures)


def test_junit_unreadable_clip_is_an_error_and_fail_on_warn_fails_warns(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    flash = make_clip("flash.mp4", RED, changes={10: WHITE, 11: GREY})
    missing = tmp_path / "missing.mp4"
    out = tmp_path / "r.xml"
    result = invoke(flash, missing, "--junit", out, "--fail-on", "warn")
    assert result.exit_code == 2  # an unreadable input
    root = _check_junit_structure(out.read_text("utf-8"))
    clip1, clip2 = root
    glitch = clip1.find("testcase[@name='clip']/failure")
    assert glitch is not None and glitch.get("type") == "glitch_frame"
    error = clip2.find("testcase[@name='clip']/error")
    assert error is not None and "missing.mp4" in (error.get("message") or "")
    # With the default --fail-on, a warn is no failure: it is the case's system-out.
    invoke(flash, "--junit", out)
    root = _check_junit_structure(out.read_text("utf-8"))
    assert root.get("failures") == "0"
    assert "glitch_frame" in (root.find(".//system-out").text or "")  # type: ignore[union-attr]


def test_junit_is_deterministic_and_valid_xml_for_odd_names() -> None:
    clip = ClipResult(1, "/clips/\x1bodd\udcff.mp4", "error", "unreadable \x01 data")
    report = Report([clip], [], [], None)
    text = render_junit(report)
    assert text == render_junit(report)
    root = _check_junit_structure(text)
    assert root[0].get("name") == "clip 1: \\x1bodd\\xff.mp4"


# --- CSV -----------------------------------------------------------------------------


def test_csv_one_row_per_finding(make_clip: MakeClip, tmp_path: Path, fake_models: dict) -> None:
    clips = [make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)]
    result, out = _audit_all(clips, tmp_path)
    assert result.exit_code == 1
    data = report_at(out["json"])
    raw = out["csv"].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(data["findings"]) > 0
    for row, f in zip(rows, data["findings"], strict=True):
        assert (row["kind"], row["severity"], row["message"]) == (
            f["kind"],
            f["severity"],
            " ".join(f["message"].split()),
        )
        assert row["clip"] == str(f["clip"]) and row["clip_file"] == "b.mp4"
        assert row["character"] == (f["character"] or "")
        assert row["provenance"] == "absent"
        assert float(row["start_s"]) >= 0 and row["timecode"].count(":") == 3


def test_csv_with_no_findings_is_the_header(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    out = tmp_path / "r.csv"
    assert invoke(make_clip("a.mp4", RED), "--csv", out).exit_code == 0
    assert out.read_bytes() == (",".join(COLUMNS) + "\r\n").encode()


def _report_with(finding: Finding, path: str = "/c/a.mp4") -> Report:
    info = VideoInfo(path, 25.0, 100, 64, 48, "h264", "opencv")
    clip = ClipResult(1, path, info=info, shots=[Shot(1, 0, 99, 0.0, 4.0)])
    clip.times = {i: i / 25 for i in range(100)}
    return Report([clip], [], [finding], None)


def test_evidence_places_a_finding_else_its_frame_else_the_clip_start() -> None:
    ev = Evidence("/c/a.mp4", 1, 1.5, 2.5, 37, 62, frame=50, box=(1.0, 2.0, 3.0, 4.0))
    with_ev = _report_with(Finding("identity_drift", "fail", "C1", 1, "m", evidence=ev))
    where = span(with_ev, with_ev.findings[0])
    assert (where.start_s, where.end_s, where.frame, where.shot) == (1.5, 2.5, 50, 1)
    framed = _report_with(Finding("glitch_frame", "warn", None, 1, "m", frame=40))
    assert span(framed, framed.findings[0]).start_s == pytest.approx(1.6)
    bare = _report_with(Finding("damaged_clip", "warn", None, 1, "m"))
    assert span(bare, bare.findings[0]).start_s == 0.0
    [row] = csv.DictReader(io.StringIO(render_csv(with_ev), newline=""))
    assert (row["start_s"], row["end_s"], row["frame"], row["timecode"]) == (
        "1.5000",
        "2.5000",
        "50",
        "00:00:01:12",
    )


def test_timecode() -> None:
    assert timecode(0, 25) == "00:00:00:00"
    assert timecode(3661.52, 25) == "01:01:01:13"
    assert timecode(1.0, 0) == "00:00:01.000"


def test_csv_cells_never_start_a_formula() -> None:
    report = _report_with(Finding("damaged_clip", "warn", None, 1, "=HYPERLINK(x)"), "/c/=cmd.mp4")
    [row] = csv.DictReader(io.StringIO(render_csv(report), newline=""))
    assert row["message"] == "'=HYPERLINK(x)" and row["clip_file"] == "'=cmd.mp4"


# --- GitHub annotations --------------------------------------------------------------


def test_github_escaping() -> None:
    assert github.escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_annotations_on_stdout(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    a, b = make_clip("a.mp4", RED), make_clip("b, 100%.mp4", BLUE)
    result = invoke(a, b, "--github")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
    errors = [line for line in lines if line.startswith("::error ")]
    assert errors
    for line in errors:
        assert line.startswith("::error file=b%2C 100%25.mp4,title=drift-audit identity_")
        props, message = line[len("::error ") :].split("::", 1)
        assert "clip 2" in props and message and "\n" not in message
    assert lines[-1].startswith("::notice title=drift-audit::verdict fail")
    assert "provenance: 2 absent" in lines[-1]


def test_github_annotations_follow_github_actions_env(
    make_clip: MakeClip, fake_models: dict
) -> None:
    clips = [make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)]
    on = invoke(*clips, env={"GITHUB_ACTIONS": "true"})
    assert "::error " in on.stdout
    off = invoke(*clips, env={"GITHUB_ACTIONS": ""})
    assert "::" not in off.stdout


def test_github_annotations_leave_json_on_stdout_alone(
    make_clip: MakeClip, fake_models: dict
) -> None:
    result = invoke(make_clip("a.mp4", RED), make_clip("b.mp4", BLUE), "--json", "-", "--github")
    json.loads(result.stdout)  # nothing but the JSON
    assert "::error " in result.stderr


# --- OpenTimelineIO ------------------------------------------------------------------


def test_otio_timeline_markers_and_adapters(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    otio = pytest.importorskip("opentimelineio", reason="opentimelineio is not installed")
    clips = [
        # 25 fps: EDL time codes need an SMPTE rate (the adapter refuses 10 fps).
        make_clip("a.mp4", RED, n_frames=30, fps=25.0),
        make_clip("b.mp4", RED, changes={10: WHITE, 11: GREY}, fps=25.0),
        make_clip("c.mp4", BLUE, fps=25.0),
    ]
    result, out = _audit_all(clips, tmp_path)
    assert result.exit_code == 1, result.output
    data = report_at(out["json"])
    timeline = otio.adapters.read_from_file(str(out["otio"]))
    [track] = timeline.video_tracks()
    assert [c.name for c in track] == ["a.mp4", "b.mp4", "c.mp4"]  # story order
    assert [c.duration().value for c in track] == [30, 20, 20]
    assert track[0].media_reference.target_url == clips[0].resolve().as_uri()
    markers = [(k + 1, m) for k, c in enumerate(track) for m in c.markers]
    assert len(markers) == len(data["findings"])
    colour = {"fail": otio.schema.MarkerColor.RED, "warn": otio.schema.MarkerColor.YELLOW}
    for (clip, m), f in zip(markers, data["findings"], strict=True):
        assert clip == f["clip"]
        assert m.color == colour[f["severity"]]
        assert m.metadata["drift_audit"]["kind"] == f["kind"]
    glitch = next(m for _, m in markers if m.metadata["drift_audit"]["kind"] == "glitch_frame")
    assert glitch.marked_range.start_time.value == 10  # at the flash's frame
    assert track.range_of_child_at_index(2).start_time.value == 50  # clips laid end to end
    adapters = {a.name for a in otio.plugins.ActiveManifest().adapters}
    if "cmx_3600" not in adapters or "fcp_xml" not in adapters:
        pytest.skip(f"the EDL / FCP XML adapter plugins are not installed: {sorted(adapters)}")
    edl = otio.adapters.write_to_string(timeline, "cmx_3600")
    assert "a.mp4" in edl and "LOC:" in edl and "RED" in edl
    fcp = otio.adapters.write_to_string(timeline, "fcp_xml")
    assert ET.fromstring(fcp).tag == "xmeml" and fcp.count("<marker>") == len(markers)


def test_otio_without_opentimelineio_is_a_usage_error(
    make_clip: MakeClip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drift_audit.report import otio_report

    monkeypatch.setattr(otio_report, "missing", lambda: "--otio needs opentimelineio: x")
    result = invoke(make_clip("a.mp4", RED), "--otio", tmp_path / "t.otio")
    assert result.exit_code == 2 and "--otio needs opentimelineio" in result.stderr


# --- report targets ------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--junit", "--csv", "--otio"])
def test_bad_targets_are_refused_before_any_work(
    option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drift_audit import pipeline

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pipeline ran although the options were bad")

    monkeypatch.setattr(pipeline, "audit", refuse)
    clip = tmp_path / "a.mp4"
    into_dir = invoke(clip, option, tmp_path)
    assert into_dir.exit_code == 2 and f"{option} {tmp_path}: is a directory" in into_dir.stderr
    gone = invoke(clip, option, tmp_path / "no" / "r")
    assert gone.exit_code == 2 and "does not exist" in gone.stderr
    same = invoke(clip, "--json", tmp_path / "r", option, tmp_path / "r")
    assert same.exit_code == 2 and "name the same file" in same.stderr


def test_reports_are_written_atomically_over_the_old_ones(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    out = tmp_path / "r.csv"
    out.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(out)
    assert invoke(make_clip("a.mp4", RED), "--csv", link).exit_code == 0
    assert link.is_symlink() and out.read_text("utf-8").startswith("clip,")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- a generator-style story of signed clips -----------------------------------------


def _still(path: Path, rgb: tuple[int, int, int]) -> Path:
    image = np.full((96, 128, 3), 110, np.uint8)
    x0, y0, x1, y1 = (round(float(v)) for v in FakeDetector.box(96, 128))
    image[y0:y1, x0:x1] = rgb
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


@needs_cert
def test_signed_generator_story_end_to_end(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sora opens the story, Runway continues it, an editor cuts a Sora clip, Firefly
    delivers a key still, and the last Sora clip brings another face: every report
    shows each clip's provenance, and the swap still fails."""
    monkeypatch.chdir(tmp_path)
    signed = tmp_path / "delivery"
    signed.mkdir()
    s1 = make_signed.sign(make_clip("r1.mp4", RED), signed / "01_sora.mp4", "sora")
    s2 = make_signed.sign(make_clip("r2.mp4", RED, n_frames=22), signed / "02_runway.mp4", "runway")
    s3 = make_signed.sign(s1, signed / "03_cut.mp4", "edit", parent=s1)
    s4 = make_signed.sign(_still(tmp_path / "r4.jpg", RED), signed / "04_firefly.jpg", "firefly")
    s5 = make_signed.sign(make_clip("r5.mp4", BLUE), signed / "05_sora.mp4", "sora")
    story = [s1, s2, s3, s4, s5]
    page = tmp_path / "report.html"
    result, out = _audit_all(story, tmp_path, "--html", page, "--github", "--require-provenance")
    assert result.exit_code == 1, result.output
    data = report_at(out["json"])

    # JSON
    prov = [c["provenance"] for c in data["clips"]]
    assert [p["state"] for p in prov] == ["untrusted"] * 5
    assert [p["generators"] for p in prov] == [
        ["Sora"],
        ["Runway Gen-3"],
        [],
        ["Adobe Firefly 3.0"],
        ["Sora"],
    ]
    assert prov[2]["ingredients"] == [
        {"title": "01_sora.mp4", "format": "video/mp4", "relationship": "parentOf", "signed": True}
    ]
    kinds = {(f["kind"], f["clip"]) for f in data["findings"] if f["severity"] == "fail"}
    assert kinds and {clip for _, clip in kinds} == {5}
    assert not any(kind == "provenance" for kind, _ in kinds)
    # terminal
    assert result.stdout.count("provenance: signed, signer not on a trust list") == 5
    assert "AI-generated by Runway Gen-3" in result.stdout
    # HTML
    html = page.read_text("utf-8")
    assert html.count('class="prov-untrusted"') == 5 and "AI-generated by Adobe Firefly" in html
    # JUnit: the clip's provenance as its suite's properties
    root = _check_junit_structure(out["xml"].read_text("utf-8"))
    props = [{p.get("name"): p.get("value") for p in suite.iter("property")} for suite in root]
    assert [p["provenance"] for p in props] == ["untrusted"] * 5
    assert props[0]["generators"] == "Sora" and props[3]["claim_generator"] == "Adobe Firefly 1.0"
    # CSV: each finding's row names its clip's provenance
    rows = list(csv.DictReader(out["csv"].open(encoding="utf-8", newline="")))
    assert rows and {r["provenance"] for r in rows} == {"untrusted"}
    # OTIO: the clip's provenance in its metadata
    otio = pytest.importorskip("opentimelineio", reason="opentimelineio is not installed")
    [track] = otio.adapters.read_from_file(str(out["otio"])).video_tracks()
    meta = [c.metadata["drift_audit"] for c in track]
    assert [m["provenance"] for m in meta] == ["untrusted"] * 5
    assert list(meta[1]["generators"]) == ["Runway Gen-3"]
    assert track[4].markers and track[4].markers[0].color == otio.schema.MarkerColor.RED
    # GitHub annotations: the findings, then the verdict with the provenance
    notice = [line for line in result.stdout.splitlines() if line.startswith("::notice")]
    assert notice and "provenance: 5 untrusted; AI-generated by Sora, Runway Gen-3, " in notice[0]
    assert any(
        line.startswith("::error file=delivery/05_sora.mp4") for line in result.stdout.splitlines()
    )


@needs_cert
@pytest.mark.slow
@pytest.mark.media
def test_signed_story_of_real_faces_with_the_real_models(tmp_path: Path) -> None:
    """The README's example: the swap story of real faces (scripts/media_clips.py),
    signed as Sora, Runway Gen-3 and Sora, plus an unsigned copy of the last, audited
    by the real command (dlib) with every output."""
    from scripts.media_clips import build_set

    build_set("swap", tmp_path / "raw")
    raw = sorted((tmp_path / "raw" / "swap").glob("*.mp4"))
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    for src, (name, preset) in zip(
        raw, [("01_sora", "sora"), ("02_runway", "runway"), ("03_sora", "sora")], strict=True
    ):
        make_signed.sign(src, delivery / f"{name}.mp4", preset)
    (delivery / "04_unsigned.mp4").write_bytes(raw[2].read_bytes())
    page = tmp_path / "report.html"
    result, out = _audit_all([delivery], tmp_path, "--html", page, "--github", "--no-cache")
    assert result.exit_code == 1, result.output
    data = report_at(out["json"])
    assert [c["provenance"]["state"] for c in data["clips"]] == ["untrusted"] * 3 + ["absent"]
    assert [(f["kind"], f["clip"]) for f in data["findings"]] == [("identity_swap", 3)]
    assert result.stdout.count("  provenance: ") == 4  # one line under each clip
    assert "<h2>Provenance</h2>" in page.read_text("utf-8")
    assert "provenance: 1 absent, 3 untrusted; AI-generated by Sora, Runway Gen-3" in result.stdout
    root = _check_junit_structure(out["xml"].read_text("utf-8"))
    assert root.get("failures") == "1"
    [row] = csv.DictReader(out["csv"].open(encoding="utf-8", newline=""))
    assert (row["kind"], row["clip_file"], row["provenance"]) == (
        "identity_swap",
        "03_sora.mp4",
        "untrusted",
    )
    otio = pytest.importorskip("opentimelineio", reason="opentimelineio is not installed")
    [track] = otio.adapters.read_from_file(str(out["otio"])).video_tracks()
    assert [len(c.markers) for c in track] == [0, 0, 1, 0]


def test_github_puts_fails_before_warns() -> None:
    """GitHub shows 10 errors and 10 warnings a step: no warn crowds out a fail."""
    findings = [Finding("glitch_frame", "warn", None, 1, f"w{k}") for k in range(12)]
    findings.append(Finding("identity_drift", "fail", "C1", 1, "the fail"))
    report = _report_with(findings[0])
    report.findings = findings
    lines = github.render_annotations(report, Path("/")).splitlines()
    assert lines[0].startswith("::error ") and lines[0].endswith("the fail (at 00:00:00:00)")
    assert [line.split(" ", 1)[0] for line in lines[1:]] == ["::warning"] * 12 + ["::notice"]


def test_junit_failures_follow_each_kinds_fail_on_rule() -> None:
    """A kind's own rule (the config file's [fail_on]) decides, as it does the exit."""
    glitch = Finding("glitch_frame", "warn", None, 1, "a flash")
    drift = Finding("identity_drift", "fail", "C1", 1, "another face")
    report = _report_with(glitch)
    report.findings = [glitch, drift]
    report.fail_on_kind = {"glitch_frame": "warn", "identity_drift": "never"}
    root = _check_junit_structure(render_junit(report))
    failures = [f.get("type") for f in root.iter("failure")]
    assert failures == ["glitch_frame"] and report.failed


@needs_cert
def test_otio_finding_of_an_unreadable_clip_is_a_track_marker_where_it_would_be(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    otio = pytest.importorskip("opentimelineio", reason="opentimelineio is not installed")
    a = make_clip("a.mp4", RED, fps=25.0)
    b = make_signed.sign(make_clip("raw.mp4", RED, n_frames=21, fps=25.0), tmp_path / "b.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))  # unreadable, unsigned
    out = tmp_path / "t.otio"
    result = invoke(a, broken, b, "--otio", out, "--require-provenance")
    assert result.exit_code == 2  # the unreadable clip
    [track] = otio.adapters.read_from_file(str(out)).video_tracks()
    assert [c.name for c in track] == ["a.mp4", "b.mp4"]
    kinds = [
        (m.metadata["drift_audit"]["kind"], m.metadata["drift_audit"]["clip"])
        for c in track
        for m in c.markers
    ]
    assert ("provenance", 1) in kinds  # a.mp4 is unsigned
    [marker] = [m for m in track.markers if m.metadata["drift_audit"]["clip"] == 2]
    assert marker.metadata["drift_audit"]["kind"] == "provenance"
    assert marker.marked_range.start_time.to_seconds() == pytest.approx(20 / 25)  # after a.mp4
