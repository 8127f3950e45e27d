"""A component too large for one matrix, clustered in two stages: exactly within blocks
of nearby vectors, then across blocks over the groups the blocks left, with the same
scores (the exact mean similarity of two groups' items), margin and cannot-links.
Merges inside a block come before any merge across blocks, the one departure from the
plain loop.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from drift_audit.identity.characters import Similarity
from drift_audit.identity.linkage import cluster_matrix
from drift_audit.identity.scale import CHUNK, GEOMETRY_MARGIN, block_pairs, similarity_matrix

BLOCK_FILL = 0.5
"""k-means cells aim at this share of the block limit (cells come out uneven)."""


def two_stage(
    vectors: np.ndarray,
    similarity: Similarity,
    geometry: str,
    blocked: np.ndarray,
    weak: np.ndarray,
    threshold: float,
    weak_margin: float,
    limit: int,
) -> np.ndarray:
    """Average linkage over one large component: exact within blocks of at most `limit`
    nearby vectors, then across blocks over the groups the blocks left.

    Args:
        vectors: (m, d) the component's vectors, in item order.
        similarity: the embedder's similarity, of a known `geometry`.
        geometry: "euclidean" or "cosine" (`geometry_of`).
        blocked: (k, 2) int64 local cannot-link pairs.
        weak: (m,) bool.
        threshold, weak_margin: as for `cluster`.
        limit: the largest block.

    Returns:
        (m,) int64: each item's group, named by the group's lowest item.
    """
    m = len(vectors)
    owner = np.arange(m)
    for block in _blocks(vectors, limit):
        where = np.full(m, -1, np.int64)
        where[block] = np.arange(len(block))
        local = where[blocked]
        local = local[(local >= 0).all(axis=1)]
        sums = block_pairs(similarity_matrix(vectors[block], similarity, True), local)
        owner[block] = block[cluster_matrix(sums, weak[block], threshold, weak_margin)]
    across = _Across(vectors, similarity, geometry, blocked, weak, owner, threshold, weak_margin)
    return across.run()


def _blocks(vectors: np.ndarray, limit: int) -> list[np.ndarray]:
    """Sorted index arrays of at most `limit` items each, nearby vectors together: k-means
    (seeded, so the same every run), split again where a cell is still too large."""
    todo, done = [np.arange(len(vectors))], []
    while todo:
        idx = todo.pop()
        if len(idx) <= limit:
            done.append(idx)
            continue
        k = math.ceil(len(idx) / (BLOCK_FILL * limit))
        cells = _kmeans(vectors[idx].astype(np.float32), k)
        parts = [idx[cells == c] for c in range(k) if (cells == c).any()]
        if len(parts) == 1:  # all one vector: split by position
            parts = list(np.array_split(idx, k))
        todo.extend(parts)
    return sorted(done, key=lambda b: int(b[0]))


def _kmeans(x: np.ndarray, k: int, rounds: int = 8) -> np.ndarray:
    """(n,) cell of each row after a few Lloyd rounds from seeded starts."""
    centres = x[np.random.default_rng(0).choice(len(x), k, replace=False)]
    sq = (x * x).sum(1)
    cells = np.zeros(len(x), np.int64)
    for _ in range(rounds):
        cells = (sq[:, None] - 2.0 * (x @ centres.T) + (centres * centres).sum(1)).argmin(1)
        for c in range(k):
            mine = cells == c
            if mine.any():
                centres[c] = x[mine].mean(axis=0)
    return cells


class _Across:
    """Average linkage over groups of items, where a pair of groups is scored only if
    its mean similarity may reach the threshold, which their mean vectors bound:
    for 1 - distance, the mean distance is at least the distance of the means (the
    norm is convex); for a dot product, the mean is the dot product of the means. A
    pair's exact sum is computed from the vectors when first needed."""

    def __init__(
        self,
        vectors: np.ndarray,
        similarity: Similarity,
        geometry: str,
        blocked: np.ndarray,
        weak: np.ndarray,
        owner: np.ndarray,
        threshold: float,
        weak_margin: float,
    ) -> None:
        self.vectors, self.similarity, self.geometry = vectors, similarity, geometry
        self.threshold, self.margin = threshold, weak_margin
        self.owner = owner
        reps, unit = np.unique(owner, return_inverse=True)  # unit u: named reps[u], item order
        unit = unit.reshape(-1)
        k = len(reps)
        self.reps = reps
        order = np.argsort(unit, kind="stable")
        self.members = np.split(order, np.cumsum(np.bincount(unit, minlength=k))[:-1])
        self.size = np.array([len(g) for g in self.members], np.float64)
        self.weak = np.array([bool(weak[g].all()) for g in self.members])
        self.total = np.zeros((k, vectors.shape[1]), np.float64)  # sum of each group's vectors
        np.add.at(self.total, unit, vectors.astype(np.float64))
        self.mean = self.total / self.size[:, None]  # a merged-away group's row is nan
        self.never: list[set[int]] = [set() for _ in range(k)]
        keys = np.unique(np.sort(unit[blocked], axis=1) @ np.array([k, 1]))
        for a, b in zip((keys // k).tolist(), (keys % k).tolist(), strict=True):
            self.never[a].add(b)
            self.never[b].add(a)
        self.sq = (self.mean**2).sum(1)  # a merged-away group's is nan
        self.slack = GEOMETRY_MARGIN * max(1.0, float(self.sq.max(initial=0.0)))
        self.near: list[dict[int, float]] = [{} for _ in range(k)]
        # Each pair's sum is computed with the larger group as the columns, and all the
        # smaller groups that pair with one group in one call: tall blocks, not thin rows.
        smaller: dict[int, list[int]] = {}
        step = max(1, CHUNK // max(k, 1))
        for lo in range(0, k, step):
            hits = np.triu(self._reachable(np.arange(lo, min(k, lo + step))), lo + 1)
            for a, b in zip(*(x.tolist() for x in np.nonzero(hits)), strict=True):
                a += lo
                if b not in self.never[a]:
                    big, small = (b, a) if self.size[a] <= self.size[b] else (a, b)
                    smaller.setdefault(big, []).append(small)
        for big, small in smaller.items():
            for a, total in zip(small, self._sums_to(small, big), strict=True):
                self.near[a][big] = self.near[big][a] = total

    def _reachable(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), k) bool: the groups whose mean similarity to each of `rows` may
        reach the score it needs to merge (the threshold, plus the margin where either
        group is only weak items); never the group itself or a merged-away one."""
        dot = self.mean[rows] @ self.mean.T
        need = np.where(self.weak[rows, None] | self.weak[None, :], self.margin, 0.0)
        need += self.threshold
        if self.geometry == "euclidean":
            radius = np.maximum(0.0, 1.0 - need)  # mean distance <= 1 - need
            d2 = self.sq[rows, None] + self.sq[None, :] - 2.0 * dot
            hit = d2 <= radius * radius + self.slack
        else:
            hit = dot >= need - self.slack
        hit[np.arange(len(rows)), rows] = False
        return hit

    def _sums(self, items: np.ndarray, groups: list[int]) -> list[float]:
        """The float64 sum of similarities between `items` and each of `groups`."""
        out: list[float] = []
        start = 0
        while start < len(groups):
            stop, width = start, 0
            while stop < len(groups) and (
                stop == start or (width + len(self.members[groups[stop]])) * len(items) <= CHUNK
            ):
                width += len(self.members[groups[stop]])
                stop += 1
            part = [self.members[g] for g in groups[start:stop]]
            block = self.similarity(self.vectors[items], self.vectors[np.concatenate(part)])
            column_sums = np.asarray(block, np.float64).sum(axis=0)
            starts = np.cumsum([0] + [len(g) for g in part[:-1]])
            out.extend(np.add.reduceat(column_sums, starts).tolist())
            start = stop
        return out

    def _sums_to(self, groups: list[int], big: int) -> list[float]:
        """The float64 sum of similarities between each of `groups` and group `big`."""
        rows = np.concatenate([self.members[g] for g in groups])
        cols = self.vectors[self.members[big]]
        per_row = np.empty(len(rows), np.float64)
        step = max(1, CHUNK // len(cols))
        for lo in range(0, len(rows), step):
            block = self.similarity(self.vectors[rows[lo : lo + step]], cols)
            per_row[lo : lo + step] = np.asarray(block, np.float64).sum(axis=1)
        starts = np.cumsum([0] + [len(self.members[g]) for g in groups[:-1]])
        return list(np.add.reduceat(per_row, starts).tolist())

    def score(self, a: int, b: int) -> float:
        mean = self.near[a][b] / (self.size[a] * self.size[b])
        return mean - self.margin if self.weak[a] or self.weak[b] else mean

    def run(self) -> np.ndarray:
        """Merge the best pair while it reaches the threshold; (m,) each item's group."""
        k = len(self.reps)
        version = [0] * k
        heap = [(-self.score(a, b), a, b, 0, 0) for a in range(k) for b in self.near[a] if b > a]
        heapq.heapify(heap)
        while heap:
            neg, a, b, va, vb = heapq.heappop(heap)
            if va != version[a] or vb != version[b]:
                continue  # one of the two has merged since
            if -neg < self.threshold:
                break
            self._merge(a, b)
            version[a] += 1
            version[b] += 1
            for x in self.near[a]:
                lo, hi = min(a, x), max(a, x)
                heapq.heappush(heap, (-self.score(a, x), lo, hi, version[lo], version[hi]))
        return self.owner

    def _merge(self, a: int, b: int) -> None:
        """Group b joins group a (a < b)."""
        never = self.never
        never[a] |= never[b]
        for x in never[b]:
            never[x].discard(b)
            never[x].add(a)
        old_a, old_b = self.near[a], self.near[b]
        for x in old_a.keys() | old_b.keys():
            self.near[x].pop(a, None)
            self.near[x].pop(b, None)
        self.total[a] += self.total[b]
        self.size[a] += self.size[b]
        self.mean[a] = self.total[a] / self.size[a]
        self.sq[a] = float(self.mean[a] @ self.mean[a])
        self.mean[b], self.sq[b] = np.nan, np.nan
        self.weak[a] = self.weak[a] and self.weak[b]  # before `_reachable`: it sets the need
        hit = self._reachable(np.array([a]))[0]
        reach = [x for x in np.flatnonzero(hit).tolist() if x not in never[a]]
        need_a = [x for x in reach if x not in old_a]
        need_b = [x for x in reach if x not in old_b]
        got_a = dict(zip(need_a, self._sums(self.members[a], need_a), strict=True))
        got_b = dict(zip(need_b, self._sums(self.members[b], need_b), strict=True))
        merged = {
            x: old_a.get(x, got_a.get(x, 0.0)) + old_b.get(x, got_b.get(x, 0.0)) for x in reach
        }
        for x, total in merged.items():
            self.near[x][a] = total
        self.near[a], self.near[b] = merged, {}
        self.members[a] = np.sort(np.concatenate([self.members[a], self.members[b]]))
        self.owner[self.members[a]] = self.reps[a]
