"""The same-person threshold, read from the footage itself.

An embedder's threshold is measured on photos. Stylized renders, animation and low
resolution pull different people closer together: on one animated clip different
characters ran 0.37-0.43 with dlib, whose measured threshold is 0.40, so strangers
merged. The footage says how close its strangers are: two tracks that share a frame
are two people, and so are two different cast references. When the high end of
those similarities comes within the embedder's margin of the threshold, the
threshold in force is raised to sit that margin above it.
"""

from __future__ import annotations

import numpy as np

from drift_audit.identity.characters import Metric
from drift_audit.types import Calibration

MIN_NEGATIVES = 10
"""Fewer pairs of different people than this say too little: the measured threshold stands."""

QUANTILE = 0.95
"""The high end of the negatives' similarities: robust to one odd pair."""

CEILING = 0.9
"""The highest threshold calibration may set; at that point the footage's faces say
little about identity, and the report says so."""

_CHUNK = 64  # pairs per call: the similarity builds a _CHUNK x _CHUNK block for its diagonal


def pair_similarities(
    metric: Metric, vectors: np.ndarray, i: np.ndarray, j: np.ndarray
) -> np.ndarray:
    """(len(i),) similarity of vectors[i[k]] and vectors[j[k]], without an n x n matrix."""
    out = np.empty(len(i), np.float64)
    for start in range(0, len(i), _CHUNK):
        a, b = vectors[i[start : start + _CHUNK]], vectors[j[start : start + _CHUNK]]
        out[start : start + len(a)] = np.diagonal(metric.similarity(a, b))
    return out


def calibrate(
    metric: Metric,
    vectors: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    cast: np.ndarray | None = None,
    fixed: bool = False,
) -> Calibration:
    """The threshold in force, and why.

    Args:
        metric: the embedder's similarity, threshold and margin.
        vectors: (n, d) one centroid per track.
        pairs: (i, j) index arrays of track pairs known to be different people.
        cast: (m, d) cast reference embeddings, each a different person; or None.
        fixed: the user set the threshold (--threshold): it is reported, not moved.
    """
    negatives = [pair_similarities(metric, vectors, *pairs)] if len(pairs[0]) else []
    if cast is not None and len(cast) > 1:
        ci, cj = np.triu_indices(len(cast), 1)
        negatives.append(pair_similarities(metric, cast, ci, cj))
    sims = np.concatenate(negatives) if negatives else np.zeros(0)
    n = len(sims)
    high = float(np.quantile(sims, QUANTILE)) if n else None
    measured = metric.threshold
    where = f"{n} pair(s) of different people (tracks that share a frame, cast references)"
    if fixed:
        return Calibration(n, QUANTILE, high, measured, measured, "set by --threshold")
    if high is None or n < MIN_NEGATIVES:
        reason = (
            f"{where}: too few to read the footage (fewer than {MIN_NEGATIVES}); "
            "the measured threshold stands"
        )
        return Calibration(n, QUANTILE, high, measured, measured, reason)
    raised = high + metric.uncertain_margin
    if raised <= measured:
        reason = (
            f"{where}: their similarities reach {high:.2f} ({QUANTILE:.0%} quantile), "
            f"more than the margin {metric.uncertain_margin:.2f} below the threshold; it stands"
        )
        return Calibration(n, QUANTILE, high, measured, measured, reason)
    threshold = min(raised, CEILING)
    reason = (
        f"{where}: their similarities reach {high:.2f} ({QUANTILE:.0%} quantile), within "
        f"the margin {metric.uncertain_margin:.2f} of the measured threshold "
        f"{measured:.2f} (stylized, animated or low-resolution faces look alike); "
        f"raised to {threshold:.2f}"
        + ("; at the ceiling: these faces say little about identity" if raised > CEILING else "")
    )
    return Calibration(n, QUANTILE, high, measured, threshold, reason)
