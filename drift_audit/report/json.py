"""The JSON report (schema_version 2): deterministic bytes (files.write_atomic writes them).

Version 2 added each finding's `value`, `threshold` and `evidence` (clip file, shot,
start and end as seconds, time code and frame, the best face's frame and box), the
`info` severity with the `cast_change` kind, `unexpected_character`, each
appearance's `track_ids` and each clip's `consistency`."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np

from drift_audit import __version__
from drift_audit.faces.attributes import ATTRIBUTES, FACIAL_HAIR_PRESENT, facial_hair_score
from drift_audit.faces.colour import colour_name
from drift_audit.identity.evidence import timecode
from drift_audit.report import provenance_view
from drift_audit.report.common import cell_verdict
from drift_audit.types import (
    Calibration,
    Character,
    ClipResult,
    EmbedderInfo,
    Evidence,
    Finding,
    Report,
)

SCHEMA_VERSION = 2


def _r(x: float) -> float:
    return round(float(x), 4)


def _attributes(values: np.ndarray | None) -> dict[str, Any] | None:
    """(4, 4) measures as {attribute: {"lab": [L, a, b], "name": ...} or null}."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for i, name in enumerate(ATTRIBUTES):
        if not values[i, 3]:
            out[name] = None
            continue
        out[name] = {"lab": [_r(x) for x in values[i, :3]], "name": colour_name(values[i, :3])}
    score = facial_hair_score(values)
    if out["facial_hair"] is not None and not np.isnan(score):
        out["facial_hair"]["score"] = _r(score)
        out["facial_hair"]["present"] = bool(score >= FACIAL_HAIR_PRESENT)
    return out


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON types. Floats are rounded to 4 places; no timings,
    so the same input gives the same bytes."""
    emb = report.embedder
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "drift-audit", "version": __version__},
        "embedder": None
        if emb is None
        else {
            "name": emb.name,
            "weights_sha256": emb.weights_sha256,
            "threshold": _r(emb.threshold),
            "uncertain_margin": _r(emb.uncertain_margin),
            "different_margin": _r(emb.lower_margin),
            "calibration": _calibration(emb.calibration),
        },
        "clips": [_clip(c) for c in report.clips],
        "characters": [_character(ch, emb) for ch in report.characters],
        "findings": [_finding(f) for f in report.findings],
        "summary": {
            "clips": len(report.clips),
            "unreadable_clips": len(report.unreadable),
            "characters": len(report.characters),
            "findings": len(report.findings),
            "fail_on": report.fail_on,
            "verdict": "fail" if report.failed else "pass",
        },
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "severity": f.severity,
        "character": f.character,
        "clip": f.clip,
        "frame": f.frame,
        "message": f.message,
        "value": None if f.value is None else _r(f.value),
        "threshold": None if f.threshold is None else _r(f.threshold),
        "evidence": _evidence(f.evidence),
    }


def _evidence(e: Evidence | None) -> dict[str, Any] | None:
    """Where to look: the clip, the shot, the span (seconds, time code, frame), and the
    best face's frame and xyxy box in frame pixels."""
    if e is None:
        return None
    return {
        "path": printable(e.path),
        "shot": e.shot,
        "start_s": _r(e.start_s),
        "end_s": _r(e.end_s),
        "start_timecode": timecode(e.start_s),
        "end_timecode": timecode(e.end_s),
        "start_frame": e.start_frame,
        "end_frame": e.end_frame,
        "frame": e.frame,
        "box": None if e.box is None else [_r(v) for v in e.box],
    }


def _calibration(c: Calibration | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "negative_pairs": c.negative_pairs,
        "quantile": c.quantile,
        "high": None if c.high is None else _r(c.high),
        "measured_threshold": _r(c.measured_threshold),
        "threshold": _r(c.threshold),
        "reason": c.reason,
    }


def _clip(c: ClipResult) -> dict[str, Any]:
    info = c.info
    fps = info.fps if info else 0.0
    return {
        "index": c.index,
        "path": printable(c.path),
        "status": c.status,
        "error": None if c.error is None else printable(c.error),
        "decoder": info.backend if info else None,
        # Every backend reads front to back (decode/base.py); kept since schema_version 1.
        "decode_mode": "sequential" if info else None,
        "fps": _r(fps),
        "frames": c.last_frame + 1 if c.status == "ok" else (info.n_frames if info else 0),
        "duration_s": _r(_duration(c)),
        "frames_decoded": c.frames_read,
        "frames_expected": c.frames_expected,
        "width": info.width if info else 0,
        "height": info.height if info else 0,
        "corrupt_frames": c.corrupt_frames,
        "shots": [
            {
                "index": s.index,
                "start_frame": s.start_frame,
                "end_frame": s.end_frame,
                "start_s": _r(s.start_s),
                "end_s": _r(s.end_s),
            }
            for s in c.shots
        ],
        "glitch_frames": [g.frame for g in c.glitches],
        "tracks": len(c.tracks),
        "provenance": provenance_view.as_json(c.provenance),
    }


def _duration(c: ClipResult) -> float:
    """Seconds from 0 to the end of the clip's last frame: one nominal frame past that
    frame's time, or the last shot's end where that is later (its last frame lasts
    longer: variable frame rate). So no shot ends after the clip does."""
    if not c.times:
        return 0.0
    fps = c.info.fps if c.info else 0.0
    end = c.time_of(c.last_frame) + (1 / fps if fps else 0.0)
    return max([end, *(s.end_s for s in c.shots)])


def _character(ch: Character, emb: EmbedderInfo | None) -> dict[str, Any]:
    return {
        "id": ch.id,
        "name": ch.name,
        "role": ch.role,
        "anchor_clip": ch.anchor_clip,
        "appearances": [
            {
                "clip": a.clip,
                "shot": a.shot,
                "start_s": _r(a.start_s),
                "end_s": _r(a.end_s),
                "faces": a.faces,
                "similarity": _r(a.similarity),
                "attributes": _attributes(a.attributes),
                # 1-based, as in the --tracks files (the flat track list's index + 1)
                "track_ids": [i + 1 for i in a.track_ids],
            }
            for a in ch.appearances
        ],
        "clip_similarity": {str(k): _r(v) for k, v in sorted(ch.clip_similarity.items())},
        "clips": [
            {
                "clip": k,
                "similarity": _r(v),
                "previous_similarity": (
                    _r(ch.previous_similarity[k]) if k in ch.previous_similarity else None
                ),
                "spread": _r(ch.spread.get(k, 0.0)),
                "consistency": _r(ch.consistency[k]) if k in ch.consistency else None,
                "faces": ch.faces.get(k, 0),
                "evidence": _r(ch.evidence.get(k, 0.0)),
                "attributes": _attributes(ch.attributes.get(k)),
                "verdict": cell_verdict(ch, k, emb),
            }
            for k, v in sorted(ch.clip_similarity.items())
        ],
        "coherence_horizon": ch.coherence_horizon,
        "drift_slope": _r(ch.drift_slope),
    }


def printable(text: str) -> str:
    """A file name as valid UTF-8 text: undecodable bytes (surrogate escapes from the
    file system) are shown as \\xNN instead of breaking the report."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def dumps(report: Report) -> str:
    """The report as JSON text: keys sorted, two-space indent, one final newline."""
    return json.dumps(to_dict(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema() -> dict[str, Any]:
    """The JSON Schema that every report validates against (shipped in the package)."""
    text = resources.files("drift_audit.report").joinpath("schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
