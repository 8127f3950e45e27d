"""Findings: what in the characters' measures fails or warns, and why."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from drift_audit.faces.attributes import changes_since_first
from drift_audit.faces.attributes import compare as attribute_compare
from drift_audit.identity.characters import (
    WEAK_EVIDENCE,
    Metric,
    clip_verdict,
    label_of,
    tracks_of,
)
from drift_audit.types import Character, ClipResult, Finding, Track


def findings(
    characters: list[Character],
    tracks: list[Track],
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
    extras_fail: bool = False,
) -> list[Finding]:
    """Everything the audit reports as failing or worth a look.

    Args:
        characters: from build_characters, measured.
        tracks: every track, ordered by (clip, first frame).
        clips: the readable clips by index.
        metric: the embedder's similarity, centroid and threshold.
        cast: name -> reference embedding.
        extras_fail: extras (`Character.role`) fail like leads; by default their
            identity findings only warn, and they take no part in swaps: a background
            face in one clip and another in the next is not a swap.

    Returns:
        identity_drift, uncertain_identity, attribute_drift, identity_swap,
        missing_character, damaged_clip and glitch_frame findings, sorted by
        (clip, kind, character, frame).
    """
    out: list[Finding] = []
    for ch in characters:
        out.extend(_identity(ch, metric, extras_fail))
    out.extend(_attribute_drift(characters))
    leads = [ch for ch in characters if extras_fail or ch.role == "lead"]
    out.extend(_swaps(leads, tracks, clips, metric))
    in_clip = {clip: [t for t in tracks if t.clip == clip] for clip in sorted(clips)}
    out.extend(_missing_cast(characters, in_clip, metric, cast))
    for clip in sorted(clips):
        out.extend(_damage(clips[clip]))
    return sorted(out, key=lambda f: (f.clip or 0, f.kind, f.character or "", f.frame or 0))


def _identity(ch: Character, metric: Metric, extras_fail: bool = False) -> list[Finding]:
    """identity_drift (fail; warn for an extra) and uncertain_identity (warn) for each
    clip but the anchor's."""
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
    for clip, sim in sorted(ch.clip_similarity.items()):
        if clip == anchor_clip:
            continue
        verdict = clip_verdict(
            sim,
            ch.evidence.get(clip, 1.0),
            metric.threshold,
            metric.uncertain_margin,
            metric.measured_threshold,
        )
        thin = ch.evidence.get(clip, 1.0) < WEAK_EVIDENCE
        why = (
            f"; evidence is thin (best face quality {ch.evidence[clip]:.2f}: small, "
            "profile, blurred or occluded faces)"
            if thin
            else ""
        )
        if verdict == "different":
            out.append(
                Finding(
                    "identity_drift",
                    "warn" if extra else "fail",
                    ch.id,
                    clip,
                    f"{label} clip {clip}: similarity {sim:.2f} to its {anchor} is below "
                    f"{metric.different_below:.2f} (the threshold {metric.threshold:.2f} less "
                    f"the margin {metric.uncertain_margin:.2f})"
                    + ("; an extra (small or blurred throughout): warn, not fail" if extra else ""),
                )
            )
        elif verdict == "uncertain":
            where = "just below" if sim < metric.threshold else "barely above"
            out.append(
                Finding(
                    "uncertain_identity",
                    "warn",
                    ch.id,
                    clip,
                    f"{label} clip {clip}: similarity {sim:.2f} to its {anchor} is {where} "
                    f"the threshold {metric.threshold:.2f}{why}",
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


def _swaps(
    characters: list[Character], tracks: list[Track], clips: dict[int, ClipResult], metric: Metric
) -> list[Finding]:
    """A character seen before is absent from a clip, and a new identity appears there."""
    out: list[Finding] = []
    first_clip = {ch.id: min(ch.clip_similarity) for ch in characters}
    centroids = {ch.id: metric.centroid_of(tracks_of(ch, tracks)) for ch in characters}
    for clip in sorted(clips):
        absent = [
            ch for ch in characters if first_clip[ch.id] < clip and clip not in ch.clip_similarity
        ]
        new = [ch for ch in characters if first_clip[ch.id] == clip]
        if not absent or not new:
            continue
        sims = np.array(
            [[metric.sim(centroids[a.id], centroids[b.id]) for b in new] for a in absent]
        )
        rows, cols = linear_sum_assignment(-sims)
        for r, c in zip(rows, cols, strict=True):
            gone, came, sim = absent[r], new[c], float(sims[r, c])
            seen = sorted(k for k in gone.clip_similarity if k < clip)
            where = (
                f"{label_of(gone)} (seen in clip {', '.join(map(str, seen))}) "
                f"is absent from clip {clip}, and a new identity {came.id} appears there"
            )
            if sim < metric.different_below and _costume_changed(gone, came, clip):
                continue  # another person in another role: a change of cast
            if sim < metric.different_below:
                out.append(
                    Finding(
                        "identity_swap",
                        "fail",
                        gone.id,
                        clip,
                        f"{where} in its place (similarity {sim:.2f}, below "
                        f"{metric.different_below:.2f}: the threshold "
                        f"{metric.threshold:.2f} less the margin)",
                    )
                )
            else:  # it looks about as much like the one gone as a restyled face would
                out.append(
                    Finding(
                        "uncertain_identity",
                        "warn",
                        gone.id,
                        clip,
                        f"{where} that may be the same person (similarity {sim:.2f}, "
                        f"threshold {metric.threshold:.2f}): a swap, or one face the "
                        "embedder reads apart",
                    )
                )
    return out


def _costume_changed(gone: Character, came: Character, clip: int) -> bool:
    """Whether the newcomer wears other clothes than the one gone did last: then it
    entered in a role of its own (a change of cast), not in the one gone's place.
    Unmeasured clothes on either side say nothing: the swap stands."""
    before = [k for k in gone.attributes if k < clip]
    if not before or clip not in came.attributes:
        return False
    changes = attribute_compare(gone.attributes[max(before)], came.attributes[clip])
    return any(c.attribute == "upper_clothing" for c in changes)


def _missing_cast(
    characters: list[Character],
    in_clip: dict[int, list[Track]],
    metric: Metric,
    cast: dict[str, np.ndarray],
) -> list[Finding]:
    """missing_character: a cast member that no character matches in a clip, with the
    best similarity any of the clip's tracks reached.

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
            if clip_tracks:
                sims = metric.similarity(metric.centroids(clip_tracks), cast[name][None])[:, 0]
                best = f"best match {float(sims.max()):.2f}, threshold {metric.threshold:.2f}"
            else:
                best = "no faces in the clip"
            out.append(
                Finding(
                    "missing_character",
                    "warn",
                    ch.id if ch else None,
                    clip,
                    f"cast member {name} is not found in clip {clip} ({best})",
                )
            )
    return out
