"""`--csv PATH`: one row per finding, for spreadsheets (RFC 4180: comma, CRLF, quotes
where needed, UTF-8 without a byte order mark)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from drift_audit.report.json import printable
from drift_audit.report.spans import span, timecode
from drift_audit.types import Report

COLUMNS = (
    "clip",
    "clip_file",
    "character",
    "character_name",
    "kind",
    "severity",
    "start_s",
    "end_s",
    "timecode",
    "frame",
    "shot",
    "value",
    "threshold",
    "provenance",
    "message",
)

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    """A text cell that a spreadsheet shows as text: one that would start a formula
    (a file named "=HYPERLINK(...).mp4") gets a leading apostrophe (OWASP's advice)."""
    if not value:
        return ""
    value = printable(value)
    return "'" + value if value.startswith(_FORMULA) else value


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def render_csv(report: Report) -> str:
    """The findings as CSV text, a header row first, in the report's finding order.

    Args:
        report: the audit.

    Returns:
        The CSV text; only the header when there are no findings.
    """
    names = {ch.id: ch.name for ch in report.characters}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for f in report.findings:
        where = span(report, f)
        clip = where.clip
        prov = clip.provenance.state if clip is not None and clip.provenance else ""
        writer.writerow(
            [
                "" if f.clip is None else f.clip,
                _text(Path(clip.path).name) if clip is not None else "",
                f.character or "",
                _text(names.get(f.character or "")),
                f.kind,
                f.severity,
                _num(where.start_s) if clip is not None else "",
                _num(where.end_s) if clip is not None else "",
                timecode(where.start_s, where.fps) if clip is not None else "",
                "" if where.frame is None else where.frame,
                "" if where.shot is None else where.shot,
                _num(f.value),
                _num(f.threshold),
                prov,
                _text(" ".join(f.message.split())),
            ]
        )
    return out.getvalue()
