"""scripts/eval.py's scoring on hand-made labels, and one tiny story built and scored
with the real pipeline (slow; needs ../shared/media)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.eval import (
    IGNORE,
    TruthIndex,
    bcubed,
    identity_switches,
    iou,
    majority,
    score_findings,
)
from tests.generated import needs_media


def test_bcubed_perfect_split_and_merge() -> None:
    assert bcubed(["a", "a", "b"], ["x", "x", "y"]) == (1.0, 1.0, 1.0)
    # everything merged into one character: recall 1, precision falls
    p, r, f1 = bcubed(["c", "c", "c", "c"], ["x", "x", "y", "y"])
    assert (p, r) == (0.5, 1.0)
    assert f1 == pytest.approx(2 / 3)
    # one person split into two characters
    p, r, _ = bcubed(["a", "a", "b", "b"], ["x", "x", "x", "x"])
    assert (p, r) == (1.0, 0.5)


def test_bcubed_by_hand() -> None:
    # items: x x y | y   (three predicted in one cluster, one alone)
    p, r, _ = bcubed(["a", "a", "a", "b"], ["x", "x", "y", "y"])
    assert p == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert r == pytest.approx((1 + 1 + 1 / 2 + 1 / 2) / 4)
    with pytest.raises(ValueError, match="one label per item"):
        bcubed(["a"], [])


def test_iou() -> None:
    assert iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert iou([0, 0, 10, 10], [10, 10, 20, 20]) == 0.0
    assert iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)


def truth() -> dict[str, object]:
    return {
        "appearances": [
            {
                "identity": "ann",
                "clip": 1,
                "shot": 1,
                "frames": [[0, 0, 0, 10, 10], [5, 1, 0, 11, 10]],
            },
            {
                "identity": "bob",
                "clip": 1,
                "shot": 1,
                "frames": [[0, 50, 0, 60, 10], [5, 8, 0, 18, 10]],
            },
            {
                "identity": "cy",
                "clip": 2,
                "shot": 2,
                "start": 0,
                "end": 9,
                "region": [0, 0, 100, 100],
            },
        ],
        "ignore": [{"clip": 2, "start": 10, "end": 20, "region": [0, 0, 640, 360]}],
    }


def test_truth_labels_by_iou_region_and_ignore() -> None:
    index = TruthIndex(truth())
    assert index.label(1, 0, [1, 0, 11, 10]) == ("ann", 1)
    assert index.label(1, 0, [50, 0, 61, 10]) == ("bob", 1)
    # at frame 5 bob's box overlaps ann's place more than ann's own does
    assert index.label(1, 5, [7, 0, 17, 10]) == ("bob", 1)
    assert index.label(1, 0, [200, 200, 210, 210]) is None  # nobody there
    assert index.label(1, 3, [0, 0, 10, 10]) is None  # no truth on frame 3
    assert index.label(2, 4, [40, 40, 60, 60]) == ("cy", 2)
    assert index.label(2, 12, [40, 40, 60, 60]) == (IGNORE, 0)
    assert index.keys == {("ann", 1, 1), ("bob", 1, 1), ("cy", 2, 2)}


def test_majority_and_identity_switches() -> None:
    a, b = ("ann", 1), ("bob", 1)
    assert majority([None, b, a, a, None]) == a
    assert majority([b, a]) == b  # a tie goes to the first seen
    assert majority([None, None]) is None
    assert identity_switches([a, a, None, a]) == 0
    assert identity_switches([a, a, b, b, a]) == 2
    assert identity_switches([a, (IGNORE, 0), a]) == 0


def test_findings_precision_recall_and_allowed() -> None:
    expected = [
        {"kind": "identity_swap", "clip": 3, "identity": "ann"},
        {"kind": "identity_drift", "clip": 5, "identity": "ann"},
    ]
    allowed = [{"kind": "uncertain_identity", "clip": None, "identity": "bob"}]
    reported = [
        ("identity_swap", 3, "ann"),  # true
        ("identity_swap", 3, "ann"),  # the same swap twice: the second is false
        ("identity_drift", 4, "ann"),  # wrong clip: false, and clip 5's is missed
        ("uncertain_identity", 2, "bob"),  # allowed: neither
        ("uncertain_identity", 2, "ann"),  # not allowed for ann: false
        ("identity_drift", 2, IGNORE),  # on someone in an ignored region: not scored
    ]
    scores, status, missed = score_findings(reported, expected, allowed)
    assert status == ["tp", "fp", "fp", "allowed", "fp", "allowed"]
    assert missed == [expected[1]]
    swap, drift, unsure = (
        scores["identity_swap"],
        scores["identity_drift"],
        scores["uncertain_identity"],
    )
    assert (swap.tp, swap.fp, swap.fn) == (1, 1, 0)
    assert swap.precision == 0.5 and swap.recall == 1.0
    assert (drift.tp, drift.fp, drift.fn, drift.allowed) == (0, 1, 1, 1)
    assert drift.recall == 0.0
    assert (unsure.tp, unsure.fp, unsure.allowed) == (0, 1, 1)
    assert unsure.recall is None


@needs_media
@pytest.mark.slow
@pytest.mark.media
def test_tiny_story_truth_lines_up_with_the_detector(tmp_path: Path) -> None:
    """A two-clip story of two people built like the eval's: every truth appearance is
    found, each track lands on its truth boxes, and the cast is two characters. Fails
    when the truth boxes and the composed frames disagree."""
    from drift_audit.config import AuditConfig
    from drift_audit.errors import InputError
    from drift_audit.pipeline import audit
    from scripts.eval import score_story, story_json
    from scripts.stories import (
        RED,
        Scene,
        Truth,
        clip_paths,
        photo_clip,
        photo_sprite,
        scene_clip,
        still,
    )

    t = Truth("tiny", "", "", "pass")
    _, obama = photo_sprite("faces/obama/obama2.jpg")
    _, biden = photo_sprite("faces/biden/biden2.jpg")
    scene = Scene(
        [still("obama", obama, 200, 150, 100), still("biden", biden, 440, 150, 100, RED)], 1.2
    )
    scene_clip(tmp_path / "clip1.mp4", [scene], t, 1, seed=1)
    photo_clip(tmp_path / "clip2.mp4", [("group/obama_biden_1.jpg", 1.2)], t, 2)
    truth = t.to_json()
    paths: list[Path | InputError] = list(clip_paths(tmp_path, truth))
    report = audit(paths, AuditConfig(embedder="dlib", cache_dir=tmp_path / "cache"))
    result = story_json(score_story("tiny", truth, report))
    assert result["missed_appearances"] == 0
    assert result["unmatched_tracks"] == 0
    assert result["identity_switches"] == 0
    assert result["identities"] == 2
    assert result["bcubed"]["f1"] == 1.0
    assert result["verdict"] == "pass"
