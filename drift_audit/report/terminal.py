"""The terminal report: a characters x clips matrix of similarities, then findings."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from drift_audit.report import provenance_view
from drift_audit.report.common import (
    cell_flag,
    cell_value,
    readable,
    row_label,
    verdict,
    where,
)
from drift_audit.types import Character, ClipResult, Report

_SEVERITY_STYLE = {"fail": "bold red", "warn": "yellow", "info": "cyan"}
_LEVEL_MARK = {
    "ok": ("", "green"),
    "warn": (" !", "yellow"),
    "unsure": (" ?", "yellow"),
    "bad": (" ✗", "bold red"),
}
_LEGEND = {
    "bad": "✗ fail",
    "unsure": "? uncertain",
    "warn": "! warning (see findings)",
    "~": "~ in the anchor's clip: how alike its faces are within it",
}
_VERDICT_TEXT = {
    "FAIL": ("FAIL", "bold red"),
    "INCOMPLETE": ("INCOMPLETE (unreadable input)", "bold red"),
    "PASS": ("PASS", "bold green"),
}


def _cell(ch: Character, clip: int, report: Report) -> Text | str:
    """A character's similarity in a clip (in the anchor's clip, its consistency within
    the clip, marked ~), marked by the JSON's verdict and by the findings about it."""
    value, within = cell_value(ch, clip)
    flag = cell_flag(ch, clip, report)
    mark, style = _LEVEL_MARK[flag]
    if value is None:
        return Text(f"—{mark}", style=style) if mark else "—"
    return Text(f"{'~' if within else ''}{value:.2f}{mark}", style=style)


def _legend(report: Report, characters: list[Character], ok: list[ClipResult]) -> str:
    """The marks the tables use, each explained."""
    used = set()
    for ch in characters:
        for clip in ok:
            used.add(cell_flag(ch, clip.index, report))
            if cell_value(ch, clip.index)[1]:
                used.add("~")
    return "  ".join(text for key, text in _LEGEND.items() if key in used)


def _matrix(
    characters: list[Character],
    ok: list[ClipResult],
    report: Report,
    title: str = "identity similarity to anchor (character x clip)",
) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("character")
    for clip in ok:
        table.add_column(f"{clip.index}: {Path(clip.path).name}", justify="right")
    for ch in characters:
        table.add_row(row_label(ch), *(_cell(ch, clip.index, report) for clip in ok))
    return table


def _clips(report: Report, console: Console) -> None:
    emb = report.embedder
    if emb is not None:
        console.print(
            f"embedder [bold]{emb.name}[/] ({emb.choice}); "
            f"same-person threshold {emb.threshold:.2f}",
            highlight=False,
        )
        cal = emb.calibration
        if cal is not None and cal.threshold != cal.measured_threshold:
            console.print(f"threshold calibrated on this footage: {cal.reason}", highlight=False)
    for clip in report.clips:
        if clip.status == "ok":
            console.print(
                f"clip {clip.index}: {clip.path}  {clip.frames_read} frames, "
                f"{len(clip.shots)} shot(s), {len(clip.tracks)} face track(s)",
                highlight=False,
            )
        else:
            console.print(Text(f"clip {clip.index}: {clip.error}", style="red"))
        provenance_view.terminal_line(clip, console)


def _findings(report: Report, console: Console) -> None:
    if not report.findings:
        return
    console.print("[bold]findings[/]")
    for f in report.findings:
        console.print(
            Text.assemble(
                (f"{f.severity:<4} ", _SEVERITY_STYLE[f.severity]),
                (f"{f.kind:<19} ", "bold"),
                f.message,
                ("" if (at := where(f.evidence)) is None else f"  [{at}]", "dim"),
            )
        )


def render(report: Report, console: Console) -> None:
    """Print the clips, the matrix, the findings and a verdict line."""
    _clips(report, console)
    ok = readable(report)
    if report.characters and report.embedder is not None:
        leads = [ch for ch in report.characters if ch.role == "lead"]
        extras = [ch for ch in report.characters if ch.role == "extra"]
        if leads:
            console.print(_matrix(leads, ok, report))
        if extras:
            title = "extras: small or blurred wherever they appear (character x clip)"
            console.print(_matrix(extras, ok, report, title))
        console.print(Text(_legend(report, leads + extras, ok), style="dim"))
    elif ok:
        console.print("no faces found in any clip")
    _findings(report, console)
    text, style = _VERDICT_TEXT[verdict(report)]
    console.print(
        Text.assemble(
            "verdict: ",
            Text(text, style=style),
            f"  ({len(report.characters)} character(s), {len(report.findings)} finding(s), "
            f"{len(report.unreadable)} unreadable clip(s))",
        )
    )
