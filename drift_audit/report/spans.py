"""Where in its clip a finding is, for the outputs that place findings in time (CSV,
OpenTimelineIO markers, GitHub annotations, JUnit): its evidence when it has some,
else its frame, else the start of its clip."""

from __future__ import annotations

import math
from dataclasses import dataclass

from drift_audit.types import ClipResult, Finding, Report


@dataclass(frozen=True)
class Span:
    """A finding's place: seconds from its clip's start, and the clip's frame rate."""

    clip: ClipResult | None
    start_s: float
    end_s: float  # at least start_s
    frame: int | None  # the frame to look at (best evidence face, or the finding's frame)
    shot: int | None
    fps: float  # the clip's nominal rate; 0 when unknown

    @property
    def start_frame(self) -> int:
        return round(self.start_s * self.fps) if self.fps else 0


def clip_of(report: Report, index: int | None) -> ClipResult | None:
    return next((c for c in report.clips if c.index == index), None)


def span(report: Report, finding: Finding) -> Span:
    """The finding's span in its clip (see the module docstring)."""
    clip = clip_of(report, finding.clip)
    fps = clip.info.fps if clip is not None and clip.info is not None else 0.0
    ev = finding.evidence
    if ev is not None:
        start, end = max(0.0, ev.start_s), max(ev.start_s, ev.end_s)
        frame = ev.frame if ev.frame is not None else finding.frame
        return Span(clip, start, end, frame, ev.shot, fps)
    if finding.frame is not None and clip is not None:
        t = max(0.0, clip.time_of(finding.frame))
        return Span(clip, t, t, finding.frame, None, fps)
    return Span(clip, 0.0, 0.0, finding.frame, None, fps)


def timecode(seconds: float, fps: float) -> str:
    """SMPTE-style HH:MM:SS:FF at the clip's rate rounded to whole frames (non-drop);
    HH:MM:SS.mmm when the rate is unknown."""
    seconds = max(0.0, seconds)
    if fps <= 0:
        whole = int(seconds)
        ms = round((seconds - whole) * 1000)
        if ms == 1000:
            whole, ms = whole + 1, 0
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{ms:03d}"
    rate = max(1, round(fps))
    frames = math.floor(seconds * fps + 1e-6)
    ff, whole = frames % rate, frames // rate
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{ff:02d}"
