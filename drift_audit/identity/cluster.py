"""Tracks -> characters: average-linkage agglomerative clustering with cannot-link
constraints (two tracks seen in the same frame are never one person).

scikit-learn's AgglomerativeClustering has no cannot-link constraints, and post-hoc
splitting of its clusters changes the linkage it was built on, so the merge loop is
written here (`linkage.py`): the plain loop's merges, in its order and with its
arithmetic, at O(n) numpy work per merge instead of a rescan of the (n, n) matrix, and
one connected component of the "may merge" graph at a time.

`cluster` takes the (n, n) matrix. `cluster_vectors` takes the vectors: up to
`DENSE_LIMIT` items it builds the matrix tile by tile; beyond, it holds one
component's matrix at a time (`scale.py`), and clusters a component of more than
`DENSE_LIMIT` items in two stages (`two_stage.py`), the one case whose result may
differ from the plain loop's.
"""

from __future__ import annotations

import numpy as np

from drift_audit.identity.characters import Metric, Similarity
from drift_audit.identity.linkage import NEVER, cluster_matrix, groups, lowest_merge
from drift_audit.identity.scale import (
    block_pairs,
    candidate_components,
    geometry_of,
    similarity_matrix,
)
from drift_audit.identity.two_stage import two_stage
from drift_audit.types import Track

DENSE_LIMIT = 12_000
"""The most items clustered exactly together: their (n, n) float64 sums take 1.15 GB."""


def cluster(
    similarity: np.ndarray,
    cannot_link: np.ndarray,
    threshold: float,
    weak: np.ndarray | None = None,
    weak_margin: float = 0.0,
) -> np.ndarray:
    """Group items whose average pairwise similarity stays at or above `threshold`.

    At each step the pair of groups with the highest score merges (their mean
    similarity, less `weak_margin` where either group is only weak items; the first
    pair in row-major order on ties), until no pair's score reaches `threshold`.

    Args:
        similarity: (n, n) float, finite, symmetric.
        cannot_link: (n, n) bool, symmetric; True pairs never end in one group.
        threshold: the smallest average similarity at which two groups merge.
        weak: (n,) bool, items whose evidence is poor (small, profile, blurred faces).
            A group made only of weak items merges only at threshold + weak_margin:
            poor faces embed near everyone, and would chain people together.
    Returns:
        (n,) int64 labels 0..k-1, numbered in order of each group's lowest item
        index (so callers that order items by first appearance get ids in that order).
    Raises:
        ValueError: shapes that do not match, or a similarity that is not finite.
    """
    n = len(similarity)
    _check_shape("similarity", similarity, (n, n))
    _check_shape("cannot_link", cannot_link, (n, n))
    if weak is not None:
        _check_shape("weak", weak, (n,))
    step = max(1, (1 << 22) // max(n, 1))
    if not all(np.isfinite(similarity[lo : lo + step]).all() for lo in range(0, n, step)):
        raise ValueError("similarity must be finite")
    sums = similarity.astype(np.float64)  # a copy: the caller's matrix stays as it is
    sums[cannot_link.astype(bool)] = NEVER
    np.fill_diagonal(sums, NEVER)
    is_weak = np.zeros(n, bool) if weak is None else weak.astype(bool)
    return first_appearance(cluster_matrix(sums, is_weak, threshold, weak_margin))


def cluster_vectors(
    vectors: np.ndarray,
    similarity: Similarity,
    cannot_link: np.ndarray,
    threshold: float,
    weak: np.ndarray | None = None,
    weak_margin: float = 0.0,
    *,
    dense_limit: int = DENSE_LIMIT,
) -> np.ndarray:
    """`cluster(similarity(vectors, vectors), ...)`, without the (n, n) matrix at scale.

    Up to `dense_limit` items the matrix is built tile by tile, each tile by
    `similarity` itself, so that its entries are those of one call on all the vectors
    (dlib's float64 expansion gives the same float32 values whatever the shape: checked
    in the tests). Beyond, `scale.candidate_components` finds the components without the
    matrix, and each is clustered from its own; a component of more than `dense_limit`
    items goes to `two_stage.two_stage` (exact within blocks of nearby vectors, then across
    them), which may differ from `cluster` where a merge across blocks would have come
    first. A similarity that is neither 1 - distance nor a dot product gives no bound
    for the second stage, so its components are clustered whole, whatever their size.

    Args:
        vectors: (n, d) float, finite, one per item (a track's centroid).
        similarity: the embedder's: (a, d), (b, d) -> (a, b) similarities.
        cannot_link: (k, 2) int, pairs of items that never end in one group.
        threshold, weak, weak_margin: as for `cluster`.
        dense_limit: the most items clustered exactly together; their matrix takes
            8 * dense_limit^2 bytes.
    Returns:
        (n,) int64 labels, numbered as `cluster` numbers them.
    Raises:
        ValueError: shapes that do not match, vectors that are not finite, or a pair
            index out of range.
    """
    n = len(vectors)
    pairs = np.asarray(cannot_link, np.int64).reshape(-1, 2)
    if weak is not None:
        _check_shape("weak", weak, (n,))
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        raise ValueError(f"cannot_link pairs must index the {n} vectors")
    if not np.isfinite(vectors).all():
        raise ValueError("vectors must be finite")
    if n == 0:
        return np.zeros(0, np.int64)
    is_weak = np.zeros(n, bool) if weak is None else weak.astype(bool)
    geometry = geometry_of(vectors, similarity)
    symmetric = geometry is not None
    if n <= dense_limit:
        sums = block_pairs(similarity_matrix(vectors, similarity, symmetric), pairs)
        return first_appearance(cluster_matrix(sums, is_weak, threshold, weak_margin))
    label = candidate_components(
        vectors, similarity, lowest_merge(threshold, weak_margin), geometry
    )
    inside = pairs[label[pairs[:, 0]] == label[pairs[:, 1]]]  # cannot-links within a component
    inside = inside[np.argsort(label[inside[:, 0]], kind="stable")]
    pair_label = label[inside[:, 0]]  # sorted
    where = np.zeros(n, np.int64)
    owner = np.arange(n)
    for idx in groups(label):
        where[idx] = np.arange(len(idx))
        lo, hi = np.searchsorted(pair_label, [label[idx[0]], label[idx[0]] + 1])
        local = where[inside[lo:hi]]
        if len(idx) <= dense_limit or geometry is None:  # an unknown geometry: exact at any size
            sums = block_pairs(similarity_matrix(vectors[idx], similarity, symmetric), local)
            found = cluster_matrix(sums, is_weak[idx], threshold, weak_margin)
        else:
            found = two_stage(
                vectors[idx],
                similarity,
                geometry,
                local,
                is_weak[idx],
                threshold,
                weak_margin,
                dense_limit,
            )
        owner[idx] = idx[found]
    return first_appearance(owner)


def first_appearance(owner: np.ndarray) -> np.ndarray:
    """(n,) int64 labels 0..k-1 of a grouping, numbered in order of each group's first item."""
    _, first, inverse = np.unique(owner, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


APART_IOU = 0.3  # two boxes in one frame overlapping less than this are two people


def cannot_link_pairs(tracks: list[Track]) -> np.ndarray:
    """(k, 2) int64 pairs i < j of tracks that are two people: they share a frame of
    the same clip, and in a shared frame their boxes lie apart (IoU under APART_IOU).
    Two tracks whose boxes overlap in every frame they share are one face found twice
    (a track handed over at a re-detection, a duplicate box), not two people.

    Candidates are the tracks whose frame intervals overlap, found by a sort and a
    binary search per track; a candidate pair shares a frame unless one of them skipped
    frames (MAX_GAP), which is checked on their frames. Sorted.
    """
    frames, boxes = zip(*(_frame_boxes(t) for t in tracks), strict=True) if tracks else ((), ())
    seen = np.array([len(f) > 0 for f in frames])
    if seen.sum() < 2:
        return np.zeros((0, 2), np.int64)
    clip = np.array([t.clip for t in tracks], np.int64)
    first = np.array([f[0] if len(f) else 0 for f in frames], np.int64)
    last = np.array([f[-1] if len(f) else -1 for f in frames], np.int64)
    span = int(last.max()) + 2
    ids = np.flatnonzero(seen)
    order = ids[np.lexsort((first[ids], clip[ids]))]
    starts = clip[order] * span + first[order]  # sorted
    ends = np.searchsorted(starts, clip[order] * span + last[order], side="right")
    count = ends - np.arange(len(order)) - 1  # later-starting tracks that start before this ends
    p = np.repeat(np.arange(len(order)), count)
    q = p + 1 + np.arange(len(p)) - np.repeat(np.cumsum(count) - count, count)
    early, late = order[p], order[q]
    # The late track's first frame is its own; the pair shares a frame if it is the early one's.
    keys = np.concatenate([i * span + frames[i] for i in ids])
    flat = np.concatenate([boxes[i] for i in ids])  # (m, 4): the box at each key
    sort = np.argsort(keys, kind="stable")
    keys, flat = keys[sort], flat[sort]
    probe = early * span + first[late]
    at = np.minimum(np.searchsorted(keys, probe), len(keys) - 1)
    share = keys[at] == probe
    # Where the probe frame is shared, the pair is apart if its boxes are apart there.
    late_first = np.stack([boxes[i][0] for i in late]) if len(late) else np.zeros((0, 4))
    apart = share & (_pair_iou(flat[at], late_first) < APART_IOU)
    for k in np.flatnonzero(~apart).tolist():
        apart[k] = _apart_somewhere(frames, boxes, int(early[k]), int(late[k]))
    pairs = np.sort(np.stack([early[apart], late[apart]], axis=1), axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _frame_boxes(t: Track) -> tuple[np.ndarray, np.ndarray]:
    """(m,) int64 sorted frames of a track and (m, 4) float32 its box in each."""
    frames, first = np.unique(t.faces.frame, return_index=True)
    return frames.astype(np.int64), t.faces.xyxy[first].astype(np.float32).reshape(-1, 4)


def _pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) IoU of the boxes a[i] and b[i] (xyxy)."""
    lt = np.maximum(a[:, :2], b[:, :2])
    rb = np.minimum(a[:, 2:], b[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    union = np.prod(a[:, 2:] - a[:, :2], axis=1) + np.prod(b[:, 2:] - b[:, :2], axis=1) - inter
    return inter / np.maximum(union, 1e-6)


def _apart_somewhere(
    frames: tuple[np.ndarray, ...], boxes: tuple[np.ndarray, ...], i: int, j: int
) -> bool:
    """Whether tracks i and j share a frame in which their boxes lie apart."""
    _, in_i, in_j = np.intersect1d(frames[i], frames[j], assume_unique=True, return_indices=True)
    return bool(len(in_i)) and bool((_pair_iou(boxes[i][in_i], boxes[j][in_j]) < APART_IOU).any())


def cannot_link(tracks: list[Track]) -> np.ndarray:
    """(n, n) bool: True where two tracks share a frame of the same clip."""
    n = len(tracks)
    blocked = np.zeros((n, n), bool)
    pairs = cannot_link_pairs(tracks)
    blocked[pairs[:, 0], pairs[:, 1]] = True
    blocked[pairs[:, 1], pairs[:, 0]] = True
    return blocked


def _check_shape(name: str, array: np.ndarray, shape: tuple[int, ...]) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} must be {shape}, got {array.shape}")


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
        starting: dict[int, list[int]] = {}  # first clip -> the groups that start there
        for g, (first, _) in span.items():
            starting.setdefault(first, []).append(g)
        candidates = []
        for a, (_, a_last) in span.items():
            for b in starting.get(a_last + 1, []):
                end = [tracks[i] for i in groups[a] if tracks[i].clip == a_last]
                start = [tracks[i] for i in groups[b] if tracks[i].clip == a_last + 1]
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
