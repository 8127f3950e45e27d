"""The merge loop of average-linkage clustering with cannot-link constraints, exact and
fast: the same merges, in the same order, with the same float arithmetic as the plain
loop that rescans the whole (n, n) matrix for its best pair at every step.

The plain loop costs O(n^2) per merge, O(n^3) in all. Here each row keeps its best
score and column; a merge updates one row and one column, so a merge costs O(n) numpy
work plus a rescan of the rows whose best partner was one of the two merged groups and
whose score fell. Those rows are marked stale rather than rescanned at once: a stale
score is an upper bound, and a stale row is rescanned only when it comes up as the best
(Muellner's "generic" linkage, arXiv:1109.2378). The matrix is compacted when half its
rows are spent, so later merges work on fewer rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

NEVER = -np.inf
"""A group-pair sum that can never merge: cannot-link, the diagonal, or a merged-away group."""

REACH_SLACK = 1e-5
"""How far below the lowest merging score a pair still counts as an edge: rounding in a
group's mean (a float64 sum) and in a float32 comparison must not hide a pair that merges.
Similarities are of order 1 (both embedders' lie in [-1, 1])."""


def cluster_matrix(
    sums: np.ndarray, weak: np.ndarray, threshold: float, weak_margin: float
) -> np.ndarray:
    """`merge_groups` over single items, one connected component at a time.

    Two groups merge only when their mean similarity (less a margin) reaches the
    threshold, so some pair of their items reaches `lowest_merge`: the components of the
    graph of such pairs never exchange a merge, and each gives the same merges alone.

    Args:
        sums: (n, n) float64 item similarities, NEVER on the diagonal and at cannot-links.
            Overwritten.
        weak: (n,) bool.
        threshold, weak_margin: as for `merge_groups`.

    Returns:
        (n,) int64: each item's group, named by its lowest item.
    """
    n = len(sums)
    reach = lowest_merge(threshold, weak_margin)
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    step = max(1, (1 << 22) // max(n, 1))
    for lo in range(0, n, step):
        i, j = np.nonzero(sums[lo : lo + step] >= reach)
        rows.append(i + lo)
        cols.append(j)
    parts = list(components(n, np.concatenate(rows), np.concatenate(cols)))
    ones = np.ones(n, np.int64)
    if parts and 2 * max(len(p) for p in parts) > n:
        # Mostly one component: the whole matrix, in place, gives the same merges (no
        # pair across components ever reaches the threshold) without copying it.
        return merge_groups(sums, ones, weak, threshold, weak_margin)
    owner = np.arange(n)
    for idx in parts:
        found = merge_groups(sums[np.ix_(idx, idx)], ones[idx], weak[idx], threshold, weak_margin)
        owner[idx] = idx[found]
    return owner


def lowest_merge(threshold: float, weak_margin: float) -> float:
    """The lowest item similarity that may take part in a merge, less REACH_SLACK."""
    return threshold + min(0.0, weak_margin) - REACH_SLACK


def components(n: int, rows: np.ndarray, cols: np.ndarray) -> Iterator[np.ndarray]:
    """The connected components of n items joined by the pairs (rows[k], cols[k]), as
    sorted index arrays, of two items or more (an item alone never merges)."""
    graph = coo_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(n, n))
    return groups(connected_components(graph, directed=False)[1])


def groups(label: np.ndarray) -> Iterator[np.ndarray]:
    """The items of each label, as sorted index arrays, in order of label; only the
    groups of two items or more."""
    order = np.argsort(label, kind="stable")
    bounds = np.flatnonzero(np.diff(label[order])) + 1
    for part in np.split(order, bounds):
        if len(part) > 1:
            yield part


def merge_groups(
    sums: np.ndarray,
    sizes: np.ndarray,
    weak: np.ndarray,
    threshold: float,
    weak_margin: float,
) -> np.ndarray:
    """Merge the best pair of groups while its score is at or above `threshold`.

    A pair's score is its mean similarity, sums[i, j] / (sizes[i] * sizes[j]), less
    `weak_margin` when either group is made only of weak items. The best pair is the
    highest score, the first in row-major order on ties; the merged group keeps the
    lower index, and its cannot-links are the union of both groups' (a NEVER sum
    stays NEVER through sums).

    Args:
        sums: (m, m) float64, C-contiguous: sum of item similarities between groups,
            NEVER on the diagonal and where two groups may not merge. Overwritten.
        sizes: (m,) int64, items in each group.
        weak: (m,) bool, groups made only of weak items.
        threshold: the smallest score at which two groups merge.
        weak_margin: what a weak group's scores lose.

    Returns:
        (m,) int64: the index of the group each group ended in (its lowest index).
    """
    m = len(sums)
    parent = np.arange(m)
    if m < 2:
        return parent
    symmetric = is_symmetric(sums)
    sums = np.ascontiguousarray(sums)  # compaction reuses the buffer
    state = _State(sums, sizes.astype(np.int64), weak.astype(bool), weak_margin, symmetric)
    while True:
        k = int(np.argmax(state.best))
        if state.best[k] < threshold:
            break
        if not state.fresh[k]:
            state.rescan(k)
            continue
        j = int(state.arg[k])
        a, b = min(k, j), max(k, j)
        parent[state.ids[b]] = state.ids[a]
        state.merge(a, b)
    # a < b at every merge, so each parent points down; jump until every item points at its root.
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent
        parent = up


def is_symmetric(matrix: np.ndarray, tile: int = 512) -> bool:
    """Whether a square matrix equals its transpose exactly, compared tile by tile (a
    tile and its mirror stay in cache, where a whole transposed matrix would not)."""
    m = len(matrix)
    for lo in range(0, m, tile):
        for co in range(lo, m, tile):
            if not np.array_equal(
                matrix[lo : lo + tile, co : co + tile], matrix[co : co + tile, lo : lo + tile].T
            ):
                return False
    return True


class _State:
    """The working matrix and each row's best: score, column, and whether it is exact."""

    def __init__(
        self, sums: np.ndarray, sizes: np.ndarray, weak: np.ndarray, margin: float, symmetric: bool
    ) -> None:
        self.sums = sums  # (r, r): the rows still in play
        # float64 sizes: their products (< 2^53) are exact, as the plain loop's int64 ones.
        self.sizes = sizes.astype(np.float64)  # (r,)
        self.weak = weak  # (r,)
        self.margin = margin
        self.symmetric = symmetric
        r = len(sums)
        self.ids = np.arange(r)  # row -> index in the caller's matrix
        self.dead = np.zeros(r, bool)
        self.live = np.ones(r, bool)
        self.n_alive = r
        # What each column's scores lose: the margin where the group is weak, everything
        # (inf) where it merged away. x - 0.0 is x, so this is the plain loop's arithmetic.
        self.loss = np.where(weak, margin, 0.0)
        self.best = np.empty(r, np.float64)  # exact row maximum where fresh, else an upper bound
        self.arg = np.empty(r, np.int64)  # first column of that maximum, where fresh
        self.fresh = np.ones(r, bool)
        unit = bool((self.sizes == 1).all())  # x / 1.0 is x: skip the division
        step = max(1, (1 << 22) // r)  # ~32 MB of scores at a time
        for lo in range(0, r, step):
            part = self.sums[lo : lo + step]
            if not unit:
                part = part / (self.sizes[lo : lo + step, None] * self.sizes)
            block = part - self.loss
            if margin:
                weak_rows = np.flatnonzero(weak[lo : lo + step])
                block[weak_rows] = part[weak_rows] - margin
            self.arg[lo : lo + step] = block.argmax(axis=1)
            self.best[lo : lo + step] = block[np.arange(len(block)), self.arg[lo : lo + step]]

    def scores(self, k: int) -> np.ndarray:
        """(r,) the scores of row k, computed as the plain loop computes them."""
        row = self.sizes * self.sizes[k]
        np.divide(self.sums[k], row, out=row)
        if self.weak[k] and self.margin:
            row -= self.margin
            row[self.dead] = NEVER
        else:
            row -= self.loss
        return row

    def column_scores(self, k: int) -> np.ndarray:
        """(r,) the scores of column k (only needed when the matrix is not symmetric)."""
        col = self.sizes * self.sizes[k]
        np.divide(self.sums[:, k], col, out=col)
        if self.weak[k] and self.margin:
            col -= self.margin
            col[self.dead] = NEVER
        else:
            col -= self.loss
        return col

    def rescan(self, k: int) -> None:
        row = self.scores(k)
        j = int(np.argmax(row))
        self.best[k], self.arg[k], self.fresh[k] = row[j], j, True

    def merge(self, a: int, b: int) -> None:
        """Group b joins group a (a < b)."""
        s = self.sums
        s[a] += s[b]
        if self.symmetric:
            s[:, a] = s[a]  # row and column b are left as they are: `scores` masks them
        else:
            s[:, a] += s[:, b]
            s[b] = NEVER
            s[:, b] = NEVER
        self.sizes[a] += self.sizes[b]
        self.weak[a] &= self.weak[b]
        self.loss[a] = self.margin if self.weak[a] else 0.0
        self.loss[b] = np.inf
        self.dead[b] = True
        self.live[b] = False
        self.n_alive -= 1
        row = self.scores(a)
        col = row if self.symmetric else self.column_scores(a)
        col[b] = NEVER
        # Every other row k sees one changed entry, col[k], and loses column b. A fresh
        # row whose best was a or b and fell is stale: its best is now an upper bound.
        best, arg, fresh = self.best, self.arg, self.fresh
        hit = np.flatnonzero((arg == a) | (arg == b))
        hit = hit[fresh[hit] & (col[hit] < best[hit])]
        fresh[hit] = False
        # Rows where a is now at least the best: a is the (first) best where it is higher,
        # or equal and before the old best column (a or b themselves included).
        rise = np.flatnonzero((col >= best) & self.live)
        rise = rise[(col[rise] > best[rise]) | (arg[rise] >= a)]
        best[rise] = col[rise]
        arg[rise] = a
        j = int(np.argmax(row))
        best[a], arg[a], fresh[a] = row[j], j, True
        best[b], arg[b], fresh[b] = NEVER, -1, True
        if self.n_alive * 2 <= len(s) and len(s) > 64:
            self.compact()

    def compact(self) -> None:
        """Drop spent rows: merged away, or (when symmetric) with nothing left to merge with.

        In place: row i of the smaller matrix is written at the start of the same buffer,
        never over a row still to be read (row i comes from row rows[i] >= i).
        """
        spent = ~self.live | (self.best == NEVER) if self.symmetric else ~self.live
        rows = np.flatnonzero(~spent)
        k, m = len(rows), len(self.sums)
        where = np.full(m, -1, np.int64)
        where[rows] = np.arange(k)
        flat = self.sums.reshape(-1)  # a view: merge_groups made the matrix contiguous
        for i, r in enumerate(rows.tolist()):
            flat[i * k : i * k + k] = flat[r * m : r * m + m][rows]
        self.sums = flat[: k * k].reshape(k, k)
        self.sizes, self.weak, self.ids = self.sizes[rows], self.weak[rows], self.ids[rows]
        self.loss = self.loss[rows]
        self.best, self.fresh = self.best[rows], self.fresh[rows]
        self.arg = where[self.arg[rows]]  # a fresh row's best column is always kept
        self.live = np.ones(k, bool)
        self.dead = np.zeros(k, bool)
        self.n_alive = k
