"""Findings: what in the characters' measures fails, warns or informs, and why.

Every finding carries its evidence (clip file, shot, span, best face) and the number
its decision used (`value`, against `threshold`), and its message prints both.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from drift_audit.faces.attributes import changes_since_first
from drift_audit.identity import evidence as ev
from drift_audit.identity.characters import (
    Metric,
    label_of,
    tracks_of,
)
from drift_audit.identity.expected import missing_cast, unexpected
from drift_audit.identity.swaps import swaps
from drift_audit.script import Script
from drift_audit.types import Character, ClipResult, Finding, Track


def findings(
    characters: list[Character],
    tracks: list[Track],
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
    extras_fail: bool = False,
    script: Script | None = None,
) -> list[Finding]:
    """Everything the audit reports as failing, worth a look, or worth knowing.

    Args:
        characters: from build_characters, measured.
        tracks: every track, ordered by (clip, first frame).
        clips: the readable clips by index.
        metric: the embedder's similarity, centroid and threshold.
        cast: name -> reference embedding.
        extras_fail: extras (`Character.role`) fail like leads; by default their
            identity findings only warn, and they take no part in swaps: a background
            face in one clip and another in the next is not a swap.
        script: which cast members each clip should show (`--script`); None: every
            cast member is expected in every clip.

    Returns:
        identity_drift, uncertain_identity, attribute_drift, identity_swap,
        cast_change, missing_character, unexpected_character, damaged_clip and
        glitch_frame findings, each with its evidence, sorted by (clip, kind,
        character, frame).
    """
    out: list[Finding] = []
    for ch in characters:
        out.extend(_identity(ch, metric, extras_fail))
    out.extend(_attribute_drift(characters))
    leads = [ch for ch in characters if extras_fail or ch.role == "lead"]
    swapped = swaps(leads, tracks, clips, metric, cast, script)
    out.extend(swapped.findings)
    in_clip = {clip: [t for t in tracks if t.clip == clip] for clip in sorted(clips)}
    out.extend(missing_cast(characters, in_clip, clips, metric, cast, script, swapped))
    if script is not None:
        out.extend(unexpected(leads, tracks, clips, script, swapped))
    out = [_with_evidence(f, characters, tracks, clips) for f in out]
    for clip in sorted(clips):
        out.extend(_damage(clips[clip]))
    return sorted(out, key=lambda f: (f.clip or 0, f.kind, f.character or "", f.frame or 0))


def _with_evidence(
    f: Finding, characters: list[Character], tracks: list[Track], clips: dict[int, ClipResult]
) -> Finding:
    """The finding, with its character's best face in its clip as evidence when it
    has none yet (identity and attribute findings)."""
    if f.evidence is not None or f.clip not in clips:
        return f
    ch = next((c for c in characters if c.id == f.character), None)
    mine = [t for t in tracks_of(ch, tracks) if t.clip == f.clip] if ch else []
    found = ev.of_tracks(mine, clips[f.clip]) if mine else ev.of_clip(clips[f.clip])
    return replace(f, evidence=found)


def _identity(ch: Character, metric: Metric, extras_fail: bool = False) -> list[Finding]:
    """identity_drift (fail; warn for an extra) and uncertain_identity (warn) for each
    clip but the anchor's. `value` is the clip's similarity to the anchor."""
    out: list[Finding] = []
    label = label_of(ch)
    anchor_clip = ch.anchor_clip
    if anchor_clip is None:
        anchor = "cast reference"
    elif anchor_clip == min(ch.clip_similarity):
        anchor = f"first appearance in clip {anchor_clip}"
    else:
        anchor = f"anchor in clip {anchor_clip} (its first clip with good faces)"
    extra = ch.role == "extra" and not extras_fail
    bar, same = metric.different_below, metric.threshold + metric.uncertain_margin
    for clip, sim in sorted(ch.clip_similarity.items()):
        if clip == anchor_clip:
            continue
        quality = ch.evidence.get(clip, 1.0)
        verdict = metric.verdict(sim, quality)
        if verdict == "different":
            v, t = ev.two(sim, bar)
            message = (
                f"{label} clip {clip}: similarity {v} to its {anchor} is below {t} (the "
                f"threshold {metric.threshold:.2f} less the margin {metric.lower_margin:.2f})"
                + ("; an extra (small or blurred throughout): warn, not fail" if extra else "")
            )
            severity = "warn" if extra else "fail"
            out.append(
                Finding("identity_drift", severity, ch.id, clip, message, value=sim, threshold=bar)
            )
        elif verdict == "uncertain":
            if sim < bar:  # below the bar, but on thin evidence
                v, t = ev.two(sim, bar)
                why = (
                    f"is below {t}, but the evidence is thin (best face quality {quality:.2f}: "
                    "small, profile, blurred or occluded faces)"
                )
                threshold = bar
            else:
                v, t = ev.two(sim, metric.threshold)
                where = "just below" if sim < metric.threshold else "barely above"
                why = (
                    f"is {where} the threshold {t} (same needs {same:.2f}, different "
                    f"is below {bar:.2f})"
                )
                threshold = metric.threshold
            out.append(
                Finding(
                    "uncertain_identity",
                    "warn",
                    ch.id,
                    clip,
                    f"{label} clip {clip}: similarity {v} to its {anchor} {why}",
                    value=sim,
                    threshold=threshold,
                )
            )
    return out


def _damage(c: ClipResult) -> list[Finding]:
    """damaged_clip (frames lost inside the stream or missing at its end, or damaged
    data the decoder reported, concealed or not) and glitch_frame (a frame unlike both
    neighbours) warnings of one clip."""
    out: list[Finding] = []
    missing_end = max(0, c.frames_expected - (c.last_frame + 1))
    if c.corrupt_frames or c.decode_errors or missing_end > max(2, 0.02 * c.frames_expected):
        parts = []
        if c.corrupt_frames:
            parts.append(f"{c.corrupt_frames} frame(s) lost to corrupt data inside the stream")
        if c.decode_errors:
            parts.append(
                f"the decoder reported {c.decode_errors} error(s) in the data "
                "(frames near them may show the damage)"
            )
        if missing_end:
            parts.append(f"{missing_end} frame(s) promised by the header missing at the end")
        out.append(
            Finding(
                "damaged_clip",
                "warn",
                None,
                c.index,
                f"clip {c.index}: {'; '.join(parts)}; "
                f"the {c.frames_read} readable frames were audited",
                evidence=ev.of_clip(c),
            )
        )
    for g in c.glitches:
        out.append(
            Finding(
                "glitch_frame",
                "warn",
                None,
                c.index,
                f"clip {c.index}: frame {g.frame} ({g.time_s:.2f} s) differs from both "
                "neighbours (a flash or a corrupt frame), not a cut",
                frame=g.frame,
                evidence=ev.of_frame(c, g.frame),
            )
        )
    return out


def _attribute_drift(characters: list[Character]) -> list[Finding]:
    """Hair, clothing, skin or facial hair that changed since the character's first
    appearance (attributes.compare). Warn: lighting moves colours too, and only the eye
    can tell a costume change from a re-light."""
    out = []
    for ch in characters:
        if not ch.attributes:
            continue
        label, first = label_of(ch), min(ch.attributes)
        for clip in sorted(ch.attributes):
            changes = changes_since_first(ch.attributes, clip)
            if changes:
                parts = ", ".join(c.message_fragment for c in changes)
                out.append(
                    Finding(
                        "attribute_drift",
                        "warn",
                        ch.id,
                        clip,
                        f"{label} clip {clip}: {parts} since clip {first}",
                    )
                )
    return out
