"""`--tracks DIR`: every tracked face box of every sampled frame, in MOTChallenge text.

One file per readable clip, `<clip index>-<stem>.txt`, one line per face:

    frame,track id,left,top,width,height,confidence,-1,-1,-1

frame counts from 1 (the clip's frame index + 1); the track id is the track's id in
the JSON report (`appearances[].track_ids`: the story's flat track list, 1-based);
left, top, width and height are the face box in frame pixels; confidence is the
detector's. Lines are in frame order, then track id. py-motmetrics
(`motmetrics.io.loadtxt(..., fmt="mot15-2D")`) and TrackEval read this layout.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from drift_audit.report.json import printable
from drift_audit.types import ClipResult, Report, Track


def story_tracks(clips: list[ClipResult]) -> list[Track]:
    """Every track of the readable clips in one flat list, ordered by (clip, first
    frame, left edge): the list `Character.track_ids` index (pipeline._identify sorts
    the same way), whose index + 1 is a track's id in the reports."""
    return sorted(
        (t for c in clips if c.status == "ok" for t in c.tracks),
        key=lambda t: (t.clip, t.first_frame, float(t.faces.xyxy[0, 0])),
    )


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def file_name(clip: ClipResult) -> str:
    """`<clip index>-<stem>.txt`; the stem keeps its characters except separators and
    control characters (replaced by `_`)."""
    stem = _UNSAFE.sub("_", printable(PurePath(clip.path).stem)) or "clip"
    return f"{clip.index}-{stem}.txt"


def mot_files(report: Report) -> dict[str, str]:
    """File name -> MOTChallenge text, for every readable clip (empty text: no faces)."""
    tracks = story_tracks(report.clips)
    rows: dict[int, list[tuple[int, int, str]]] = {
        c.index: [] for c in report.clips if c.status == "ok"
    }
    for k, t in enumerate(tracks, start=1):
        for frame, box, score in zip(t.faces.frame, t.faces.xyxy, t.faces.score, strict=True):
            x0, y0, x1, y1 = (float(v) for v in box)
            line = (
                f"{int(frame) + 1},{k},{x0:.2f},{y0:.2f},{x1 - x0:.2f},{y1 - y0:.2f},"
                f"{float(score):.4f},-1,-1,-1"
            )
            rows[t.clip].append((int(frame), k, line))
    out = {}
    for clip in report.clips:
        if clip.status == "ok":
            lines = [line for _, _, line in sorted(rows[clip.index])]
            out[file_name(clip)] = "".join(line + "\n" for line in lines)
    return out
