"""Clustering tens of thousands of tracks without their (n, n) matrix.

`candidate_components` finds the components of the "may merge" graph from a float32
product in chunks of rows, with a margin (so the graph is a superset, and components are
only ever joined, never split: still exact), keeping no edges. `similarity_matrix`
builds one component's matrix tile by tile. A component too large for one matrix goes
to `two_stage.py`.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from drift_audit.identity.characters import Similarity
from drift_audit.identity.linkage import NEVER

CHUNK = 1 << 23
"""Entries of a similarity block computed at once (32 MB of float32)."""

TILE = 1024
"""Rows and columns of a tile of `similarity_matrix` (8 MB of float64)."""

GEOMETRY_MARGIN = 1e-3
"""How far (in squared distance or dot product, per unit of squared norm) the float32
tests reach beyond the exact ones: far more than float32 rounding."""


def geometry_of(vectors: np.ndarray, similarity: Similarity) -> str | None:
    """ "euclidean" (1 - distance: dlib), "cosine" (dot product: facenet) or None: the
    formula the similarity follows on a sample of the vectors, if exactly one fits."""
    pick = np.unique(np.linspace(0, len(vectors) - 1, 48).astype(np.int64))
    sample = vectors[pick]
    got = np.asarray(similarity(sample, sample), np.float64)
    x = sample.astype(np.float64)
    dot = x @ x.T
    sq = (x * x).sum(1)
    euclid = 1.0 - np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2.0 * dot, 0.0, None))
    fits = [
        name
        for name, want in (("euclidean", euclid), ("cosine", dot))
        if np.allclose(got, want, rtol=0.0, atol=1e-4)
    ]
    return fits[0] if len(fits) == 1 else None


def candidate_components(
    vectors: np.ndarray, similarity: Similarity, reach: float, geometry: str | None
) -> np.ndarray:
    """(n,) int64 component of each item, where items are joined by every pair whose
    similarity may be >= reach (and by some that cannot).

    Euclidean and cosine similarities are tested with one float32 product per chunk of
    rows (pairs i < j), against a bound loosened by GEOMETRY_MARGIN; any other is called
    chunk by chunk. Pairs already in one component are dropped as they are found, and
    the rest folded into the components every few chunks, so memory stays small; rows
    of the largest component are then compared only with the items outside it.
    """
    n = len(vectors)
    x = vectors.astype(np.float32)
    sq = (x.astype(np.float64) ** 2).sum(1)
    slack = GEOMETRY_MARGIN * max(1.0, float(sq.max(initial=0.0)))
    left = right = x
    floor = reach - slack
    if geometry == "euclidean":
        radius = max(0.0, 1.0 - reach)  # similarity >= reach <=> distance <= 1 - reach
        # |a - b|^2 <= r^2 <=> a.b - (|a|^2/2 - r^2/4) - (|b|^2/2 - r^2/4) >= 0: one product.
        u = sq / 2 - (radius * radius + slack) / 4
        left = np.hstack([x, -u[:, None], np.ones((n, 1))]).astype(np.float32)
        right = np.hstack([x, np.ones((n, 1)), -u[:, None]]).astype(np.float32)
        floor = 0.0 if reach <= 1.0 else np.inf
    label = np.arange(n)
    found: list[np.ndarray] = []
    pending = chunks = 0
    big = -1  # the largest component: pairs inside it are not looked for again
    step = max(1, CHUNK // max(n, 1))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        rows = np.arange(lo, hi)
        in_big = label[rows] == big
        outside = lo + np.flatnonzero(label[lo:] != big)  # every column not in it
        for r, cols in ((rows[~in_big], None), (rows[in_big], outside)):
            if not len(r) or (cols is not None and not len(cols)):
                continue
            if geometry is None:
                block = np.asarray(similarity(vectors[r], vectors)) >= reach
                i, j = np.nonzero(block)
            elif cols is None:
                i, j = np.nonzero(left[r] @ right[lo:].T >= floor)  # (len(r), n - lo)
                j += lo
            else:
                i, j = np.nonzero(left[r] @ right[cols].T >= floor)
                j = cols[j]
            a, b = label[r[i]], label[j]
            keep = a != b
            found.append(np.stack([a[keep], b[keep]]))
            pending += int(keep.sum())
        chunks += 1
        if pending > 1 << 20 or (pending and (chunks >= 8 or hi == n)):
            pairs = np.concatenate(found, axis=1)
            graph = coo_matrix((np.ones(pairs.shape[1], bool), (pairs[0], pairs[1])), (n, n))
            label = connected_components(graph, directed=False)[1][label]
            big = int(np.bincount(label).argmax())
            found, pending, chunks = [], 0, 0
    return label.astype(np.int64)


def similarity_matrix(vectors: np.ndarray, similarity: Similarity, symmetric: bool) -> np.ndarray:
    """(m, m) float64 `similarity(vectors, vectors)`, computed tile by tile (TILE rows and
    columns: the similarity's temporaries stay in cache, and small). When the similarity
    is `symmetric` (a known geometry), the tiles below the diagonal are the mirror of
    those above it, which halves the work."""
    m = len(vectors)
    out = np.empty((m, m), np.float64)
    for lo in range(0, m, TILE):
        rows = vectors[lo : lo + TILE]
        out[lo : lo + TILE, lo : lo + TILE] = similarity(rows, rows)
        for co in range(lo + TILE if symmetric else 0, m, TILE):
            if co == lo:
                continue
            block = similarity(rows, vectors[co : co + TILE])
            out[lo : lo + TILE, co : co + TILE] = block
            if symmetric:
                out[co : co + TILE, lo : lo + TILE] = block.T
    return out


def block_pairs(sums: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """`sums` with NEVER on the diagonal and at the (k, 2) pairs, both orders."""
    sums[pairs[:, 0], pairs[:, 1]] = NEVER
    sums[pairs[:, 1], pairs[:, 0]] = NEVER
    np.fill_diagonal(sums, NEVER)
    return sums
