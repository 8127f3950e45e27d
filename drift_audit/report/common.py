"""What every renderer shares: the verdict wording, the level of a character x clip
cell, and the thumbnails' size and pixel format.

The terminal, the HTML page and the contact sheet once each restated these, and the
terminal's copy drifted from the JSON (it ignored face evidence). Each renderer asks
here instead, and the cell's verdict is the JSON's `verdict` field itself.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drift_audit.identity.characters import clip_verdict, different_below
from drift_audit.types import Character, ClipResult, EmbedderInfo, Evidence, Finding, Report

THUMB_PX = 112
"""Side of a face thumbnail in the HTML page and the contact sheet (pixels)."""

LEVELS = {"same": "ok", "uncertain": "unsure", "different": "bad"}
"""A clip verdict -> the level the renderers colour a cell by ("none": no verdict)."""


def cell_verdict(ch: Character, clip: int, emb: EmbedderInfo | None) -> str | None:
    """A character's verdict in a clip, exactly as the JSON report's `verdict` field.

    Args:
        ch: the character.
        clip: the clip's index.
        emb: the embedder that drew the line; None when no clip was readable.

    Returns:
        "same", "uncertain" or "different" (see `clip_verdict`), or None when the
        character has no similarity in that clip or no embedder ran.
    """
    sim = ch.clip_similarity.get(clip)
    if sim is None or emb is None:
        return None
    # A clip without an evidence score is judged on its similarity alone: missing
    # evidence is not thin evidence.
    return clip_verdict(
        sim,
        ch.evidence.get(clip, 1.0),
        emb.threshold,
        emb.uncertain_margin,
        emb.measured_threshold,
        emb.lower_margin,
    )


def different_bar(emb: EmbedderInfo) -> float:
    """Below this a similarity on good evidence reads "different" (Metric.different_below,
    from what the report keeps of the metric)."""
    return different_below(emb.threshold, emb.lower_margin, emb.measured_threshold)


def cell_level(ch: Character, clip: int, emb: EmbedderInfo | None) -> str:
    """The colour class of a character's cell in a clip: "ok", "unsure" (within the
    margin, or below the threshold on weak face evidence), "bad" or "none"."""
    said = cell_verdict(ch, clip, emb)
    return "none" if said is None else LEVELS[said]


def verdict(report: Report) -> str:
    """ "FAIL", "INCOMPLETE" (some input was unreadable) or "PASS"."""
    if report.failed:
        return "FAIL"
    return "INCOMPLETE" if report.unreadable else "PASS"


def readable(report: Report) -> list[ClipResult]:
    """The clips that were read, in order: the columns of every character x clip grid."""
    return [c for c in report.clips if c.status == "ok"]


def row_label(ch: Character) -> str:
    """How a grid row names a character: "C2", or "C2 officer" when cast."""
    return ch.id if ch.name is None else f"{ch.id} {ch.name}"


def as_rgb(image: np.ndarray | None) -> np.ndarray | None:
    """An (h, w, 3) uint8 RGB view of a crop (grey or RGBA accepted), or None if unusable."""
    if image is None or image.size == 0:
        return None
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        return None
    return np.ascontiguousarray(img[:, :, :3])


def thumbnail(image: np.ndarray | None) -> np.ndarray | None:
    """A crop as a (THUMB_PX, THUMB_PX, 3) uint8 BGR image ready to encode or paste,
    or None if it is unusable."""
    rgb = as_rgb(image)
    if rgb is None:
        return None
    # Shrinking wants the area filter (no aliasing); growing a small crop does not.
    interp = cv2.INTER_AREA if max(rgb.shape[:2]) > THUMB_PX else cv2.INTER_LINEAR
    square = cv2.resize(rgb, (THUMB_PX, THUMB_PX), interpolation=interp)
    return cv2.cvtColor(square, cv2.COLOR_RGB2BGR)


MIN_SLOPE_CLIPS = 3
"""Fewest clips a drift slope is shown for: through two points any line is exact, and
one re-lit clip of two reads as a steep trend."""

_FLAG_RANK = {"ok": 0, "warn": 1, "unsure": 2, "bad": 3}


def cell_value(ch: Character, clip: int) -> tuple[float | None, bool]:
    """The number a character's cell shows, and whether it is the within-clip consistency.

    In the anchor's own clip the similarity to the anchor compares the clip with
    itself (about 1.00), so the cell shows how consistent the character's faces are
    within that clip instead, where it was measured (`Character.consistency`).
    """
    if clip == ch.anchor_clip and clip in ch.consistency:
        return ch.consistency[clip], True
    return ch.clip_similarity.get(clip), False


def cell_findings(report: Report) -> dict[tuple[str, int], list[Finding]]:
    """(character id, clip) -> the findings about that character in that clip."""
    out: dict[tuple[str, int], list[Finding]] = {}
    for f in report.findings:
        if f.character is not None and f.clip is not None:
            out.setdefault((f.character, f.clip), []).append(f)
    return out


def cell_flag(ch: Character, clip: int, report: Report) -> str:
    """What a cell is marked with: "bad" (a fail: a different verdict or a failing
    finding), "unsure" (an uncertain verdict or finding), "warn" (another warning, such
    as attribute drift) or "ok"."""
    flag = cell_level(ch, clip, report.embedder)
    flag = "ok" if flag == "none" else flag
    for f in cell_findings(report).get((ch.id, clip), []):
        mine = "bad" if f.severity == "fail" else "unsure" if "uncertain" in f.kind else "warn"
        if _FLAG_RANK[mine] > _FLAG_RANK[flag]:
            flag = mine
    return flag


def character_facts(ch: Character, report: Report) -> list[str]:
    """The short lines under a character's label: where it fails, diverges or is
    uncertain, or that it matches everywhere (only when nothing is flagged), and its
    drift slope when there are MIN_SLOPE_CLIPS clips to fit it to."""
    flags = {clip: cell_flag(ch, clip, report) for clip in sorted(ch.clip_similarity)}
    for f in report.findings:
        if f.character == ch.id and f.clip is not None and f.clip not in flags:
            flags[f.clip] = cell_flag(ch, f.clip, report)
    facts = []
    failing = sorted(c for c, v in flags.items() if v == "bad")
    unsure = sorted(c for c, v in flags.items() if v == "unsure")
    if failing:
        facts.append(f"fails in clip {_clips_text(failing)}")
    if ch.coherence_horizon is not None:
        facts.append(f"diverges from clip {ch.coherence_horizon}")
    if unsure:
        facts.append(f"uncertain in clip {_clips_text(unsure)}")
    if not facts and len(ch.clip_similarity) > 1 and all(v == "ok" for v in flags.values()):
        facts.append("matches its anchor in every clip it is in")
    if len(ch.clip_similarity) >= MIN_SLOPE_CLIPS:
        facts.append(f"drift {ch.drift_slope:+.3f} / clip")
    return facts


def _clips_text(clips: list[int]) -> str:
    return ", ".join(map(str, clips))


def timecode(seconds: float) -> str:
    """HH:MM:SS.mmm, e.g. "00:01:02.500"."""
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def where(ev: Evidence | None) -> str | None:
    """Where a finding's evidence is, in a phrase: "clip3.mp4 shot 2, 00:00:01.200 to
    00:00:03.000, best face at frame 34"; None without evidence."""
    if ev is None:
        return None
    shot = f" shot {ev.shot}" if ev.shot is not None else ""
    face = f", best face at frame {ev.frame}" if ev.frame is not None else ""
    span = f"{timecode(ev.start_s)} to {timecode(ev.end_s)}"
    return f"{Path(ev.path).name}{shot}, {span}{face}"
