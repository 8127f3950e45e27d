"""Tracks -> characters: average-linkage agglomerative clustering with cannot-link
constraints (two tracks seen in the same frame are never one person).

scikit-learn's AgglomerativeClustering has no cannot-link constraints, and
post-hoc splitting of its clusters changes the linkage it was built on, so the
merge loop is written here: it is O(n^2) memory and O(n^2) per merge on n
tracks, which stays under a second for the ~1000 tracks of a long delivery.
"""

from __future__ import annotations

import numpy as np

from drift_audit.identity.characters import Metric
from drift_audit.types import Track


def cluster(
    similarity: np.ndarray,
    cannot_link: np.ndarray,
    threshold: float,
    weak: np.ndarray | None = None,
    weak_margin: float = 0.0,
) -> np.ndarray:
    """Group items whose average pairwise similarity stays at or above `threshold`.

    Args:
        similarity: (n, n) float, symmetric.
        cannot_link: (n, n) bool, symmetric; True pairs never end in one group.
        threshold: the smallest average similarity at which two groups merge.
        weak: (n,) bool, items whose evidence is poor (small, profile, blurred faces).
            A group made only of weak items merges only at threshold + weak_margin:
            poor faces embed near everyone, and would chain people together.
    Returns:
        (n,) int64 labels 0..k-1, numbered in order of each group's lowest item
        index (so callers that order items by first appearance get ids in that order).
    """
    n = len(similarity)
    if n == 0:
        return np.zeros(0, np.int64)
    sums = similarity.astype(np.float64).copy()  # sum of pairwise similarities between groups
    sizes = np.ones(n, np.int64)
    blocked = cannot_link.astype(bool).copy()
    alive = np.ones(n, bool)
    owner = np.arange(n)  # item -> representative group
    all_weak = np.zeros(n, bool) if weak is None else weak.astype(bool).copy()
    np.fill_diagonal(blocked, True)
    while True:
        mean = sums / np.outer(sizes, sizes)
        # Compare against the per-pair threshold by shifting: merge when mean - extra >= threshold.
        mean = mean - weak_margin * (all_weak[:, None] | all_weak[None, :])
        mean[blocked] = -np.inf
        mean[~alive, :] = -np.inf
        mean[:, ~alive] = -np.inf
        flat = int(np.argmax(mean))  # first maximum: deterministic tie-break
        a, b = divmod(flat, n)
        if mean[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        sums[a, :] += sums[b, :]
        sums[:, a] += sums[:, b]
        sizes[a] += sizes[b]
        all_weak[a] &= all_weak[b]
        blocked[a, :] |= blocked[b, :]
        blocked[:, a] |= blocked[:, b]
        alive[b] = False
        owner[owner == b] = a
    labels = np.empty(n, np.int64)
    order: dict[int, int] = {}
    for i in range(n):
        labels[i] = order.setdefault(int(owner[i]), len(order))
    return labels


def cannot_link(tracks: list[Track]) -> np.ndarray:
    """(n, n) bool: True where two tracks share a frame of the same clip."""
    n = len(tracks)
    blocked = np.zeros((n, n), bool)
    frames = [set(t.faces.frame.tolist()) for t in tracks]
    for i in range(n):
        for j in range(i + 1, n):
            if tracks[i].clip == tracks[j].clip and frames[i] & frames[j]:
                blocked[i, j] = blocked[j, i] = True
    return blocked


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
                sim = metric.sim(metric.centroid_of(end), metric.centroid_of(start))
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
