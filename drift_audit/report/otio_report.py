"""`--otio PATH`: an OpenTimelineIO timeline of the story for editing systems.

One video track holds the readable clips in story order, each at its own frame rate
and referring to its file; every finding about a clip is a marker on that clip at
its time code (its evidence's span, else its frame, else the clip's start), coloured
by severity: fail RED, warn YELLOW, anything else BLUE. Findings about no clip are
markers on the track at the story's start; an unreadable clip is left out, named in
the timeline's metadata, and its findings are markers on the track where it would
be. opentimelineio's adapters write EDL (cmx_3600) or FCP XML (fcp_xml) from the
file; since OTIO 0.18 they are plugins (otio-cmx3600-adapter, otio-fcp-adapter).

opentimelineio is imported only here, only when `--otio` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from drift_audit.report.html_parts import clip_duration
from drift_audit.report.json import printable
from drift_audit.report.spans import span
from drift_audit.types import ClipResult, Finding, Report

if TYPE_CHECKING:
    import opentimelineio as otio

_DEFAULT_RATE = 25.0
"""The rate of a clip whose container gave none (a still)."""


def missing() -> str | None:
    """None when opentimelineio can be imported, else what to install."""
    try:
        import opentimelineio  # noqa: F401
    except ImportError:
        return "--otio needs opentimelineio: pip install 'drift-audit[otio]'"
    return None


def build_timeline(report: Report) -> otio.schema.Timeline:
    """The story as an otio Timeline (see the module docstring).

    Raises:
        ImportError: opentimelineio is not installed.
    """
    import opentimelineio as otio

    colour = {"fail": otio.schema.MarkerColor.RED, "warn": otio.schema.MarkerColor.YELLOW}
    track = otio.schema.Track(name="story", kind=otio.schema.TrackKind.Video)
    by_clip: dict[int | None, list[Finding]] = {}
    for f in report.findings:
        by_clip.setdefault(f.clip, []).append(f)
    # Where the next clip starts on the track: findings about a clip left out (an
    # unreadable one) and about no clip are markers on the track there.
    offset = otio.opentime.RationalTime(0, _DEFAULT_RATE)
    for clip in report.clips:
        if clip.status != "ok":
            for f in by_clip.get(clip.index, []):
                track.markers.append(_marker(report, f, _DEFAULT_RATE, 1, colour, offset))
            continue
        rate = clip.info.fps if clip.info and clip.info.fps > 0 else _DEFAULT_RATE
        frames = max(1, clip.last_frame + 1, round(clip_duration(clip) * rate))
        length = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate)
        )
        ref = otio.schema.ExternalReference(
            target_url=Path(clip.path).resolve().as_uri(), available_range=length
        )
        item = otio.schema.Clip(
            name=printable(Path(clip.path).name), media_reference=ref, source_range=length
        )
        item.metadata["drift_audit"] = _clip_metadata(clip)
        for f in by_clip.get(clip.index, []):
            item.markers.append(_marker(report, f, rate, frames, colour))
        track.append(item)
        offset = offset + length.duration
    for f in by_clip.get(None, []):
        start = otio.opentime.RationalTime(0, _DEFAULT_RATE)
        track.markers.append(_marker(report, f, _DEFAULT_RATE, 1, colour, start))
    timeline = otio.schema.Timeline(name="drift-audit story")
    timeline.tracks.append(track)
    timeline.metadata["drift_audit"] = {
        "verdict": "fail" if report.failed else ("incomplete" if report.unreadable else "pass"),
        "fail_on": report.fail_on,
        "unreadable_clips": [
            {"clip": c.index, "path": printable(c.path)} for c in report.unreadable
        ],
    }
    return timeline


def _clip_metadata(clip: ClipResult) -> dict[str, Any]:
    meta: dict[str, Any] = {"clip": clip.index, "path": printable(clip.path)}
    if clip.provenance is not None:
        meta["provenance"] = clip.provenance.state
        if clip.provenance.generators:
            meta["generators"] = list(clip.provenance.generators)
    return meta


def _marker(
    report: Report,
    f: Finding,
    rate: float,
    frames: int,
    colour: dict[str, str],
    at: otio.opentime.RationalTime | None = None,
) -> otio.schema.Marker:
    """A finding's marker: in its clip's time (frames long), or on the track at `at`."""
    import opentimelineio as otio

    where = span(report, f)
    if at is None:
        start = min(round(where.start_s * rate), frames - 1)
        length = max(1, min(round(where.end_s * rate), frames) - start)
    else:
        start, length = round(at.value_rescaled_to(rate)), 1
    name = f"{f.severity} {f.kind}" + (f" {f.character}" if f.character else "")
    marker = otio.schema.Marker(
        name=name,
        marked_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(length, rate)
        ),
        color=colour.get(f.severity, otio.schema.MarkerColor.BLUE),
        comment=printable(" ".join(f.message.split())),
    )
    marker.metadata["drift_audit"] = {
        "kind": f.kind,
        "severity": f.severity,
        "character": f.character,
        "clip": f.clip,
        "frame": where.frame,
    }
    return marker


def render_otio(report: Report) -> str:
    """The timeline as .otio JSON text (deterministic: same report, same bytes)."""
    text: str = build_timeline(report).to_json_string()
    return text if text.endswith("\n") else text + "\n"
