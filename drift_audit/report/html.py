"""The HTML report: one self-contained page (inline CSS and images, no script, no URLs).

Shows a timeline per clip, a character x clip grid of face thumbnails coloured by
similarity to the anchor, a similarity plot per character, and the findings linked
to the cells and timelines they are about. The timelines, plots and style sheet are
drawn in html_parts.py.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

import cv2
import numpy as np

from drift_audit import __version__
from drift_audit.faces.attributes import changes_since_first
from drift_audit.identity.characters import WEAK_EVIDENCE
from drift_audit.report import provenance_view
from drift_audit.report.common import (
    THUMB_PX,
    cell_findings,
    cell_flag,
    cell_level,
    cell_value,
    character_facts,
    different_bar,
    readable,
    thumbnail,
    verdict,
    where,
)
from drift_audit.report.frames import evidence_frame
from drift_audit.report.html_parts import CSS, cell_id, plot, row_id, swatches, timeline
from drift_audit.types import Character, ClipResult, Evidence, Finding, Report


def _data_uri(image: np.ndarray | None) -> str | None:
    bgr = thumbnail(image)
    if bgr is None:
        return None
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _img(uri: str | None, alt: str) -> str:
    if uri is None:
        return '<div class="ph">no image</div>'
    return f'<img src="{uri}" alt="{escape(alt)}" width="{THUMB_PX}" height="{THUMB_PX}">'


def _header(report: Report) -> str:
    emb, v = report.embedder, verdict(report)
    fails = sum(f.severity == "fail" for f in report.findings)
    if emb is None:
        emb_text = "no embedder ran (no readable clip)"
    else:
        emb_text = (
            f"embedder <b>{escape(emb.name)}</b> ({escape(emb.choice)}) · same-person "
            f"threshold <b>{emb.threshold:.2f}</b>: same from "
            f"{emb.threshold + emb.uncertain_margin:.2f}, "
            f"different below {different_bar(emb):.2f}"
        )
    counts = (
        f"{len(report.clips)} clip(s), {len(report.unreadable)} unreadable · "
        f"{len(report.characters)} character(s) · {len(report.findings)} finding(s) "
        f"({fails} fail, {len(report.findings) - fails} warn) · fail on: "
        f"{escape(report.fail_on)}"
    )
    return (
        f'<header><h1>drift-audit report <span class="verdict v-{v.lower()}">{v}</span></h1>'
        f"<p>drift-audit {escape(__version__)} · {emb_text}</p><p>{counts}</p></header>"
    )


def _character_row(ch: Character, ok: list[ClipResult], report: Report) -> str:
    emb = report.embedder
    name = f"<br><b>{escape(ch.name)}</b>" if ch.name else ""
    facts_html = "".join(
        f'<div class="muted">{escape(f)}</div>' for f in character_facts(ch, report)
    )
    cells = [
        f'<th class="who" id="{row_id(ch.id)}"><b>{escape(ch.id)}</b>{name}'
        f"{facts_html}"
        f"{plot(ch, [c.index for c in ok], emb)}</th>"
    ]
    caption = f"cast: {escape(ch.name)}" if ch.name else "first appearance"
    img = _img(_data_uri(ch.anchor_image), f"anchor of {ch.id}")
    cells.append(f'<td class="anchor">{img}<div class="cap">{caption}</div></td>')
    cells.extend(_cell(ch, clip.index, report) for clip in ok)
    return f"<tr>{''.join(cells)}</tr>"


def _cell(ch: Character, clip: int, report: Report) -> str:
    """A character's cell in one readable clip: its face, similarity and the facts
    behind the colour, or a placeholder when it is not in the clip; outlined, with the
    frame of the evidence and any colour change, when a finding is about it."""
    value, within = cell_value(ch, clip)
    flag = cell_flag(ch, clip, report)
    found = cell_findings(report).get((ch.id, clip), [])
    marks = f' data-flag="{flag}"' if found or flag != "ok" else ""
    flagged = f" flag-{flag}" if flag != "ok" else ""
    uri = _data_uri(ch.thumbnails.get(clip))
    if uri is None and value is None:
        body = '<div class="ph">not in this clip</div>' + _evidence(ch, clip, found)
        return f'<td class="absent{flagged}" id="{cell_id(ch.id, clip)}"{marks}>{body}</td>'
    body = _img(uri, f"{ch.id} in clip {clip}")
    lvl = cell_level(ch, clip, report.embedder)
    shown = "—" if value is None else f"{value:.2f}"
    title = ' title="how alike its faces are within its anchor clip"' if within else ""
    body += f'<div class="sim {lvl}"{title}>{"within " if within else ""}{shown}</div>'
    if ch.evidence.get(clip, 1.0) < WEAK_EVIDENCE:
        body += (
            '<div class="muted" title="small, turned or blurred faces embed poorly">'
            "weak face evidence</div>"
        )
    if clip in ch.previous_similarity:
        body += (
            f'<div class="muted" title="similarity to this character in the clip before">'
            f"vs previous {ch.previous_similarity[clip]:.2f}</div>"
        )
    if clip in ch.spread:
        body += (
            f'<div class="muted" title="max - min similarity of its faces in this clip">'
            f"spread {ch.spread[clip]:.2f}</div>"
        )
    body += _evidence(ch, clip, found)
    return f'<td class="cell t-{lvl}{flagged}" id="{cell_id(ch.id, clip)}"{marks}>{body}</td>'


def _evidence(ch: Character, clip: int, found: list[Finding]) -> str:
    """What a cell's findings point at: each one's severity and kind, the frame of its
    best evidence face with the box drawn, and the colours an attribute moved between."""
    out = []
    for f in found:
        out.append(f'<div class="tag {escape(f.severity)}">{escape(f.kind)}</div>')
        uri = _frame_uri(f.evidence)
        if uri is not None:
            alt = f"frame {f.evidence.frame if f.evidence else ''} of clip {clip}"
            out.append(f'<img class="frame" src="{uri}" alt="{escape(alt)}">')
        if f.kind == "attribute_drift":
            out.append(swatches(changes_since_first(ch.attributes, clip)))
    return "".join(out)


def _frame_uri(ev: Evidence | None) -> str | None:
    rgb = evidence_frame(ev)
    if rgb is None:
        return None
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None


def _grid(report: Report) -> str:
    ok = readable(report)
    if not report.characters:
        return '<p class="muted">no faces found in any clip</p>' if ok else ""
    head = "".join(
        f'<th class="col"><a href="#clip{c.index}">clip {c.index}</a><br>'
        f'<span class="muted" title="{escape(c.path)}">{escape(Path(c.path).name)}'
        "</span></th>"
        for c in ok
    )
    tables = []
    for role, heading in (
        ("lead", ""),
        (
            "extra",
            '<h3>extras <span class="muted">small or blurred wherever they appear; '
            "their identity findings warn</span></h3>",
        ),
    ):
        mine = [ch for ch in report.characters if ch.role == role]
        if not mine:
            continue
        rows = "".join(_character_row(ch, ok, report) for ch in mine)
        tables.append(
            f'{heading}<div class="scroll"><table class="grid"><thead><tr><th>character</th>'
            f"<th>anchor</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    return "".join(tables)


def _findings(report: Report) -> str:
    if not report.findings:
        return '<p class="muted">no findings</p>'
    by_id = {ch.id: ch for ch in report.characters}
    chars = set(by_id)
    ok = {c.index for c in readable(report)}
    known = {c.index for c in report.clips}
    items = []
    for f in report.findings:
        links = []
        if f.character in chars and f.clip in ok:
            links.append(
                f'<a href="#{cell_id(f.character, f.clip)}">{escape(f.character)} in '
                f"clip {f.clip}</a>"
            )
        elif f.character in chars:
            links.append(f'<a href="#{row_id(f.character)}">{escape(f.character)}</a>')
        if f.clip in known:
            links.append(f'<a href="#clip{f.clip}">clip {f.clip} timeline</a>')
        at = where(f.evidence)
        at_html = f' <span class="muted">at {escape(at)}</span>' if at else ""
        colours = ""
        if f.kind == "attribute_drift" and f.clip is not None and f.character in by_id:
            colours = swatches(changes_since_first(by_id[f.character].attributes, f.clip))
        items.append(
            f'<li class="{escape(f.severity)}"><span class="sev">{escape(f.severity)}'
            f"</span> <b>{escape(f.kind)}</b> {escape(f.message)}{at_html} "
            f'<span class="links">{" · ".join(links)}</span>{colours}</li>'
        )
    return f'<ul class="findings">{"".join(items)}</ul>'


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page.

    Args:
        report: the audit to show.

    Returns:
        The page: inline CSS, images as data: URIs, no script and no external URL.
    """
    timelines = "".join(timeline(c, report.characters) for c in report.clips)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>drift-audit report: {verdict(report)}</title><style>{CSS}</style></head><body>"
        f"{_header(report)}<h2>Clips</h2>{timelines}{provenance_view.html_section(report)}"
        f"<h2>Characters</h2>{_grid(report)}<h2>Findings</h2>{_findings(report)}"
        "</body></html>\n"
    )
