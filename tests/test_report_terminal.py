"""The terminal report: its cells say what the JSON's verdicts say."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from drift_audit.identity.characters import WEAK_EVIDENCE
from drift_audit.report import json as json_report
from drift_audit.report.html import render_html
from drift_audit.report.terminal import render
from drift_audit.types import (
    Appearance,
    Character,
    ClipResult,
    EmbedderInfo,
    Finding,
    Report,
    Shot,
    VideoInfo,
)

FPS = 25.0
THRESHOLD, MARGIN = 0.4, 0.06
MARKS = {"same": "", "uncertain": "?", "different": "✗"}


def clip(index: int) -> ClipResult:
    return ClipResult(
        index=index,
        path=f"/clips/clip{index}.mp4",
        info=VideoInfo(f"/clips/clip{index}.mp4", FPS, 50, 64, 48, "h264", "opencv"),
        frames_read=50,
        shots=[Shot(1, 0, 49, 0.0, 50 / FPS)],
        times={i: i / FPS for i in range(50)},
    )


def report_of(sims: dict[int, float], evidence: dict[int, float]) -> Report:
    """One character seen in clips 1.., with the given similarity and face evidence."""
    character = Character(
        id="C1",
        name=None,
        track_ids=[],
        anchor=np.zeros(4, np.float32),
        appearances=[Appearance(c, 1, 0.0, 1.0, 3, s) for c, s in sims.items()],
        clip_similarity=dict(sims),
        evidence=dict(evidence),
    )
    emb = EmbedderInfo("dlib", "0" * 64, THRESHOLD, MARGIN, "auto")
    return Report([clip(c) for c in sims], [character], [], emb)


def terminal_text(report: Report) -> str:
    out = io.StringIO()
    render(report, Console(file=out, width=200, color_system=None))
    return out.getvalue()


def matrix_row(text: str, character: str) -> list[str]:
    """The cells of a character's row in the matrix, without the box lines."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0] == character:
            return cells[1:]
    raise AssertionError(f"no row for {character} in:\n{text}")


def test_below_threshold_on_weak_evidence_is_uncertain_not_a_cross() -> None:
    weak = WEAK_EVIDENCE / 3
    report = report_of({1: 0.95, 2: 0.25}, {1: 0.9, 2: weak})
    assert matrix_row(terminal_text(report), "C1") == ["0.95", "0.25 ?"]
    verdicts = json.loads(json_report.dumps(report))["characters"][0]["clips"]
    assert [c["verdict"] for c in verdicts] == ["same", "uncertain"]


def test_below_threshold_on_good_evidence_is_a_cross() -> None:
    report = report_of({1: 0.95, 2: 0.25}, {1: 0.9, 2: 0.9})
    assert matrix_row(terminal_text(report), "C1") == ["0.95", "0.25 ✗"]


@pytest.mark.parametrize(
    ("sim", "evidence"),
    [
        (0.9, 0.9),
        (0.9, 0.1),
        (0.43, 0.9),  # within the margin above the threshold
        (0.43, 0.1),
        (0.2, 0.9),
        (0.2, 0.1),
        (0.2, WEAK_EVIDENCE),  # at the limit the evidence counts as good
    ],
)
def test_every_cell_says_the_json_verdict(sim: float, evidence: float) -> None:
    report = report_of({1: 0.95, 2: sim}, {1: 0.9, 2: evidence})
    said = json.loads(json_report.dumps(report))["characters"][0]["clips"][1]["verdict"]
    assert matrix_row(terminal_text(report), "C1")[1] == f"{sim:.2f} {MARKS[said]}".strip()


def test_a_clip_without_the_character_shows_a_dash() -> None:
    report = report_of({1: 0.95}, {1: 0.9})
    report.clips.append(clip(2))
    assert matrix_row(terminal_text(report), "C1") == ["0.95", "—"]


GONE = ClipResult(2, "gone.mp4", "error", "gone.mp4: no such file")
DRIFT = Finding("identity_drift", "fail", "C1", 1, "C1 clip 1: similarity 0.31")


@pytest.mark.parametrize(
    ("clips", "findings", "verdict"),
    [
        ([clip(1)], [], "PASS"),
        ([clip(1), GONE], [], "INCOMPLETE (unreadable input)"),
        ([clip(1), GONE], [DRIFT], "FAIL"),
    ],
)
def test_verdict_line_says_the_html_verdict(
    clips: list[ClipResult], findings: list[Finding], verdict: str
) -> None:
    report = Report(clips, [], findings, None)
    last = terminal_text(report).splitlines()[-1]
    assert last.startswith(f"verdict: {verdict}  (")
    assert f"<title>drift-audit report: {verdict.split()[0]}</title>" in render_html(report)


# --- marks, legend, the anchor's clip, captions, slopes ----------------------------


def test_a_failing_finding_marks_its_cell_even_on_a_same_verdict() -> None:
    report = report_of({1: 0.95, 2: 0.9}, {1: 0.9, 2: 0.9})
    report.findings = [Finding("identity_swap", "fail", "C1", 2, "C1 clip 2: swapped")]
    text = terminal_text(report)
    assert matrix_row(text, "C1") == ["0.95", "0.90 ✗"]
    assert "✗ fail" in text and "? uncertain" not in text  # the legend names marks used


def test_a_warning_marks_its_cell_and_the_legend_explains_it() -> None:
    report = report_of({1: 0.95, 2: 0.9}, {1: 0.9, 2: 0.9})
    report.findings = [Finding("attribute_drift", "warn", "C1", 2, "C1 clip 2: hair")]
    text = terminal_text(report)
    assert matrix_row(text, "C1") == ["0.95", "0.90 !"]
    assert "! warning" in text and "✗ fail" not in text


def test_the_anchor_clip_shows_consistency_within_the_clip() -> None:
    report = report_of({1: 1.0, 2: 0.9}, {1: 0.9, 2: 0.9})
    ch = report.characters[0]
    ch.anchor_clip = 1
    assert matrix_row(terminal_text(report), "C1") == ["1.00", "0.90"]  # not measured: as is
    ch.consistency = {1: 0.83, 2: 0.88}
    text = terminal_text(report)
    assert matrix_row(text, "C1") == ["~0.83", "0.90"]  # only the anchor's clip changes
    assert "~ in the anchor's clip" in text
    html = render_html(report)
    assert "within 0.83" in html and ">1.00<" not in html


def test_a_cast_anchor_shows_similarity_in_every_clip() -> None:
    report = report_of({1: 0.7, 2: 0.9}, {1: 0.9, 2: 0.9})
    ch = report.characters[0]
    ch.anchor_clip, ch.consistency = None, {1: 0.5}
    assert matrix_row(terminal_text(report), "C1") == ["0.70", "0.90"]


def test_no_caption_says_matches_on_a_character_that_fails() -> None:
    from drift_audit.report.common import character_facts

    report = report_of({1: 0.95, 2: 0.9, 3: 0.92}, {1: 0.9, 2: 0.9, 3: 0.9})
    ch = report.characters[0]
    assert character_facts(ch, report)[0] == "matches its anchor in every clip it is in"
    report.findings = [Finding("identity_swap", "fail", "C1", 3, "C1 clip 3: swapped")]
    facts = character_facts(ch, report)
    assert facts[0] == "fails in clip 3"
    assert not any("matches" in f for f in facts)
    assert "matches its anchor" not in render_html(report)


@pytest.mark.parametrize(("n_clips", "shown"), [(2, False), (3, True)])
def test_a_drift_slope_needs_three_clips(n_clips: int, shown: bool) -> None:
    from drift_audit.report.common import character_facts

    sims = {c: 1.0 - 0.3 * (c - 1) for c in range(1, n_clips + 1)}
    report = report_of(sims, dict.fromkeys(sims, 0.9))
    report.characters[0].drift_slope = -0.333
    facts = character_facts(report.characters[0], report)
    assert any("drift -0.333 / clip" in f for f in facts) == shown
    assert ("drift -0.333" in render_html(report)) == shown


def test_a_finding_prints_where_its_evidence_is() -> None:
    from drift_audit.types import Evidence

    report = report_of({1: 0.95, 2: 0.2}, {1: 0.9, 2: 0.9})
    ev = Evidence("/clips/clip2.mp4", 2, 61.5, 63.25, 1537, 1581, 1550, (1.0, 2.0, 3.0, 4.0))
    report.findings = [Finding("identity_drift", "fail", "C1", 2, "C1 clip 2: low", evidence=ev)]
    text = terminal_text(report)
    assert "[clip2.mp4 shot 2, 00:01:01.500 to 00:01:03.250, best face at frame 1550]" in text


# --- progress -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_says_clip_n_of_n_frames_and_eta() -> None:
    from drift_audit.progress import ProgressLine

    clock = Clock()
    line = ProgressLine(4, clock)
    assert line.update("clip 1", 0, 0) == "clip 1 of 4 [............] 0%"
    clock.now += 10
    text = line.update("clip 1: faces", 50, 100)
    # clip 1: 30 % (shots, done before its faces) + 70 % x 0.5 = 65 % of 1 of 4 clips
    assert text.startswith("clip 1 of 4 · faces · frame 50/100 [##..........] 16%")
    assert text.endswith("· ETA 0:52")  # 10 s for 16.25 %: 51.5 s to go
    assert text.isprintable()  # plain text: readable without colour (NO_COLOR)


def test_terminal_progress_redraws_in_place_and_is_erased_at_the_end() -> None:
    from drift_audit.progress import TerminalProgress

    out: list[str] = []
    clock = Clock()
    progress = TerminalProgress(2, out.append, lambda: 30, clock=clock)
    progress.close()
    assert out == []  # nothing drawn, nothing to erase
    progress("clip 1: shots", 10, 100)
    progress("clip 1: shots", 11, 100)  # within 1/8 s: not redrawn
    clock.now += 1
    progress("clip 1: shots", 12, 100)
    assert len(out) == 2 and all(s.startswith("\r") and s.endswith("\x1b[K") for s in out)
    assert all(len(s) - len("\r\x1b[K") <= 29 for s in out)  # cut to the terminal width
    progress.close()
    assert out[-1] == "\r\x1b[K"


# --- the command line: report formats, and the files it wrote -------------------------


def test_cli_refuses_a_sheet_format_before_any_work(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from drift_audit.cli import audit_app

    clip_path = tmp_path / "missing.mp4"  # never opened: the refusal comes first
    result = CliRunner().invoke(audit_app, [str(clip_path), "--contact-sheet", "s.gif"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "drift-audit: error: --contact-sheet s.gif: '.gif' is not an image format it "
        "writes; name a .png, .jpg, .jpeg or .webp file"
    ]
    assert not (tmp_path / "s.gif").exists()


def test_cli_names_each_report_file_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import drift_audit.pipeline
    from drift_audit.cli import audit_app

    report = report_of({1: 0.95, 2: 0.9}, {1: 0.9, 2: 0.9})
    # the audit itself is tested elsewhere; here only what the command line writes
    monkeypatch.setattr(drift_audit.pipeline, "audit", lambda *a, **k: report)
    clip_path = tmp_path / "clip.mp4"
    clip_path.write_bytes(b"")
    out = {name: tmp_path / name for name in ("r.json", "r.html", "s.jpg")}
    args = [str(clip_path), "--json", out["r.json"], "--html", out["r.html"]]
    args += ["--contact-sheet", out["s.jpg"]]
    result = CliRunner().invoke(audit_app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    wrote = [line for line in result.stderr.splitlines() if "wrote" in line]
    assert wrote == [
        f"drift-audit: wrote JSON report {out['r.json']}",
        f"drift-audit: wrote HTML report {out['r.html']}",
        f"drift-audit: wrote contact sheet {out['s.jpg']}",
    ]
    assert out["s.jpg"].read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG, as its name says
    quiet = CliRunner().invoke(audit_app, [str(a) for a in [*args, "-q"]])
    assert "wrote" not in quiet.stderr


def test_pillow_loads_only_for_the_contact_sheet() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from drift_audit.cli import main\n"
        "import drift_audit.report.terminal, drift_audit.report.html, drift_audit.report.json\n"
        "import drift_audit.report.formats\n"
        "before = 'PIL' in sys.modules\n"
        "import drift_audit.report.contact_sheet\n"
        "print(before, 'PIL' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
