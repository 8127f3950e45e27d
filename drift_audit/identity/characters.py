"""Characters -> per-clip similarity to their anchor, and findings.

Pure functions over arrays: no models, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy.optimize import linear_sum_assignment

from drift_audit.faces.attributes import aggregate as attribute_aggregate
from drift_audit.types import Appearance, Character, ClipResult, Track

WEAK_EVIDENCE = 0.3
"""A clip whose best face of a character scores below this quality is thin evidence."""

EXTRA_SIDE = 40.0
"""A character whose largest face anywhere is smaller than this (pixels) is an extra:
dlib and facenet embed a ~150 px chip, and below 40 px it is mostly upscaling. Size
alone says no more: a 60 px face is a lead in a 640 x 360 clip."""

FULL_SIDE = 112.0
"""The face side at which face quality stops growing with size (`face_quality`)."""


Similarity = Callable[[np.ndarray, np.ndarray], np.ndarray]


Centroid = Callable[[np.ndarray], np.ndarray]


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Metric:
    """How an embedder compares faces, and where it draws the line."""

    similarity: Similarity
    centroid: Centroid
    threshold: float  # in force: merges and "same" verdicts are judged against it
    uncertain_margin: float
    measured_threshold: float | None = None  # before calibration raised it; None: the same
    different_margin: float | None = None  # None: uncertain_margin (Embedder.different_margin)

    @property
    def lower_margin(self) -> float:
        """How far below the threshold a "different" verdict starts."""
        return self.uncertain_margin if self.different_margin is None else self.different_margin

    @property
    def different_below(self) -> float:
        """Below this a similarity on good evidence says "different people": the margin
        under the lower of the measured and the in-force threshold. Calibration raises
        the bar for calling two faces the same, never the bar for calling them apart."""
        return different_below(self.threshold, self.lower_margin, self.measured_threshold)

    def verdict(self, similarity: float, evidence: float) -> str:
        """`clip_verdict` with this metric's thresholds and margins."""
        return clip_verdict(
            similarity,
            evidence,
            self.threshold,
            self.uncertain_margin,
            self.measured_threshold,
            self.different_margin,
        )

    def sim(self, a: np.ndarray, b: np.ndarray) -> float:
        """The similarity of two (d,) vectors."""
        return float(self.similarity(a[None], b[None])[0, 0])

    def centroid_of(self, tracks: list[Track]) -> np.ndarray:
        """(d,) float32: the vector that stands for every face of `tracks` together.

        The one way a group of faces becomes one vector (a track, a shot, a clip, a
        character): the embedder's centroid over all their embeddings at once, so a
        long track weighs more than a short one.
        """
        return self.centroid(np.concatenate([t.embeddings for t in tracks]))

    def centroids(self, tracks: list[Track]) -> np.ndarray:
        """(len(tracks), d) float32: each track's own centroid_of, one row per track."""
        return np.stack([self.centroid_of([t]) for t in tracks])


def label_of(ch: Character) -> str:
    """How findings name a character: "C2", or "C2 (officer)" when cast."""
    return ch.id if ch.name is None else f"{ch.id} ({ch.name})"


def different_below(threshold: float, margin: float, measured: float | None = None) -> float:
    """See Metric.different_below."""
    return min(threshold, threshold if measured is None else measured) - margin


def clip_verdict(
    similarity: float,
    evidence: float,
    threshold: float,
    margin: float,
    measured: float | None = None,
    lower_margin: float | None = None,
) -> str:
    """ "same", "uncertain" or "different".

    The margin is the embedder's measured uncertainty, on both sides of the
    threshold: "same" needs the threshold plus the margin, "different" a similarity
    below the threshold less the margin (`different_below`), and on good evidence
    only: on thin evidence (small, profile, blurred faces embed poorly) it is
    "uncertain". Between the two is "uncertain": a stylized render or a heavy
    re-encode of the same face lands there as often as a look-alike does.
    `lower_margin` (the embedder's `different_margin`) replaces the margin below.
    """
    below = margin if lower_margin is None else lower_margin
    if similarity < different_below(threshold, below, measured):
        return "uncertain" if evidence < WEAK_EVIDENCE else "different"
    if similarity < threshold + margin:
        return "uncertain"
    return "same"


def tracks_of(ch: Character, tracks: list[Track]) -> list[Track]:
    """The character's tracks, in the order of the flat track list."""
    return [tracks[i] for i in ch.track_ids]


def group_by(tracks: list[Track], key: Callable[[Track], K]) -> dict[K, list[Track]]:
    """Tracks grouped by `key`, each group in list order, groups in order of first member."""
    groups: dict[K, list[Track]] = {}
    for t in tracks:
        groups.setdefault(key(t), []).append(t)
    return groups


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
        metric: the embedder's similarity, centroid and threshold.
        cast: name -> reference embedding.
        cast_images: name -> reference face crop, for the visual reports.

    Returns:
        The characters, numbered in order of their first track's (clip, first frame).
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
        mine = tracks_of(ch, tracks)
        by_clip = group_by(mine, lambda t: t.clip)
        _set_anchor(ch, by_clip, metric, cast, cast_images or {})
        ch.appearances.extend(_appearances(ch, tracks, clips, metric))
        _measure_clips(ch, by_clip, metric)
        ch.role = role_of(ch, mine)
    return characters


def _set_anchor(
    ch: Character,
    by_clip: dict[int, list[Track]],
    metric: Metric,
    cast: dict[str, np.ndarray],
    cast_images: dict[str, np.ndarray],
) -> None:
    """What the character is measured against: its cast reference when it is named,
    else its best evidence early on (`anchor_tracks`)."""
    if ch.name is not None:
        ch.anchor = cast[ch.name]
        ch.anchor_image = cast_images.get(ch.name)
    else:
        ch.anchor_clip, best = anchor_tracks(by_clip)
        ch.anchor = metric.centroid_of(best)


def _quality(t: Track) -> float:
    return float(t.crop_quality[0])  # crops are kept best first


def anchor_tracks(by_clip: dict[int, list[Track]]) -> tuple[int, list[Track]]:
    """(clip, tracks) a character's anchor is made of: in the first clip where its best
    face is good evidence (its first clip when there is none), the tracks whose best
    face scores at least half as well as that clip's best. Never one poor face when a
    better one exists: a blurred extra seen first, or a face in profile, does not
    become what the rest of the story is measured against.
    """
    clips = sorted(by_clip)
    good = [c for c in clips if max(map(_quality, by_clip[c])) >= WEAK_EVIDENCE]
    clip = good[0] if good else clips[0]
    best = max(map(_quality, by_clip[clip]))
    return clip, [t for t in by_clip[clip] if _quality(t) >= 0.5 * best]


def role_of(ch: Character, mine: list[Track]) -> str:
    """ "extra" for a character that stays small (its largest face under EXTRA_SIDE) or
    small-ish and poor (under FULL_SIDE, and thin evidence in every clip); else "lead".
    A cast member is always a lead."""
    if ch.name is not None:
        return "lead"
    side = max(float(t.faces.size.max()) for t in mine)
    poor = max(ch.evidence.values()) < WEAK_EVIDENCE
    return "extra" if side < EXTRA_SIDE or (poor and side < FULL_SIDE) else "lead"


def _appearances(
    ch: Character, tracks: list[Track], clips: dict[int, ClipResult], metric: Metric
) -> list[Appearance]:
    """One Appearance per shot the character is in, in (clip, shot) order, with the
    indices of its tracks there in the flat track list."""
    out = []
    ids: dict[tuple[int, int], list[int]] = {}
    for i in ch.track_ids:
        ids.setdefault((tracks[i].clip, tracks[i].shot), []).append(i)
    for (clip, shot), shot_ids in sorted(ids.items()):
        shot_tracks = [tracks[i] for i in shot_ids]
        result = clips[clip]
        out.append(
            Appearance(
                clip=clip,
                shot=shot,
                start_s=result.time_of(min(t.first_frame for t in shot_tracks)),
                end_s=result.time_of(max(t.last_frame for t in shot_tracks)),
                faces=sum(len(t.faces) for t in shot_tracks),
                similarity=metric.sim(metric.centroid_of(shot_tracks), ch.anchor),
                attributes=_attributes_of(shot_tracks),
                track_ids=tuple(shot_ids),
            )
        )
    return out


def _measure_clips(ch: Character, by_clip: dict[int, list[Track]], metric: Metric) -> None:
    """Per clip: similarity to the anchor and to the clip before, the faces' spread,
    the evidence and thumbnail (the best face), the looks; then the horizon and slope."""
    previous: np.ndarray | None = None
    for clip in sorted(by_clip):
        in_clip = by_clip[clip]
        centre = metric.centroid_of(in_clip)
        ch.clip_similarity[clip] = metric.sim(centre, ch.anchor)
        if previous is not None:
            ch.previous_similarity[clip] = metric.sim(centre, previous)
        previous = centre
        faces = np.concatenate([t.embeddings for t in in_clip])  # (n_embedded, d)
        per_face = metric.similarity(faces, ch.anchor[None])
        ch.spread[clip] = float(per_face.max() - per_face.min())
        # how alike its faces are within the clip: what the anchor clip shows instead
        # of its 1.00 against itself
        ch.consistency[clip] = float(metric.similarity(faces, centre[None]).mean())
        ch.faces[clip] = sum(len(t.faces) for t in in_clip)
        best = max(in_clip, key=lambda t: float(t.crop_quality[0]))
        ch.evidence[clip] = float(best.crop_quality[0])
        ch.thumbnails[clip] = best.crops.images[0]
        looks = _attributes_of(in_clip)
        if looks is not None:
            ch.attributes[clip] = looks
    if ch.anchor_image is None:
        ch.anchor_image = ch.thumbnails[min(by_clip) if ch.anchor_clip is None else ch.anchor_clip]
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


def _name_from_cast(
    characters: list[Character], tracks: list[Track], metric: Metric, cast: dict[str, np.ndarray]
) -> None:
    """Give each cast member the best-matching character at or above threshold (one each)."""
    if not cast or not characters:
        return
    names = sorted(cast)
    refs = np.stack([cast[n] for n in names])
    cents = np.stack([metric.centroid_of(tracks_of(ch, tracks)) for ch in characters])
    sims = metric.similarity(cents, refs)  # (n_characters, n_cast)
    rows, cols = linear_sum_assignment(-sims)
    for r, c in zip(rows, cols, strict=True):
        if sims[r, c] >= metric.threshold:
            characters[r].name = names[c]
