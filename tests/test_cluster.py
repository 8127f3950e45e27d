"""cluster(): average-linkage merging with cannot-link constraints and weak items."""

from __future__ import annotations

import numpy as np

from drift_audit.identity.cluster import cluster


def sims(n: int, pairs: dict[tuple[int, int], float], default: float = 0.0) -> np.ndarray:
    """(n, n) symmetric similarities, 1 on the diagonal."""
    out = np.full((n, n), default, np.float64)
    np.fill_diagonal(out, 1.0)
    for (i, j), value in pairs.items():
        out[i, j] = out[j, i] = value
    return out


def no_links(n: int) -> np.ndarray:
    return np.zeros((n, n), bool)


def links(n: int, *pairs: tuple[int, int]) -> np.ndarray:
    out = no_links(n)
    for i, j in pairs:
        out[i, j] = out[j, i] = True
    return out


def test_empty_input_gives_no_labels() -> None:
    labels = cluster(np.zeros((0, 0)), np.zeros((0, 0), bool), 0.5)
    assert labels.shape == (0,)
    assert labels.dtype == np.int64


def test_merges_above_threshold_and_keeps_apart_below() -> None:
    s = sims(4, {(0, 2): 0.8, (1, 3): 0.49, (0, 1): 0.1})
    assert cluster(s, no_links(4), 0.5).tolist() == [0, 1, 0, 2]


def test_similarity_equal_to_threshold_merges() -> None:
    assert cluster(sims(2, {(0, 1): 0.5}), no_links(2), 0.5).tolist() == [0, 0]


def test_average_linkage_not_single_linkage() -> None:
    # After 0 and 1 merge, item 2 is close to 0 but far from 1: average 0.5 < 0.6.
    s = sims(3, {(0, 1): 0.9, (0, 2): 0.8, (1, 2): 0.2})
    assert cluster(s, no_links(3), 0.6).tolist() == [0, 0, 1]


def test_chain_merges_when_the_average_holds() -> None:
    s = sims(3, {(0, 1): 0.9, (1, 2): 0.85, (0, 2): 0.7})
    assert cluster(s, no_links(3), 0.6).tolist() == [0, 0, 0]


def test_cannot_link_holds_even_at_high_similarity() -> None:
    s = sims(2, {(0, 1): 0.99})
    assert cluster(s, links(2, (0, 1)), 0.5).tolist() == [0, 1]


def test_cannot_link_holds_through_merges() -> None:
    # 1 and 2 merge first (0.95); 0 may not join them because 0 and 2 cannot link,
    # although 0 is very close to 1.
    s = sims(3, {(0, 1): 0.9, (1, 2): 0.95, (0, 2): 0.9})
    labels = cluster(s, links(3, (0, 2)), 0.5)
    assert labels.tolist() == [0, 1, 1]


def test_cannot_link_from_the_merged_away_group_is_inherited() -> None:
    # 2 and 3 merge into the group kept under index 2; the constraint 3-0 must follow.
    s = sims(4, {(2, 3): 0.99, (0, 2): 0.9, (0, 3): 0.9, (1, 0): 0.0})
    labels = cluster(s, links(4, (0, 3)), 0.5)
    assert labels[0] != labels[2]
    assert labels[2] == labels[3]


def test_weak_items_need_threshold_plus_margin() -> None:
    s = sims(2, {(0, 1): 0.65})
    weak = np.array([True, True])
    assert cluster(s, no_links(2), 0.6, weak, 0.1).tolist() == [0, 1]
    assert cluster(s, no_links(2), 0.6, np.array([False, False]), 0.1).tolist() == [0, 0]
    assert cluster(s, no_links(2), 0.6, None, 0.1).tolist() == [0, 0]
    strong_enough = sims(2, {(0, 1): 0.71})
    assert cluster(strong_enough, no_links(2), 0.6, weak, 0.1).tolist() == [0, 0]


def test_weak_item_joins_a_strong_group_only_above_the_margin() -> None:
    s = sims(2, {(0, 1): 0.65})
    assert cluster(s, no_links(2), 0.6, np.array([False, True]), 0.1).tolist() == [0, 1]


def test_group_with_a_strong_item_is_no_longer_weak() -> None:
    # 0 (strong) and 1 (weak) merge at 0.95; 2 (strong) joins them at average 0.65,
    # which is enough because neither group is made only of weak items.
    s = sims(3, {(0, 1): 0.95, (0, 2): 0.65, (1, 2): 0.65})
    weak = np.array([False, True, False])
    assert cluster(s, no_links(3), 0.6, weak, 0.1).tolist() == [0, 0, 0]


def test_labels_are_numbered_by_lowest_item_index() -> None:
    s = sims(5, {(4, 1): 0.9, (3, 0): 0.9, (2, 4): 0.9, (1, 2): 0.9})
    assert cluster(s, no_links(5), 0.5).tolist() == [0, 1, 1, 0, 1]


def test_deterministic_on_ties() -> None:
    rng = np.random.default_rng(0)
    s = np.round(rng.uniform(-1, 1, (12, 12)), 1)
    s = (s + s.T) / 2
    np.fill_diagonal(s, 1.0)
    cl = links(12, (0, 5), (3, 7))
    first = cluster(s, cl, 0.3)
    for _ in range(3):
        assert cluster(s.copy(), cl.copy(), 0.3).tolist() == first.tolist()
    assert first[0] == 0
    assert sorted(set(first.tolist())) == list(range(first.max() + 1))


def test_inputs_are_not_modified() -> None:
    s = sims(3, {(0, 1): 0.9, (1, 2): 0.9})
    cl = links(3, (0, 2))
    weak = np.array([True, False, True])
    before = (s.copy(), cl.copy(), weak.copy())
    cluster(s, cl, 0.5, weak, 0.1)
    assert np.array_equal(s, before[0])
    assert np.array_equal(cl, before[1])
    assert np.array_equal(weak, before[2])
