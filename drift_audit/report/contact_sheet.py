"""The contact sheet: the character x clip grid of faces and the findings as one image,
drawn with Pillow, in the format its file name asks for (PNG, JPEG or WebP).

One row per character (label and what fails, anchor image, one thumbnail per readable
clip with its similarity under it, coloured as in the HTML report; a cell a finding is
about is outlined and names the finding's kind), under a header row naming the clips,
then the findings, one line each.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from drift_audit import __version__
from drift_audit.report import provenance_view
from drift_audit.report.common import (
    THUMB_PX,
    as_rgb,
    cell_findings,
    cell_flag,
    cell_level,
    cell_value,
    character_facts,
    readable,
    row_label,
    thumbnail,
    verdict,
    where,
)
from drift_audit.report.sheet_text import Font, fit, font, wrap
from drift_audit.types import Character, ClipResult, Report

_PAD = 6
_CELL_W = THUMB_PX + 2 * _PAD
_LABEL_W = 180
_TITLE_H = 30
_HEAD_H = 60  # clip number, file name, provenance
_ROW_H = THUMB_PX + 2 * _PAD + 52
_LINE_H = 17
MAX_FINDINGS = 40  # lines of findings listed; the rest are counted

RGB = tuple[int, int, int]
_BG, _INK, _MUTED, _LINE = (246, 247, 249), (29, 35, 43), (102, 112, 133), (221, 225, 230)
_TEXT = {"ok": (27, 127, 59), "unsure": (178, 106, 0), "bad": (198, 40, 40), "none": _MUTED}
_TINT = {"ok": (255, 255, 255), "unsure": (255, 244, 224), "bad": (253, 236, 234)}
_OUTLINE = {"bad": (198, 40, 40), "unsure": (224, 145, 0), "warn": (178, 106, 0)}
_SEVERITY = {"fail": (198, 40, 40), "warn": (178, 106, 0), "info": (31, 95, 191)}
_VERDICT = {"PASS": (46, 139, 87), "FAIL": (198, 40, 40), "INCOMPLETE": (180, 83, 9)}


class _Sheet:
    """A canvas and the fonts it is drawn with."""

    def __init__(self, width: int, height: int) -> None:
        self.image = Image.new("RGB", (width, height), _BG)
        self.draw = ImageDraw.Draw(self.image)
        self.small, self.body, self.bold = font(12), font(13), font(15, bold=True)

    def text(
        self,
        text: str,
        xy: tuple[int, int],
        width: int,
        face: Font,
        colour: RGB = _INK,
        centre: bool = False,
    ) -> None:
        text = fit(text, face, width)
        x, y = xy
        if centre:
            x += (width - round(face.getlength(text))) // 2
        self.draw.text((x, y), text, font=face, fill=colour)

    def paste(self, face: np.ndarray | None, x: int, y: int) -> bool:
        bgr = thumbnail(face)
        if bgr is None:
            return False
        self.image.paste(Image.fromarray(bgr[:, :, ::-1].copy()), (x, y))
        return True

    def placeholder(self, x: int, y: int, text: str) -> None:
        self.draw.rectangle((x, y, x + THUMB_PX - 1, y + THUMB_PX - 1), outline=(207, 212, 220))
        self.text(text, (x + 4, y + THUMB_PX // 2 - 7), THUMB_PX - 8, self.small, _MUTED, True)


def _row(sheet: _Sheet, ch: Character, ok: list[ClipResult], report: Report, y: int) -> None:
    sheet.text(row_label(ch), (_PAD, y + 8), _LABEL_W - 2 * _PAD, sheet.bold)
    for k, line in enumerate(character_facts(ch, report)):
        colour = _TEXT["bad"] if line.startswith("fails") else _MUTED
        sheet.text(line, (_PAD, y + 32 + 18 * k), _LABEL_W - 2 * _PAD, sheet.small, colour)
    x = _LABEL_W
    sheet.draw.rectangle((x, y + 2, x + _CELL_W - 1, y + _ROW_H - 3), fill=(238, 242, 248))
    if not sheet.paste(ch.anchor_image, x + _PAD, y + _PAD):
        sheet.placeholder(x + _PAD, y + _PAD, "no image")
    caption = f"cast: {ch.name}" if ch.name else "first appearance"
    sheet.text(caption, (x + 2, y + THUMB_PX + _PAD + 6), _CELL_W - 4, sheet.small, centre=True)
    for clip in ok:
        x += _CELL_W
        _cell(sheet, ch, clip.index, report, x, y)


def _cell(sheet: _Sheet, ch: Character, clip: int, report: Report, x: int, y: int) -> None:
    """A character's cell in one clip: its face tinted by level, the similarity under it,
    and, when findings are about it, an outline and the findings' kinds."""
    value, within = cell_value(ch, clip)
    thumb = ch.thumbnails.get(clip)
    flag = cell_flag(ch, clip, report)
    box = (x, y + 2, x + _CELL_W - 1, y + _ROW_H - 3)
    if value is None and as_rgb(thumb) is None:
        sheet.draw.rectangle(box, fill=(242, 243, 245))
        sheet.placeholder(x + _PAD, y + _PAD, "not in clip")
    else:
        lvl = cell_level(ch, clip, report.embedder)
        sheet.draw.rectangle(box, fill=_TINT.get(lvl, _TINT["ok"]))
        if not sheet.paste(thumb, x + _PAD, y + _PAD):
            sheet.placeholder(x + _PAD, y + _PAD, "no image")
        text = "-" if value is None else f"{'within ' if within else ''}{value:.2f}"
        sheet.text(text, (x, y + THUMB_PX + _PAD + 4), _CELL_W, sheet.bold, _TEXT[lvl], True)
    found = cell_findings(report).get((ch.id, clip), [])
    ranked = sorted(found, key=lambda f: (f.severity != "fail", f.kind))  # fails first
    kinds = list(dict.fromkeys(f.kind.replace("_", " ") for f in ranked))
    if kinds:
        colour = _OUTLINE.get(flag, _OUTLINE["warn"])
        sheet.text(", ".join(kinds), (x + 2, y + THUMB_PX + _PAD + 24), _CELL_W - 4, sheet.small,
                   colour, True)  # fmt: skip
    if flag != "ok":
        sheet.draw.rectangle(box, outline=_OUTLINE[flag], width=3)


def _finding_lines(report: Report, sheet: _Sheet, width: int) -> list[tuple[str, RGB]]:
    """The findings as wrapped lines, each with its colour."""
    lines: list[tuple[str, RGB]] = []
    for f in report.findings[:MAX_FINDINGS]:
        at = where(f.evidence)
        text = f"{f.severity.upper()} {f.kind}: {f.message}" + (f" [{at}]" if at else "")
        for k, line in enumerate(wrap(text, sheet.body, width)):
            lines.append((line if k == 0 else "    " + line, _SEVERITY.get(f.severity, _INK)))
    if len(report.findings) > MAX_FINDINGS:
        more = len(report.findings) - MAX_FINDINGS
        lines.append((f"... and {more} more finding(s): see the JSON or HTML report", _MUTED))
    return lines


def _encode(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "PNG":
        image.save(buf, "PNG", optimize=False)
    else:
        image.save(buf, fmt, quality=90)
    return buf.getvalue()


def render_contact_sheet(report: Report, fmt: str = "PNG") -> bytes:
    """The character x clip grid and the findings as image bytes.

    Args:
        report: the audit to draw.
        fmt: "PNG", "JPEG" or "WEBP" (see report.formats.image_format).

    Returns:
        The encoded image; a small one that says so when no face was found or no clip
        was readable.
    """
    ok = readable(report)
    if not report.characters:
        sheet = _Sheet(360, 60)
        sheet.text("no faces found" if ok else "no readable clips", (12, 20), 336, sheet.bold)
        return _encode(sheet.image, fmt)
    width = max(_LABEL_W + _CELL_W * (1 + len(ok)) + _PAD, 640)
    probe = _Sheet(1, 1)
    lines = _finding_lines(report, probe, width - 2 * _PAD)
    grid_h = _TITLE_H + _HEAD_H + _ROW_H * len(report.characters)
    height = grid_h + (_LINE_H * (len(lines) + 1) + 2 * _PAD if lines else 0) + _PAD
    sheet = _Sheet(width, height)

    v = verdict(report)
    title = f"drift-audit {__version__}"
    if report.embedder is not None:
        title += f" | {report.embedder.name}, threshold {report.embedder.threshold:.2f}"
    sheet.text(v, (_PAD, 7), 120, sheet.bold, _VERDICT[v])
    sheet.text(title, (_PAD + 120, 8), width - 120 - 2 * _PAD, sheet.body, _MUTED)
    y = _TITLE_H
    sheet.text("character", (_PAD, y + 18), _LABEL_W - 2 * _PAD, sheet.body, _MUTED)
    sheet.text("anchor", (_LABEL_W, y + 18), _CELL_W, sheet.body, _MUTED, True)
    for k, clip in enumerate(ok):
        x = _LABEL_W + _CELL_W * (k + 1)
        sheet.text(f"clip {clip.index}", (x, y + 4), _CELL_W, sheet.bold, centre=True)
        sheet.text(Path(clip.path).name, (x + 2, y + 24), _CELL_W - 4, sheet.small, _MUTED, True)
        label = provenance_view.sheet_label(clip)
        if label is not None:
            sheet.text(label[0], (x + 2, y + 40), _CELL_W - 4, sheet.small, label[1], True)
    y += _HEAD_H
    for ch in report.characters:
        sheet.draw.line((_PAD, y, width - _PAD, y), fill=_LINE)
        _row(sheet, ch, ok, report, y)
        y += _ROW_H
    if lines:
        y += _PAD
        sheet.text("findings", (_PAD, y), width - 2 * _PAD, sheet.bold)
        for text, colour in lines:
            y += _LINE_H
            sheet.text(text, (_PAD, y), width - 2 * _PAD, sheet.body, colour)
    return _encode(sheet.image, fmt)
