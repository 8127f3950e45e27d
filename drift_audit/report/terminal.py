"""The terminal report: a characters x clips matrix of similarities, then findings."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from drift_audit.types import Report

_SEVERITY_STYLE = {"fail": "bold red", "warn": "yellow"}


def _cell(sim: float, threshold: float, margin: float) -> Text:
    if sim < threshold:
        return Text(f"{sim:.2f} ✗", style="bold red")
    if sim < threshold + margin:
        return Text(f"{sim:.2f} ?", style="yellow")
    return Text(f"{sim:.2f}", style="green")


def render(report: Report, console: Console) -> None:
    """Print the matrix, the findings and a verdict line."""
    emb = report.embedder
    if emb is not None:
        console.print(
            f"embedder [bold]{emb.name}[/] ({emb.choice}); "
            f"same-person threshold {emb.threshold:.2f}",
            highlight=False,
        )
    for clip in report.clips:
        if clip.status == "ok":
            console.print(
                f"clip {clip.index}: {clip.path}  {clip.frames_read} frames, "
                f"{len(clip.shots)} shot(s), {len(clip.tracks)} face track(s)",
                highlight=False,
            )
        else:
            console.print(Text(f"clip {clip.index}: {clip.error}", style="red"))
    ok = [c for c in report.clips if c.status == "ok"]
    if report.characters and emb is not None:
        table = Table(
            title="identity similarity to anchor (character x clip)", title_justify="left"
        )
        table.add_column("character")
        for clip in ok:
            table.add_column(f"{clip.index}: {Path(clip.path).name}", justify="right")
        for ch in report.characters:
            cells: list[Text | str] = [ch.id if ch.name is None else f"{ch.id} {ch.name}"]
            for clip in ok:
                sim = ch.clip_similarity.get(clip.index)
                cells.append(
                    "—" if sim is None else _cell(sim, emb.threshold, emb.uncertain_margin)
                )
            table.add_row(*cells)
        console.print(table)
    elif ok:
        console.print("no faces found in any clip")
    if report.findings:
        console.print("[bold]findings[/]")
        for f in report.findings:
            console.print(
                Text.assemble(
                    (f"{f.severity:<4} ", _SEVERITY_STYLE[f.severity]),
                    (f"{f.kind:<19} ", "bold"),
                    f.message,
                )
            )
    if report.failed:
        verdict = Text("FAIL", style="bold red")
    elif report.unreadable:
        verdict = Text("INCOMPLETE (unreadable input)", style="bold red")
    else:
        verdict = Text("PASS", style="bold green")
    console.print(
        Text.assemble(
            "verdict: ",
            verdict,
            f"  ({len(report.characters)} character(s), {len(report.findings)} finding(s), "
            f"{len(report.unreadable)} unreadable clip(s))",
        )
    )
