"""Characters -> per-clip similarity to their anchor, and findings.

Pure functions over arrays: no models, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from drift_audit.types import Appearance, Character, ClipResult, Finding, Track

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


def _centroid_of(tracks: list[Track], metric: Metric) -> np.ndarray:
    return metric.centroid(np.concatenate([t.embeddings for t in tracks]))


def build_characters(
    tracks: list[Track],
    labels: np.ndarray,
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
) -> list[Character]:
    """Characters C1.. in order of first appearance, named after matching cast members,
    with their appearances and per-clip similarity to their anchor.

    Args:
        tracks: every track, ordered by (clip, first frame).
        labels: (len(tracks),) cluster label of each track.
        clips: the readable clips by index.
        cast: name -> reference embedding.
    """
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    ordered = sorted(groups.values(), key=lambda ids: (tracks[ids[0]].clip, tracks[ids[0]].first_frame))
    characters = [Character(f"C{k + 1}", None, ids, np.zeros(0, np.float32)) for k, ids in enumerate(ordered)]
    _name_from_cast(characters, tracks, metric, cast)
    for ch in characters:
        first_clip = tracks[ch.track_ids[0]].clip
        if ch.name is not None:
            ch.anchor = cast[ch.name]
        else:
            ch.anchor = _centroid_of([tracks[i] for i in ch.track_ids if tracks[i].clip == first_clip], metric)
        by_shot: dict[tuple[int, int], list[Track]] = {}
        for i in ch.track_ids:
            by_shot.setdefault((tracks[i].clip, tracks[i].shot), []).append(tracks[i])
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
                )
            )
        for clip in sorted({tracks[i].clip for i in ch.track_ids}):
            in_clip = [tracks[i] for i in ch.track_ids if tracks[i].clip == clip]
            ch.clip_similarity[clip] = metric.sim(_centroid_of(in_clip, metric), ch.anchor)
    return characters


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
        label = ch.id if ch.name is None else f"{ch.id} ({ch.name})"
        anchor_clip = None if ch.name else min(ch.clip_similarity)
        for clip, sim in sorted(ch.clip_similarity.items()):
            if clip == anchor_clip:
                continue
            anchor = "cast reference" if ch.name else f"first appearance in clip {anchor_clip}"
            if sim < metric.threshold:
                out.append(Finding(
                    "identity_drift", "fail", ch.id, clip,
                    f"{label} clip {clip}: similarity {sim:.2f} to its {anchor} is below "
                    f"the threshold {metric.threshold:.2f}",
                ))
            elif sim < metric.threshold + metric.uncertain_margin:
                out.append(Finding(
                    "uncertain_identity", "warn", ch.id, clip,
                    f"{label} clip {clip}: similarity {sim:.2f} to its {anchor} is barely above "
                    f"the threshold {metric.threshold:.2f}",
                ))
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
            out.append(Finding(
                "damaged_clip", "warn", None, clip,
                f"clip {clip}: {'; '.join(parts)}; the {c.frames_read} readable frames were audited",
            ))
        for g in c.glitches:
            out.append(Finding(
                "glitch_frame", "warn", None, clip,
                f"clip {clip}: frame {g.frame} ({g.time_s:.2f} s) differs from both neighbours "
                "(a flash or a corrupt frame), not a cut",
                frame=g.frame,
            ))
    return sorted(out, key=lambda f: (f.clip or 0, f.kind, f.character or "", f.frame or 0))


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
            ch for ch in characters
            if first_clip[ch.id] < clip and clip not in ch.clip_similarity
        ]
        new = [ch for ch in characters if first_clip[ch.id] == clip]
        if not absent or not new:
            continue
        sims = np.array([[metric.sim(centroids[a.id], centroids[b.id]) for b in new] for a in absent])
        rows, cols = linear_sum_assignment(-sims)
        for r, c in zip(rows, cols, strict=True):
            gone, came = absent[r], new[c]
            seen = sorted(k for k in gone.clip_similarity if k < clip)
            gone_label = gone.id if gone.name is None else f"{gone.id} ({gone.name})"
            out.append(Finding(
                "identity_swap", "fail", gone.id, clip,
                f"{gone_label} (seen in clip {', '.join(map(str, seen))}) is absent from clip {clip}, "
                f"and a new identity {came.id} appears there in its place "
                f"(similarity {sims[r, c]:.2f}, threshold {metric.threshold:.2f})",
            ))
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
                sims = metric.similarity(np.stack([t.embedding_for(metric.centroid) for t in in_clip]),
                                         cast[name][None])[:, 0]
                best = f"best match {float(sims.max()):.2f}, threshold {metric.threshold:.2f}"
            else:
                best = "no faces in the clip"
            out.append(Finding(
                "missing_character", "warn", ch.id if ch else None, clip,
                f"cast member {name} is not found in clip {clip} ({best})",
            ))
    return out
