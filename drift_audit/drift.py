"""Characters -> per-clip similarity to their anchor, and findings.

Pure functions over arrays: no models, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from drift_audit.attributes import aggregate as attribute_aggregate
from drift_audit.attributes import compare as attribute_compare
from drift_audit.types import Appearance, Character, ClipResult, Finding, Track

WEAK_EVIDENCE = 0.3
"""A clip whose best face of a character scores below this quality is thin evidence."""

Similarity = Callable[[np.ndarray, np.ndarray], np.ndarray]
Centroid = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Metric:
    """How an embedder compares faces, and where it draws the line."""

    similarity: Similarity
    centroid: Centroid
    threshold: float
    uncertain_margin: float

    def sim(self, a: np.ndarray, b: np.ndarray) -> float:
        return float(self.similarity(a[None], b[None])[0, 0])


def _label(ch: Character) -> str:
    """How findings name a character: "C2", or "C2 (officer)" when cast."""
    return ch.id if ch.name is None else f"{ch.id} ({ch.name})"


def clip_verdict(similarity: float, evidence: float, threshold: float, margin: float) -> str:
    """ "same", "uncertain" or "different".

    Below the threshold is "different" only with good evidence: on thin evidence
    (small, profile, blurred faces embed poorly) it is "uncertain". Within the
    margin above the threshold is "uncertain" too.
    """
    if similarity < threshold:
        return "uncertain" if evidence < WEAK_EVIDENCE else "different"
    if similarity < threshold + margin:
        return "uncertain"
    return "same"


def _centroid_of(tracks: list[Track], metric: Metric) -> np.ndarray:
    return metric.centroid(np.concatenate([t.embeddings for t in tracks]))


def build_characters(
    tracks: list[Track],
    labels: np.ndarray,
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
    cast_images: dict[str, np.ndarray] | None = None,
) -> list[Character]:
    """Characters C1.. in order of first appearance, named after matching cast members,
    with their appearances and per-clip similarity to their anchor.

    Args:
        tracks: every track, ordered by (clip, first frame).
        labels: (len(tracks),) cluster label of each track.
        clips: the readable clips by index.
        cast: name -> reference embedding.
        cast_images: name -> reference face crop, for the visual reports.
    """
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    ordered = sorted(
        groups.values(), key=lambda ids: (tracks[ids[0]].clip, tracks[ids[0]].first_frame)
    )
    characters = [
        Character(f"C{k + 1}", None, ids, np.zeros(0, np.float32)) for k, ids in enumerate(ordered)
    ]
    _name_from_cast(characters, tracks, metric, cast)
    for ch in characters:
        _measure(ch, tracks, clips, metric, cast, cast_images or {})
    return characters


def _measure(
    ch: Character,
    tracks: list[Track],
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
    cast_images: dict[str, np.ndarray],
) -> None:
    mine = [tracks[i] for i in ch.track_ids]
    by_clip: dict[int, list[Track]] = {}
    for t in mine:
        by_clip.setdefault(t.clip, []).append(t)
    first_clip = min(by_clip)
    if ch.name is not None:
        ch.anchor = cast[ch.name]
        ch.anchor_image = cast_images.get(ch.name)
    else:
        ch.anchor = _centroid_of(by_clip[first_clip], metric)
    by_shot: dict[tuple[int, int], list[Track]] = {}
    for t in mine:
        by_shot.setdefault((t.clip, t.shot), []).append(t)
    for (clip, shot), shot_tracks in sorted(by_shot.items()):
        result = clips[clip]
        ch.appearances.append(
            Appearance(
                clip=clip,
                shot=shot,
                start_s=result.time_of(min(t.first_frame for t in shot_tracks)),
                end_s=result.time_of(max(t.last_frame for t in shot_tracks)),
                faces=sum(len(t.faces) for t in shot_tracks),
                similarity=metric.sim(_centroid_of(shot_tracks, metric), ch.anchor),
                attributes=_attributes_of(shot_tracks),
            )
        )
    previous: np.ndarray | None = None
    for clip in sorted(by_clip):
        in_clip = by_clip[clip]
        centre = _centroid_of(in_clip, metric)
        ch.clip_similarity[clip] = metric.sim(centre, ch.anchor)
        if previous is not None:
            ch.previous_similarity[clip] = metric.sim(centre, previous)
        previous = centre
        per_face = metric.similarity(
            np.concatenate([t.embeddings for t in in_clip]), ch.anchor[None]
        )
        ch.spread[clip] = float(per_face.max() - per_face.min())
        ch.faces[clip] = sum(len(t.faces) for t in in_clip)
        best = max(in_clip, key=lambda t: float(t.crop_quality[0]))
        ch.evidence[clip] = float(best.crop_quality[0])
        ch.thumbnails[clip] = best.crops.images[0]
        looks = _attributes_of(in_clip)
        if looks is not None:
            ch.attributes[clip] = looks
    if ch.anchor_image is None:
        ch.anchor_image = ch.thumbnails[first_clip]
    below = [c for c, sim in sorted(ch.clip_similarity.items()) if sim < metric.threshold]
    ch.coherence_horizon = below[0] if below else None
    ch.drift_slope = _slope(ch.clip_similarity)


def _attributes_of(tracks: list[Track]) -> np.ndarray | None:
    """(4, 4) attribute measures of several tracks, weighted by faces x quality."""
    looks = [t for t in tracks if t.attributes is not None]
    if not looks:
        return None
    weights = np.array([len(t.faces) * max(float(t.crop_quality[0]), 1e-3) for t in looks])
    return attribute_aggregate(np.stack([t.attributes for t in looks]), weights)  # type: ignore[misc]


def _slope(values: dict[int, float]) -> float:
    """Least-squares change of similarity per clip; 0 with fewer than two clips."""
    if len(values) < 2:
        return 0.0
    x = np.array(sorted(values), np.float64)
    y = np.array([values[k] for k in sorted(values)], np.float64)
    return float(np.polyfit(x, y, 1)[0])


def link_generations(tracks: list[Track], labels: np.ndarray, metric: Metric) -> np.ndarray:
    """Join a character that ends in clip k-1 to one that starts in clip k when the two
    look alike across that one step (similarity >= threshold).

    Clustering compares every face with every other, so a face that changes a little
    in each generation splits into several characters once the ends no longer match.
    Linking adjacent generations puts the chain back together; the cumulative fall is
    then measured against the anchor (identity_drift, coherence_horizon). A swap
    (a different person in one step) does not link and stays an identity_swap.

    Returns:
        (len(tracks),) int64 labels, renumbered by first track.
    """
    labels = labels.copy()
    changed = True
    while changed:
        changed = False
        groups: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(int(label), []).append(i)
        span = {
            g: (min(tracks[i].clip for i in ids), max(tracks[i].clip for i in ids))
            for g, ids in groups.items()
        }
        candidates = []
        for a, (_, a_last) in span.items():
            for b, (b_first, _) in span.items():
                if a == b or b_first != a_last + 1:
                    continue
                end = [tracks[i] for i in groups[a] if tracks[i].clip == a_last]
                start = [tracks[i] for i in groups[b] if tracks[i].clip == b_first]
                sim = metric.sim(_centroid_of(end, metric), _centroid_of(start, metric))
                if sim >= metric.threshold:
                    candidates.append((-sim, a, b))
        used: set[int] = set()
        for _, a, b in sorted(candidates):
            if a in used or b in used:
                continue
            # b's rivals in clip b_first may also want a; best similarity wins, one link each.
            labels[labels == b] = a
            used.update((a, b))
            changed = True
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(x), len(order)) for x in labels], np.int64)


def _name_from_cast(
    characters: list[Character], tracks: list[Track], metric: Metric, cast: dict[str, np.ndarray]
) -> None:
    """Give each cast member the best-matching character at or above threshold (one each)."""
    if not cast or not characters:
        return
    names = sorted(cast)
    refs = np.stack([cast[n] for n in names])
    cents = np.stack([_centroid_of([tracks[i] for i in ch.track_ids], metric) for ch in characters])
    sims = metric.similarity(cents, refs)  # (n_characters, n_cast)
    rows, cols = linear_sum_assignment(-sims)
    for r, c in zip(rows, cols, strict=True):
        if sims[r, c] >= metric.threshold:
            characters[r].name = names[c]


def findings(
    characters: list[Character],
    tracks: list[Track],
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
) -> list[Finding]:
    """identity_drift, uncertain_identity, identity_swap, missing_character and glitch findings."""
    out: list[Finding] = []
    for ch in characters:
        label = _label(ch)
        anchor_clip = None if ch.name else min(ch.clip_similarity)
        anchor = "cast reference" if ch.name else f"first appearance in clip {anchor_clip}"
        for clip, sim in sorted(ch.clip_similarity.items()):
            if clip == anchor_clip:
                continue
            verdict = clip_verdict(
                sim, ch.evidence.get(clip, 1.0), metric.threshold, metric.uncertain_margin
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
                        "fail",
                        ch.id,
                        clip,
                        f"{label} clip {clip}: similarity {sim:.2f} to its {anchor} is below "
                        f"the threshold {metric.threshold:.2f}",
                    )
                )
            elif verdict == "uncertain":
                where = "below" if sim < metric.threshold else "barely above"
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
    out.extend(_attribute_drift(characters))
    out.extend(_swaps(characters, tracks, clips, metric))
    out.extend(_missing_cast(characters, tracks, clips, metric, cast))
    for clip in sorted(clips):
        c = clips[clip]
        missing_end = max(0, c.frames_expected - (c.last_frame + 1))
        if c.corrupt_frames or missing_end > max(2, 0.02 * c.frames_expected):
            parts = []
            if c.corrupt_frames:
                parts.append(f"{c.corrupt_frames} frame(s) lost to corrupt data inside the stream")
            if missing_end:
                parts.append(f"{missing_end} frame(s) promised by the header missing at the end")
            out.append(
                Finding(
                    "damaged_clip",
                    "warn",
                    None,
                    clip,
                    f"clip {clip}: {'; '.join(parts)}; "
                    f"the {c.frames_read} readable frames were audited",
                )
            )
        for g in c.glitches:
            out.append(
                Finding(
                    "glitch_frame",
                    "warn",
                    None,
                    clip,
                    f"clip {clip}: frame {g.frame} ({g.time_s:.2f} s) differs from both neighbours "
                    "(a flash or a corrupt frame), not a cut",
                    frame=g.frame,
                )
            )
    return sorted(out, key=lambda f: (f.clip or 0, f.kind, f.character or "", f.frame or 0))


def _attribute_drift(characters: list[Character]) -> list[Finding]:
    """Hair, clothing, skin or facial hair that changed since the character's first
    appearance (ΔE2000 thresholds in attributes.THRESHOLDS). Warn: lighting moves
    colours too, and only the eye can tell a costume change from a re-light."""
    out = []
    for ch in characters:
        if not ch.attributes:
            continue
        label = _label(ch)
        first = min(ch.attributes)
        for clip in sorted(ch.attributes):
            if clip == first:
                continue
            changes = attribute_compare(ch.attributes[first], ch.attributes[clip])
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
    centroids = {
        ch.id: _centroid_of([tracks[i] for i in ch.track_ids], metric) for ch in characters
    }
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
            gone, came = absent[r], new[c]
            seen = sorted(k for k in gone.clip_similarity if k < clip)
            gone_label = _label(gone)
            out.append(
                Finding(
                    "identity_swap",
                    "fail",
                    gone.id,
                    clip,
                    f"{gone_label} (seen in clip {', '.join(map(str, seen))}) "
                    f"is absent from clip {clip}, "
                    f"and a new identity {came.id} appears there in its place "
                    f"(similarity {sims[r, c]:.2f}, threshold {metric.threshold:.2f})",
                )
            )
    return out


def _missing_cast(
    characters: list[Character],
    tracks: list[Track],
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
) -> list[Finding]:
    out: list[Finding] = []
    by_name = {ch.name: ch for ch in characters if ch.name}
    for name in sorted(cast):
        ch = by_name.get(name)
        for clip in sorted(clips):
            if ch is not None and clip in ch.clip_similarity:
                continue
            in_clip = [t for t in tracks if t.clip == clip]
            if in_clip:
                sims = metric.similarity(
                    np.stack([t.embedding_for(metric.centroid) for t in in_clip]), cast[name][None]
                )[:, 0]
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
