"""The terminal report: its cells say what the JSON's verdicts say."""

from __future__ import annotations

import io
import json

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
