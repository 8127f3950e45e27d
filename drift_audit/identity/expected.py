"""Who is expected where: missing_character (a cast member not found where it is
expected) and unexpected_character (a lead the script does not list for a clip).

Pure functions over characters, tracks and clips: no models, no I/O.
"""

from __future__ import annotations

import numpy as np

from drift_audit.identity import evidence as ev
from drift_audit.identity.characters import Metric, label_of, tracks_of
from drift_audit.identity.swaps import Swaps
from drift_audit.script import Script
from drift_audit.types import Character, ClipResult, Finding, Track


def missing_cast(
    characters: list[Character],
    in_clip: dict[int, list[Track]],
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
    script: Script | None,
    swapped: Swaps,
) -> list[Finding]:
    """missing_character: a cast member that no character matches in a clip where it is
    expected (every clip without a script; the clips the script lists it in, with one),
    with the best similarity any of the clip's tracks reached (`value`) and that
    track's best face as evidence. A script's slot a swap already reports is left out.

    Args:
        in_clip: every readable clip -> its tracks (an empty list: no faces there).
    """
    out: list[Finding] = []
    by_name = {ch.name: ch for ch in characters if ch.name}
    for name in sorted(cast):
        ch = by_name.get(name)
        for clip, clip_tracks in in_clip.items():
            if ch is not None and clip in ch.clip_similarity:
                continue
            expected = script.expected(clip, clips[clip].path) if script else None
            if script is not None and (expected is None or name not in expected[0]):
                continue
            if (clip, name) in swapped.slots:
                continue
            where = f" ({script.where(expected[1][0])} expects it)" if script and expected else ""
            value, face = None, None
            if clip_tracks:
                sims = metric.similarity(metric.centroids(clip_tracks), cast[name][None])[:, 0]
                value = float(sims.max())
                face = ev.of_tracks([clip_tracks[int(np.argmax(sims))]], clips[clip])
                v, t = ev.two(value, metric.threshold)
                best = f"best match {v}, threshold {t}"
            else:
                best = "no faces in the clip"
            out.append(
                Finding(
                    "missing_character",
                    "warn",
                    ch.id if ch else None,
                    clip,
                    f"cast member {name} is not found in clip {clip}{where} ({best})",
                    evidence=ev.of_clip(clips[clip], face),
                    value=value,
                    threshold=metric.threshold,
                )
            )
    return out


def unexpected(
    leads: list[Character],
    tracks: list[Track],
    clips: dict[int, ClipResult],
    script: Script,
    swapped: Swaps,
) -> list[Finding]:
    """unexpected_character (warn): a lead in a clip the script lists, who is not on
    that clip's list: a cast member expected elsewhere, or a face that matches no cast
    member (unless a swap already reports it in an expected one's place)."""
    out: list[Finding] = []
    for clip in sorted(clips):
        expected = script.expected(clip, clips[clip].path)
        if expected is None:
            continue
        names, entries = expected
        listed = ", ".join(sorted(names)) or "nobody"
        where = " and ".join(script.where(e) for e in entries)
        for ch in leads:
            if clip not in ch.clip_similarity or ch.name in names:
                continue
            if (clip, ch.id) in swapped.fillers:
                continue
            who = (
                f"{label_of(ch)}, a cast member,"
                if ch.name
                else f"{ch.id}, a lead who is no cast member,"
            )
            out.append(
                Finding(
                    "unexpected_character",
                    "warn",
                    ch.id,
                    clip,
                    f"{who} is in clip {clip}, where {where} expects {listed}",
                    evidence=ev.of_tracks(
                        [t for t in tracks_of(ch, tracks) if t.clip == clip], clips[clip]
                    ),
                )
            )
    return out
