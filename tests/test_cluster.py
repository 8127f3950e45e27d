"""cluster(): average-linkage merging with cannot-link constraints and weak items;
cluster_vectors() at scale; cannot-links from frames."""

from __future__ import annotations

import numpy as np
import pytest

from drift_audit.identity.cluster import (
    cannot_link,
    cannot_link_pairs,
    cluster,
    cluster_vectors,
    first_appearance,
)
from drift_audit.identity.embedders.dlib import DlibEmbedder
from drift_audit.identity.linkage import components, lowest_merge, merge_groups
from drift_audit.identity.scale import candidate_components, similarity_matrix
from drift_audit.identity.two_stage import _Across
from drift_audit.types import FaceCrops, Faces, Track


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


# The plain loop this module replaced (O(n^2) work per merge): the definition that
# cluster() and cluster_vectors() must reproduce exactly. scripts/identity_scale.py
# compares against it too.
def reference_cluster(
    similarity: np.ndarray,
    cannot_link: np.ndarray,
    threshold: float,
    weak: np.ndarray | None = None,
    weak_margin: float = 0.0,
) -> np.ndarray:
    n = len(similarity)
    if n == 0:
        return np.zeros(0, np.int64)
    sums = similarity.astype(np.float64).copy()
    sizes = np.ones(n, np.int64)
    blocked = cannot_link.astype(bool).copy()
    alive = np.ones(n, bool)
    owner = np.arange(n)
    all_weak = np.zeros(n, bool) if weak is None else weak.astype(bool).copy()
    np.fill_diagonal(blocked, True)
    while True:
        mean = sums / np.outer(sizes, sizes)
        mean = mean - weak_margin * (all_weak[:, None] | all_weak[None, :])
        mean[blocked] = -np.inf
        mean[~alive, :] = -np.inf
        mean[:, ~alive] = -np.inf
        flat = int(np.argmax(mean))
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


def reference_cannot_link(tracks: list[Track]) -> np.ndarray:
    n = len(tracks)
    blocked = np.zeros((n, n), bool)
    frames = [set(t.faces.frame.tolist()) for t in tracks]
    for i in range(n):
        for j in range(i + 1, n):
            if tracks[i].clip == tracks[j].clip and frames[i] & frames[j]:
                blocked[i, j] = blocked[j, i] = True
    return blocked


def random_instance(
    rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    """Items around a few centres, some similarities rounded (ties), random cannot-links,
    weak items, a threshold and a margin (sometimes 0, once negative)."""
    k = int(rng.integers(1, max(2, n // 3) + 1))
    x = rng.normal(size=(k, 8))[rng.integers(0, k, n)]
    x += rng.normal(scale=rng.uniform(0.2, 1.5), size=(n, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    s = x @ x.T
    if rng.random() < 0.3:
        s = np.round(s, 1)
    if rng.random() < 0.2:
        s = s.astype(np.float32)
    blocked = no_links(n)
    i, j = rng.integers(0, n, (2, int(rng.integers(0, n + 1))))
    blocked[i, j] = blocked[j, i] = True
    np.fill_diagonal(blocked, False)
    weak = rng.random(n) < rng.uniform(0, 0.6)
    margin = float(rng.choice([0.0, 0.05, 0.12, -0.05]))
    return s, blocked, float(rng.uniform(0.0, 0.9)), weak, margin


def test_same_labels_as_the_plain_loop_on_random_instances() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        s, blocked, threshold, weak, margin = random_instance(rng, int(rng.integers(5, 61)))
        want = reference_cluster(s, blocked, threshold, weak, margin)
        assert cluster(s, blocked, threshold, weak, margin).tolist() == want.tolist()


def test_same_labels_as_the_plain_loop_when_the_matrix_is_compacted() -> None:
    # Over 64 rows, merge_groups drops spent rows once half have merged away.
    rng = np.random.default_rng(12)
    for _ in range(8):
        s, blocked, threshold, weak, margin = random_instance(rng, int(rng.integers(100, 200)))
        threshold = float(rng.uniform(0.0, 0.5))  # many merges
        want = reference_cluster(s, blocked, threshold, weak, margin)
        assert cluster(s, blocked, threshold, weak, margin).tolist() == want.tolist()


def test_same_labels_as_the_plain_loop_on_an_asymmetric_matrix() -> None:
    # The plain loop reads both triangles; so does merge_groups when they differ.
    rng = np.random.default_rng(13)
    for _ in range(40):
        s, blocked, threshold, weak, margin = random_instance(rng, int(rng.integers(5, 80)))
        s = s + rng.normal(scale=0.01, size=s.shape)
        want = reference_cluster(s, blocked, threshold, weak, margin)
        assert cluster(s, blocked, threshold, weak, margin).tolist() == want.tolist()


def test_merge_groups_names_each_group_by_its_lowest_index() -> None:
    s = sims(4, {(0, 3): 0.9, (1, 2): 0.8}).astype(np.float64)
    np.fill_diagonal(s, -np.inf)
    assert merge_groups(s, np.ones(4, np.int64), np.zeros(4, bool), 0.5, 0.0).tolist() == [
        0,
        1,
        1,
        0,
    ]


def test_components_are_the_connected_parts_of_two_or_more() -> None:
    rows = np.array([0, 5, 2, 7, 3])
    cols = np.array([5, 9, 7, 2, 8])
    got = [part.tolist() for part in components(10, rows, cols)]
    assert sorted(got) == [[0, 5, 9], [2, 7], [3, 8]]  # 1, 4 and 6 are alone: left out


def test_components_do_not_change_labels() -> None:
    # Two groups far apart, each with its own merges: the result is the plain loop's,
    # here where its first pair (row-major) is in the second group.
    s = sims(6, {(3, 4): 0.99, (0, 1): 0.9, (1, 2): 0.7, (0, 2): 0.7, (4, 5): 0.6, (3, 5): 0.6})
    got = cluster(s, no_links(6), 0.5)
    assert got.tolist() == reference_cluster(s, no_links(6), 0.5).tolist() == [0, 0, 0, 1, 1, 1]


def test_rejects_a_similarity_that_is_not_finite() -> None:
    s = sims(3, {(0, 1): np.nan})
    with pytest.raises(ValueError, match="finite"):
        cluster(s, no_links(3), 0.5)


def test_rejects_shapes_that_do_not_match() -> None:
    with pytest.raises(ValueError, match=r"cannot_link must be \(3, 3\)"):
        cluster(sims(3, {}), no_links(2), 0.5)


def dlib_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return DlibEmbedder.similarity(None, a, b)  # type: ignore[arg-type]


def people(
    rng: np.random.Generator, n: int, k: int, spread: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n dlib-like vectors of k people (distance ~0.8 between people), cannot-links
    between different people, weak items."""
    who = rng.integers(0, k, n)
    centres = rng.normal(size=(k, 128)) * (0.55 / np.sqrt(128))
    x = centres[who] + rng.normal(size=(n, 128)) * (spread / np.sqrt(128))
    i, j = rng.integers(0, n, (2, n))
    keep = who[i] != who[j]
    pairs = np.unique(np.sort(np.stack([i[keep], j[keep]], 1), axis=1), axis=0)
    return x.astype(np.float32), pairs, rng.random(n) < 0.2


def dense(pairs: np.ndarray, n: int) -> np.ndarray:
    out = no_links(n)
    out[pairs[:, 0], pairs[:, 1]] = out[pairs[:, 1], pairs[:, 0]] = True
    return out


def test_cluster_vectors_equals_cluster_of_the_full_matrix() -> None:
    rng = np.random.default_rng(14)
    for n, k in [(300, 4), (1500, 12)]:  # 1500: more than one tile of the matrix
        x, pairs, weak = people(rng, n, k, 0.35)
        want = cluster(dlib_similarity(x, x), dense(pairs, n), 0.4, weak, 0.12)
        assert cluster_vectors(x, dlib_similarity, pairs, 0.4, weak, 0.12).tolist() == want.tolist()


def test_candidate_components_hold_every_pair_that_may_merge() -> None:
    # The float32 test, with its margin, may only join components: each exact
    # component (pairs >= the lowest merging score) lies inside one candidate component.
    rng = np.random.default_rng(21)
    x, _, _ = people(rng, 3000, 40, 0.4)
    reach = lowest_merge(0.4, 0.12)
    s = dlib_similarity(x, x)
    np.fill_diagonal(s, -1.0)
    rows, cols = np.nonzero(s >= reach)
    label = candidate_components(x, dlib_similarity, reach, "euclidean")
    exact = list(components(3000, rows, cols))
    assert exact and all(len(set(label[part].tolist())) == 1 for part in exact)
    alone = 3000 - sum(len(part) for part in exact)
    assert len(set(label.tolist())) >= 0.9 * (len(exact) + alone)  # and joins little else
    generic = candidate_components(x, dlib_similarity, reach, None)  # calls the similarity
    assert all(len(set(generic[part].tolist())) == 1 for part in exact)


def test_the_tiled_matrix_equals_one_call() -> None:
    # Tiles, and mirrored tiles below the diagonal: the same float32 values as one call.
    x, _, _ = people(np.random.default_rng(20), 2500, 20, 0.35)
    assert np.array_equal(similarity_matrix(x, dlib_similarity, True), dlib_similarity(x, x))


def test_cluster_vectors_beyond_the_dense_limit_is_exact_per_component() -> None:
    # People far apart (no pair of two people near the threshold): one component each,
    # every one under the limit, so no two-stage clustering and the same labels.
    rng = np.random.default_rng(15)
    x, pairs, weak = people(rng, 900, 9, 0.25)
    want = cluster(dlib_similarity(x, x), dense(pairs, 900), 0.4, weak, 0.12)
    got = cluster_vectors(x, dlib_similarity, pairs, 0.4, weak, 0.12, dense_limit=200)
    assert got.tolist() == want.tolist()


def test_cluster_vectors_two_stage_keeps_cannot_links_and_finds_the_people() -> None:
    # One component of 600 over a limit of 150: blocks, then merges across blocks.
    rng = np.random.default_rng(16)
    x, pairs, weak = people(rng, 600, 3, 0.3)
    x[:, 0] += np.linspace(0, 1e-3, 600, dtype=np.float32)  # no two vectors equal
    want = cluster(dlib_similarity(x, x), dense(pairs, 600), 0.4, weak, 0.12)
    got = cluster_vectors(x, dlib_similarity, pairs, 0.4, weak, 0.12, dense_limit=150)
    assert not (got[pairs[:, 0]] == got[pairs[:, 1]]).any()
    agree = (got[:, None] == got[None, :]) == (want[:, None] == want[None, :])
    assert agree.mean() > 0.99


def test_the_stage_across_blocks_is_average_linkage() -> None:
    # Started from single items, the second stage alone (groups scored only where their
    # means allow the threshold, sums computed as needed) makes the plain loop's merges.
    rng = np.random.default_rng(22)
    for n, k in [(200, 3), (400, 8)]:
        x, pairs, weak = people(rng, n, k, 0.4)
        want = cluster(dlib_similarity(x, x), dense(pairs, n), 0.4, weak, 0.12)
        stage = _Across(x, dlib_similarity, "euclidean", pairs, weak, np.arange(n), 0.4, 0.12)
        assert first_appearance(stage.run()).tolist() == want.tolist()


def test_cluster_vectors_with_a_cosine_similarity() -> None:
    rng = np.random.default_rng(17)
    x = rng.normal(size=(400, 16)) + 3 * rng.normal(size=(5, 16))[rng.integers(0, 5, 400)]
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T).astype(np.float32)

    none = np.zeros((0, 2), np.int64)
    want = cluster(cosine(x, x), no_links(400), 0.5)
    assert cluster_vectors(x, cosine, none, 0.5).tolist() == want.tolist()
    got = cluster_vectors(x, cosine, none, 0.5, dense_limit=100)  # two stages
    agree = (got[:, None] == got[None, :]) == (want[:, None] == want[None, :])
    assert agree.mean() > 0.99


def test_cluster_vectors_with_another_similarity_is_exact_at_any_size() -> None:
    # Neither 1 - distance nor a dot product: no bound to cluster in two stages with,
    # so each component is clustered whole, whatever dense_limit says.
    rng = np.random.default_rng(19)
    x = rng.normal(size=(300, 4)) + 4 * rng.normal(size=(3, 4))[rng.integers(0, 3, 300)]

    def manhattan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return 1.0 - np.abs(a[:, None, :] - b[None, :, :]).sum(-1) / 8.0

    none = np.zeros((0, 2), np.int64)
    want = cluster(manhattan(x, x), no_links(300), 0.5)
    assert cluster_vectors(x, manhattan, none, 0.5, dense_limit=50).tolist() == want.tolist()


def track(clip: int, frames: list[int]) -> Track:
    m = len(frames)
    faces = Faces(
        np.array(frames, np.int64),
        np.zeros((m, 4), np.float32),
        np.ones(m, np.float32),
        np.zeros((m, 5, 2), np.float32),
    )
    return Track(clip, 0, faces, FaceCrops.empty(), np.ones(max(m, 1), np.float32))


def test_cannot_link_pairs_from_shared_frames() -> None:
    tracks = [
        track(0, [0, 1, 2, 3]),
        track(0, [3, 4]),  # shares 3 with the first
        track(0, [5, 6]),
        track(1, [0, 1]),  # same frames as the first, other clip
        track(0, [0, 2]),  # inside the first's interval and frames
        track(0, [1, 3]),  # between 0 and 2: shares 1 and 3 with the first, none with the last
        track(0, []),
    ]
    assert cannot_link_pairs(tracks).tolist() == [[0, 1], [0, 4], [0, 5], [1, 5]]


def test_cannot_link_pairs_need_a_shared_frame_not_an_overlap() -> None:
    # Interleaved frames (a gap in each): the intervals overlap, the frames do not.
    assert cannot_link_pairs([track(0, [0, 2, 4]), track(0, [1, 3, 5])]).tolist() == []


def test_tracks_whose_boxes_overlap_where_they_meet_are_not_two_people() -> None:
    def boxed(frames: list[int], x: float) -> Track:
        t = track(0, frames)
        t.faces.xyxy[:] = [x, 100, x + 60, 160]
        return t

    handed_over = [boxed([0, 5, 10, 15], 100.0), boxed([15, 20, 25], 104.0)]  # one face
    assert cannot_link_pairs(handed_over).tolist() == []
    side_by_side = [boxed([0, 5, 10, 15], 100.0), boxed([15, 20, 25], 300.0)]  # two people
    assert cannot_link_pairs(side_by_side).tolist() == [[0, 1]]
    # Crossing: the boxes overlap at the first shared frame, lie apart at a later one.
    crossing = [boxed([0, 5, 10, 15], 100.0), boxed([5, 10], 110.0)]
    crossing[1].faces.xyxy[1] = [400, 100, 460, 160]
    assert cannot_link_pairs(crossing).tolist() == [[0, 1]]


def test_cannot_link_pairs_equal_the_double_loop() -> None:
    rng = np.random.default_rng(18)
    for _ in range(20):
        tracks = []
        for _ in range(int(rng.integers(0, 40))):
            start = int(rng.integers(0, 60))
            frames = np.arange(start, start + int(rng.integers(1, 30)), int(rng.integers(1, 3)))
            frames = frames[rng.random(len(frames)) < 0.8]  # gaps
            tracks.append(track(int(rng.integers(0, 3)), frames.tolist()))
        want = reference_cannot_link(tracks)
        assert np.array_equal(cannot_link(tracks), want)
        assert cannot_link_pairs(tracks).tolist() == np.argwhere(np.triu(want)).tolist()
