"""The drawn parts of the HTML page: the style sheet, a timeline per clip and a
similarity plot per character, and the ids that link findings to them.

Kept apart from html.py, which lays out the page, so that each reads on its own.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import numpy as np

from drift_audit.faces.attributes import AttributeChange
from drift_audit.faces.colour import lab_to_rgb
from drift_audit.report.common import cell_level, row_label
from drift_audit.types import Character, ClipResult, EmbedderInfo

_SHOT_COLOURS = ("#5b8bd0", "#7fa7df", "#4a9d9c", "#7cc0bf")


def row_id(character: str) -> str:
    """The id of a character's row: its id with anything but [A-Za-z0-9_-] replaced."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", character)


def cell_id(character: str, clip: int) -> str:
    """The id of a character's cell for one clip, e.g. "C2-clip3"."""
    return f"{row_id(character)}-clip{clip}"


def clip_duration(clip: ClipResult) -> float:
    """Seconds covered by the decoded frames (or the container's length if none were)."""
    fps = clip.info.fps if clip.info else 0.0
    ends = [s.end_s for s in clip.shots]
    if clip.times:
        ends.append(clip.time_of(clip.last_frame) + (1 / fps if fps else 0.0))
    if not ends and clip.info:
        ends.append(clip.info.duration_s)
    return max(ends, default=0.0)


def timeline(clip: ClipResult, characters: list[Character]) -> str:
    """A clip's block: its shots and glitches on a bar to scale, and who is in it; an
    unreadable clip shows its error instead."""
    name = escape(Path(clip.path).name or clip.path)
    head = (
        f'<div class="clip" id="clip{clip.index}"><div class="clip-head"><b>clip {clip.index}'
        f'</b> <span title="{escape(clip.path)}">{name}</span>'
    )
    if clip.status != "ok":
        return f'{head}</div><div class="error">{escape(clip.error or "unreadable")}</div></div>'
    dur = clip_duration(clip) or 1.0
    parts = []
    for k, s in enumerate(clip.shots):
        left, width = 100 * s.start_s / dur, 100 * max(s.end_s - s.start_s, 0.0) / dur
        parts.append(
            f'<div class="shot" style="left:{left:.3f}%;width:{width:.3f}%;background:'
            f'{_SHOT_COLOURS[k % len(_SHOT_COLOURS)]}" title="shot {s.index}: frames '
            f'{s.start_frame}-{s.end_frame}, {s.start_s:.2f}-{s.end_s:.2f} s">{s.index}</div>'
        )
    for g in clip.glitches:
        parts.append(
            f'<div class="glitch" style="left:{100 * g.time_s / dur:.3f}%" '
            f'title="glitch frame {g.frame} ({g.time_s:.2f} s)"></div>'
        )
    glitches = (
        f" · glitch frame(s) {', '.join(str(g.frame) for g in clip.glitches)}"
        if clip.glitches
        else ""
    )
    damaged = f" · {clip.corrupt_frames} corrupt frame(s)" if clip.corrupt_frames else ""
    backend = f" · {escape(clip.info.backend)}" if clip.info else ""
    return (
        f'{head} <span class="muted">{clip.frames_read} frames · {dur:.2f} s · '
        f"{len(clip.shots)} shot(s){glitches}{damaged} · {len(clip.tracks)} face track(s)"
        f'{backend}</span></div><div class="bar">{"".join(parts)}</div>'
        f'<div class="axis"><span>0 s</span><span>{dur:.2f} s</span></div>'
        f"{_presence(clip.index, characters)}</div>"
    )


def _presence(clip: int, characters: list[Character]) -> str:
    """A line naming the characters seen in a clip and their shots, linked to their cells."""
    seen = []
    for ch in characters:
        shots = sorted({a.shot for a in ch.appearances if a.clip == clip})
        if shots:
            seen.append(
                f'<a href="#{cell_id(ch.id, clip)}">{escape(row_label(ch))}</a> '
                f"(shot{'s' if len(shots) > 1 else ''} {', '.join(map(str, shots))})"
            )
    return f'<div class="muted">faces: {" · ".join(seen) or "none"}</div>'


def swatches(changes: list[AttributeChange]) -> str:
    """Each attribute change as two colour swatches with their names and the ΔE."""
    rows = []
    for c in changes:
        before, after = (
            "#{:02x}{:02x}{:02x}".format(*lab_to_rgb(np.array(lab)).tolist())
            for lab in (c.before_lab, c.after_lab)
        )
        rows.append(
            f'<div class="swatches">{escape(c.attribute.replace("_", " "))} '
            f'<span class="sw" style="background:{before}"></span> {escape(c.before_name)} → '
            f'<span class="sw" style="background:{after}"></span> {escape(c.after_name)} '
            f'<span class="muted">ΔE {c.delta_e:.0f}</span></div>'
        )
    return "".join(rows)


def plot(ch: Character, clips: list[int], emb: EmbedderInfo | None) -> str:
    """An inline SVG of similarity (0..1) against clip index, threshold dashed."""
    w, h, left, right, top, bottom = 240, 110, 30, 10, 10, 22
    lo, hi = min(clips, default=1), max(clips, default=1)

    def xy(clip: int, sim: float) -> tuple[float, float]:
        frac = 0.5 if hi == lo else (clip - lo) / (hi - lo)
        y = min(max(sim, 0.0), 1.0)
        return left + frac * (w - left - right), top + (1 - y) * (h - top - bottom)

    out = [
        f'<svg class="plot" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="similarity of {escape(ch.id)} per clip">'
    ]
    for v in (0.0, 0.5, 1.0):
        _, y = xy(lo, v)
        out.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{v:.1f}</text>'
        )
    for c in clips:
        x, _ = xy(c, 0.0)
        out.append(f'<text x="{x:.1f}" y="{h - 6}" text-anchor="middle">{c}</text>')
    if emb is not None:
        _, y = xy(lo, emb.threshold)
        out.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" class="thr"/>'
            f'<text x="{w - right}" y="{y - 3:.1f}" text-anchor="end" class="thr-t">'
            f"threshold {emb.threshold:.2f}</text>"
        )
    points = [(c, ch.clip_similarity[c]) for c in clips if c in ch.clip_similarity]
    if len(points) > 1:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(c, s) for c, s in points))
        out.append(f'<polyline points="{coords}" class="line"/>')
    for c, s in points:
        x, y = xy(c, s)
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="pt {cell_level(ch, c, emb)}">'
            f"<title>clip {c}: {s:.3f}</title></circle>"
        )
    return "".join(out) + "</svg>"


CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 margin:0;padding:16px 24px;color:#1d232b;background:#f6f7f9}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px}p{margin:2px 0}
header{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:12px 16px}
.verdict{font-size:14px;padding:2px 10px;border-radius:12px;color:#fff;vertical-align:middle}
.v-pass{background:#2e8b57}.v-fail{background:#c62828}.v-incomplete{background:#b45309}
.muted{color:#667085;font-size:12px}a{color:#1f5fbf}
.clip{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:8px 12px;margin:6px 0}
.clip-head{margin-bottom:6px}.error{color:#b42318;background:#fdecea;padding:6px 8px;
 border-radius:4px;font-family:ui-monospace,monospace;font-size:12px;overflow-wrap:anywhere}
.bar{position:relative;height:24px;background:#eef0f3;border-radius:4px;overflow:hidden}
.shot{position:absolute;top:0;bottom:0;color:#fff;font-size:11px;text-align:center;
 line-height:24px;overflow:hidden;border-right:2px solid #fff;box-sizing:border-box}
.glitch{position:absolute;top:0;bottom:0;width:3px;margin-left:-1px;background:#d32f2f}
.axis{display:flex;justify-content:space-between;font-size:11px;color:#667085}
.scroll{overflow-x:auto}table.grid{border-collapse:separate;border-spacing:6px;background:#fff;
 border:1px solid #dde1e6;border-radius:8px}
.grid th{font-weight:normal;text-align:center;font-size:13px;vertical-align:bottom}
.grid thead th:first-child{text-align:left}
.grid th.who{text-align:left;vertical-align:top;width:240px}
.grid td{text-align:center;vertical-align:top;width:120px;padding:4px;border-radius:6px}
.grid img{width:112px;height:112px;border-radius:4px;display:block;margin:0 auto}
td.anchor{background:#eef2f8}.cap{font-size:12px;color:#344054;margin-top:2px}
td.absent{background:#f2f3f5}.ph{width:112px;height:112px;margin:0 auto;display:flex;
 align-items:center;justify-content:center;color:#98a2b3;font-size:12px;
 border:1px dashed #cfd4dc;border-radius:4px}
.sim{font-weight:bold;font-size:15px;margin-top:2px}.ok{color:#1b7f3b}.unsure{color:#b26a00}
.bad{color:#c62828}.none{color:#667085}:target{outline:3px solid #1f5fbf}
td.t-bad{background:#fdecea}td.t-unsure{background:#fff4e0}
td.flag-bad{outline:3px solid #c62828;outline-offset:-2px}
td.flag-unsure{outline:3px dashed #e09100;outline-offset:-2px}
td.flag-warn{outline:2px dashed #b26a00;outline-offset:-2px}
.tag{font-size:11px;font-weight:bold;text-transform:uppercase;margin-top:3px;color:#b26a00}
.tag.fail{color:#c62828}.grid img.frame{width:auto;height:auto;max-width:112px;margin-top:3px}
.swatches{font-size:12px;margin-top:3px}.sw{display:inline-block;width:14px;height:14px;
 border:1px solid #98a2b3;border-radius:3px;vertical-align:middle}
svg.plot{display:block;margin-top:6px;background:#fbfbfc;border:1px solid #eceef1;
 border-radius:4px}svg text{font-size:10px;fill:#667085}
.grid line,line.grid{stroke:#e4e7ec}line.thr{stroke:#c62828;stroke-dasharray:5 4}
text.thr-t{fill:#c62828}polyline.line{fill:none;stroke:#5b6b82;stroke-width:1.5}
circle.ok{fill:#1b7f3b}circle.unsure{fill:#e09100}circle.bad{fill:#c62828}
ul.findings{list-style:none;padding:0;margin:0}.findings li{background:#fff;margin:4px 0;
 padding:6px 10px;border:1px solid #dde1e6;border-left:4px solid #e09100;border-radius:4px}
.findings li.fail{border-left-color:#c62828}.sev{text-transform:uppercase;font-size:11px;
 font-weight:bold;color:#b26a00}li.fail .sev{color:#c62828}.links{font-size:12px;margin-left:6px}
"""
