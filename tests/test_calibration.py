"""The threshold read from the footage's known negatives."""

from __future__ import annotations

import numpy as np
import pytest

from drift_audit.identity.calibration import CEILING, MIN_NEGATIVES, calibrate
from drift_audit.identity.characters import Metric

METRIC = Metric(
    similarity=lambda a, b: (a @ b.T).astype(np.float32),
    centroid=lambda v: v.mean(axis=0),
    threshold=0.4,
    uncertain_margin=0.06,
)


def pairs_at(cosines: list[float]) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Unit vectors in pairs (2k, 2k+1) whose cosine is cosines[k]."""
    vectors = []
    for c in cosines:
        vectors += [[1.0, 0.0], [c, np.sqrt(1 - c * c)]]
    n = len(cosines)
    return np.array(vectors, np.float32), (np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2))


def test_photo_real_strangers_leave_the_threshold_alone() -> None:
    vectors, pairs = pairs_at(list(np.linspace(0.0, 0.3, 20)))
    cal = calibrate(METRIC, vectors, pairs)
    assert cal.negative_pairs == 20 and cal.threshold == 0.4
    assert cal.high == pytest.approx(np.quantile(np.linspace(0.0, 0.3, 20), 0.95), abs=1e-5)
    assert "it stands" in cal.reason


def test_strangers_that_look_alike_raise_the_threshold_above_them() -> None:
    """Stylized footage: different characters at 0.37-0.43 against a threshold of 0.40."""
    sims = list(np.linspace(0.37, 0.43, 20))
    vectors, pairs = pairs_at(sims)
    cal = calibrate(METRIC, vectors, pairs)
    assert cal.threshold == pytest.approx(np.quantile(sims, 0.95) + 0.06, abs=1e-5)
    assert cal.measured_threshold == 0.4 and "raised to" in cal.reason


def test_too_few_negatives_say_nothing() -> None:
    vectors, pairs = pairs_at([0.6] * (MIN_NEGATIVES - 1))
    cal = calibrate(METRIC, vectors, pairs)
    assert cal.threshold == 0.4 and "too few" in cal.reason


def test_cast_references_count_as_negatives() -> None:
    cast = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 0.2, 6)], np.float32)
    vectors, pairs = pairs_at([])
    cal = calibrate(METRIC, vectors, pairs, cast)
    assert cal.negative_pairs == 15 and cal.threshold > 0.9 - 1e-6


def test_the_raise_stops_at_the_ceiling_and_a_set_threshold_never_moves() -> None:
    vectors, pairs = pairs_at([0.95] * 20)
    assert calibrate(METRIC, vectors, pairs).threshold == CEILING
    fixed = calibrate(METRIC, vectors, pairs, fixed=True)
    assert fixed.threshold == 0.4 and fixed.reason == "set by --threshold"


def test_different_needs_the_measured_lower_margin() -> None:
    from drift_audit.identity.characters import clip_verdict
    from drift_audit.identity.embedders.dlib import DlibEmbedder

    t, up, down = DlibEmbedder.threshold, DlibEmbedder.uncertain_margin, 0.08
    assert DlibEmbedder.different_margin == down
    # make calibrate: the highest different-person similarity measured is 0.326, so a
    # fail starts below 0.32; 0.33 (a watercolour of the same man) is uncertain.
    assert clip_verdict(0.33, 1.0, t, up, None, down) == "uncertain"
    assert clip_verdict(0.31, 1.0, t, up, None, down) == "different"
    assert clip_verdict(0.33, 1.0, t, up, None) == "different"  # the symmetric margin
    assert clip_verdict(0.31, 0.1, t, up, None, down) == "uncertain"  # thin evidence
    assert clip_verdict(t + up, 1.0, t, up, None, down) == "same"
