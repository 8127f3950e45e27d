"""build_characters and findings on hand-made tracks, with a cosine Metric."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drift_audit.cli import main
from drift_audit.faces.crop import crop_faces
from drift_audit.identity.characters import Metric, build_characters
from drift_audit.identity.evidence import best_face, timecode, two
from drift_audit.identity.findings import findings
from drift_audit.script import Script, ScriptEntry
from drift_audit.types import (
    CROP_SIZE,
    Character,
    ClipResult,
    FaceCrops,
    Faces,
    Finding,
    Glitch,
    Report,
    Shot,
    Track,
    VideoInfo,
)
from tests.generated import MEDIA, needs_media

DIM = 4
THRESHOLD = 0.5
MARGIN = 0.1
FPS = 10.0


def normalise(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


METRIC = Metric(
    similarity=lambda a, b: (a @ b.T).astype(np.float32),
    centroid=lambda v: normalise(v.mean(axis=0)),
    threshold=THRESHOLD,
    uncertain_margin=MARGIN,
)


def e(i: int) -> np.ndarray:
    out = np.zeros(DIM, np.float32)
    out[i] = 1.0
    return out


def near_e0(cos: float) -> np.ndarray:
    """A unit vector whose cosine to e(0) is `cos`."""
    return np.array([cos, np.sqrt(1 - cos * cos), 0, 0], np.float32)


def track(clip: int, shot: int, frames: list[int], vector: np.ndarray, n_emb: int = 2) -> Track:
    n = len(frames)
    faces = Faces(
        frame=np.array(frames, np.int64),
        xyxy=np.tile(np.array([10, 10, 130, 130], np.float32), (n, 1)),  # a lead's 120 px
        score=np.full(n, 0.99, np.float32),
        landmarks=np.zeros((n, 5, 2), np.float32),
    )
    crops = FaceCrops(
        np.zeros((n_emb, CROP_SIZE, CROP_SIZE, 3), np.uint8), np.zeros((n_emb, 5, 2), np.float32)
    )
    t = Track(clip, shot, faces, crops, np.full(n_emb, 0.8, np.float32))
    t.embeddings = np.tile(vector.astype(np.float32), (n_emb, 1))
    return t


def clip(index: int, glitches: list[Glitch] | None = None) -> ClipResult:
    info = VideoInfo(f"clip{index}.mp4", FPS, 100, 64, 48, "mp4v", "opencv")
    return ClipResult(index=index, path=info.path, info=info, glitches=glitches or [])


def audit(
    tracks: list[Track],
    labels: list[int],
    n_clips: int = 2,
    cast: dict[str, np.ndarray] | None = None,
    clips: dict[int, ClipResult] | None = None,
) -> tuple[list[Character], list[Finding]]:
    clips = clips or {i: clip(i) for i in range(1, n_clips + 1)}
    cast = cast or {}
    characters = build_characters(tracks, np.array(labels), clips, METRIC, cast)
    return characters, findings(characters, tracks, clips, METRIC, cast)


def kinds(found: list[Finding]) -> list[tuple[str, str, str | None, int | None]]:
    return [(f.kind, f.severity, f.character, f.clip) for f in found]


def test_no_findings_when_identity_holds() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], near_e0(0.95))]
    characters, found = audit(tracks, [0, 0])
    assert [c.id for c in characters] == ["C1"]
    assert characters[0].track_ids == [0, 1]
    assert characters[0].clip_similarity == pytest.approx({1: 1.0, 2: 0.95}, abs=1e-5)
    assert found == []


def test_identity_drift_fails_below_threshold() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], near_e0(0.3))]
    _, found = audit(tracks, [0, 0])
    assert kinds(found) == [("identity_drift", "fail", "C1", 2)]
    assert "0.30" in found[0].message
    assert "0.50" in found[0].message


def test_uncertain_identity_warns_in_the_margin_band() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], near_e0(0.55))]
    _, found = audit(tracks, [0, 0])
    assert kinds(found) == [("uncertain_identity", "warn", "C1", 2)]


def test_anchor_is_the_first_appearance_not_the_whole_character() -> None:
    tracks = [
        track(1, 1, [0, 5], e(0)),
        track(2, 1, [0, 5], near_e0(0.9)),
        track(3, 1, [0, 5], near_e0(0.3)),
    ]
    characters, found = audit(tracks, [0, 0, 0], n_clips=3)
    assert characters[0].clip_similarity[1] == pytest.approx(1.0, abs=1e-5)
    assert characters[0].clip_similarity[3] == pytest.approx(0.3, abs=1e-5)
    assert kinds(found) == [("identity_drift", "fail", "C1", 3)]


def test_identity_swap_when_a_character_is_replaced() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], e(1))]
    characters, found = audit(tracks, [0, 1])
    assert [c.id for c in characters] == ["C1", "C2"]
    assert kinds(found) == [("identity_swap", "fail", "C1", 2)]
    assert "C2" in found[0].message
    assert "clip 1" in found[0].message


def test_no_swap_when_the_old_character_is_still_present() -> None:
    tracks = [
        track(1, 1, [0, 5], e(0)),
        track(2, 1, [0, 5], e(0)),
        track(2, 1, [3, 8], e(1)),
    ]
    characters, found = audit(tracks, [0, 0, 1])
    assert [c.id for c in characters] == ["C1", "C2"]
    assert found == []


def test_characters_are_numbered_by_first_appearance_not_by_label() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(1, 1, [2, 7], e(1)), track(2, 1, [0], e(0))]
    characters, _ = audit(tracks, [7, 3, 7])
    assert [(c.id, c.track_ids) for c in characters] == [("C1", [0, 2]), ("C2", [1])]


def test_appearances_per_shot_with_times_and_face_counts() -> None:
    tracks = [
        track(1, 1, [0, 5], e(0)),
        track(1, 2, [20, 30, 40], e(0)),
        track(1, 2, [45], e(0)),
        track(2, 1, [10, 12], e(0)),
    ]
    characters, _ = audit(tracks, [0, 0, 0, 0])
    got = [(a.clip, a.shot, a.start_s, a.end_s, a.faces) for a in characters[0].appearances]
    assert got == [
        (1, 1, 0.0, 0.5, 2),
        (1, 2, pytest.approx(2.0), pytest.approx(4.5), 4),
        (2, 1, pytest.approx(1.0), pytest.approx(1.2), 2),
    ]
    assert all(a.similarity == pytest.approx(1.0, abs=1e-5) for a in characters[0].appearances)


def gram_vectors(gram: list[list[float]]) -> list[np.ndarray]:
    """Unit vectors whose pairwise cosines are `gram`."""
    rows = np.linalg.cholesky(np.array(gram, np.float64))
    return [np.pad(r, (0, DIM - len(r))).astype(np.float32) for r in rows]


def test_cast_names_by_best_total_assignment_not_greedily() -> None:
    # Greedy would give alice to C1 (0.9) and leave C2 unnamed (0.3 to bob); the
    # assignment gives bob to C1 (0.8) and alice to C2 (0.85).
    c1, c2, alice, bob = gram_vectors(
        [
            [1.0, 0.7, 0.9, 0.8],
            [0.7, 1.0, 0.85, 0.3],
            [0.9, 0.85, 1.0, 0.6],
            [0.8, 0.3, 0.6, 1.0],
        ]
    )
    tracks = [track(1, 1, [0, 5], c1), track(1, 1, [0, 5], c2)]
    characters, found = audit(tracks, [0, 1], n_clips=1, cast={"alice": alice, "bob": bob})
    assert [(c.id, c.name) for c in characters] == [("C1", "bob"), ("C2", "alice")]
    assert np.allclose(characters[0].anchor, bob)
    assert characters[0].clip_similarity[1] == pytest.approx(0.8, abs=1e-4)
    assert found == []


def test_cast_member_below_threshold_names_nobody() -> None:
    tracks = [track(1, 1, [0, 5], e(0))]
    characters, found = audit(tracks, [0], n_clips=1, cast={"zoe": near_e0(0.45)})
    assert characters[0].name is None
    assert kinds(found) == [("missing_character", "warn", None, 1)]
    assert "zoe" in found[0].message


def test_named_character_is_measured_against_its_cast_reference_in_every_clip() -> None:
    tracks = [track(1, 1, [0, 5], near_e0(0.9)), track(2, 1, [0, 5], near_e0(0.52))]
    # Both clips together are close enough to name the character ann, but clip 2
    # alone is barely above the threshold.
    characters, found = audit(tracks, [0, 0], cast={"ann": e(0)})
    assert characters[0].name == "ann"
    assert kinds(found) == [("uncertain_identity", "warn", "C1", 2)]
    assert "cast reference" in found[0].message


def test_missing_character_warns_for_a_clip_without_the_cast_member() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(3, 1, [0, 5], e(0))]
    characters, found = audit(tracks, [0, 0], n_clips=3, cast={"ann": e(0)})
    assert characters[0].name == "ann"
    assert kinds(found) == [("missing_character", "warn", "C1", 2)]
    assert "no faces" in found[0].message


def test_glitch_frames_become_warn_findings_with_their_frame() -> None:
    clips = {1: clip(1, [Glitch(7, 0.7), Glitch(30, 3.0)]), 2: clip(2)}
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], e(0))]
    _, found = audit(tracks, [0, 0], clips=clips)
    assert [(f.kind, f.severity, f.clip, f.frame) for f in found] == [
        ("glitch_frame", "warn", 1, 7),
        ("glitch_frame", "warn", 1, 30),
    ]


def test_findings_are_sorted_by_clip() -> None:
    clips = {1: clip(1), 2: clip(2), 3: clip(3, [Glitch(4, 0.4)])}
    tracks = [
        track(1, 1, [0, 5], e(0)),
        track(2, 1, [0, 5], e(1)),
        track(3, 1, [0, 5], np.array([0.3, 0, np.sqrt(1 - 0.09), 0], np.float32)),
    ]
    _, found = audit(tracks, [0, 1, 0], clips=clips)
    assert [f.clip for f in found] == sorted(f.clip or 0 for f in found)
    assert {f.kind for f in found} == {"identity_swap", "identity_drift", "glitch_frame"}


def test_a_group_of_tracks_is_one_centroid_over_all_their_faces() -> None:
    # One way for a track, a shot, a clip or a character: a long track weighs more.
    long, short = track(1, 1, [0, 5], e(0), n_emb=3), track(1, 1, [0, 5], e(1), n_emb=1)
    together = METRIC.centroid_of([long, short])
    assert together == pytest.approx(normalise(np.array([3, 1, 0, 0], np.float32)), abs=1e-6)
    rows = METRIC.centroids([long, short])
    assert rows.shape == (2, DIM)
    assert rows == pytest.approx(np.stack([e(0), e(1)]), abs=1e-6)


def small(t: Track, side: float = 30.0, quality: float | None = None) -> Track:
    """The same track with faces of `side` pixels (and crops of `quality`)."""
    t.faces = Faces(
        t.faces.frame,
        np.tile(np.array([10, 10, 10 + side, 10 + side], np.float32), (len(t.faces), 1)),
        t.faces.score,
        t.faces.landmarks,
    )
    if quality is not None:
        t.crop_quality = np.full(len(t.crop_quality), quality, np.float32)
    return t


def test_a_character_that_stays_small_is_an_extra_and_only_warns() -> None:
    tracks = [small(track(1, 1, [0, 5], e(0))), small(track(2, 1, [0, 5], near_e0(0.3)))]
    characters, found = audit(tracks, [0, 0])
    assert characters[0].role == "extra"
    assert kinds(found) == [("identity_drift", "warn", "C1", 2)]
    assert "an extra" in found[0].message
    both = findings(characters, tracks, {i: clip(i) for i in (1, 2)}, METRIC, {}, True)
    assert kinds(both) == [("identity_drift", "fail", "C1", 2)]  # --extras-fail


def test_a_mid_sized_face_is_an_extra_only_when_its_evidence_is_thin() -> None:
    sharp = [small(track(1, 1, [0, 5], e(0)), side=90, quality=0.7)]
    blurred = [small(track(1, 1, [0, 5], e(0)), side=90, quality=0.2)]
    assert audit(sharp, [0], n_clips=1)[0][0].role == "lead"
    assert audit(blurred, [0], n_clips=1)[0][0].role == "extra"


def test_extras_coming_and_going_are_not_swaps() -> None:
    """A background face in clip 1 and another in clip 2: a change of extras."""
    tracks = [
        track(1, 1, [0, 5], e(0)),
        small(track(1, 1, [0, 5], e(1))),
        track(2, 1, [0, 5], near_e0(0.95)),
        small(track(2, 1, [0, 5], e(2))),
    ]
    characters, found = audit(tracks, [0, 1, 0, 2])
    assert [c.role for c in characters] == ["lead", "extra", "extra"]
    assert found == []


def test_the_anchor_is_the_best_evidence_not_a_poor_first_face() -> None:
    """A blurred look-alike merged in first must not become what the lead is measured
    against: the anchor comes from the first clip with good faces."""
    poor = track(1, 1, [0, 5], near_e0(0.45))
    poor.crop_quality = np.full(2, 0.1, np.float32)
    tracks = [poor, track(2, 1, [0, 5], e(0)), track(3, 1, [0, 5], near_e0(0.95))]
    characters, found = audit(tracks, [0, 0, 0], n_clips=3)
    ch = characters[0]
    assert ch.anchor_clip == 2
    assert ch.clip_similarity[3] == pytest.approx(0.95, abs=1e-5)
    assert [f.kind for f in found] == ["uncertain_identity"]  # clip 1: thin evidence
    assert found[0].clip == 1 and "anchor in clip 2" in found[0].message


def test_within_a_clip_the_anchor_keeps_only_the_good_tracks() -> None:
    good = track(1, 1, [0, 5], e(0))
    profile = track(1, 2, [10, 15], e(1))
    profile.crop_quality = np.full(2, 0.35, np.float32)  # good evidence, but half as good
    characters, _ = audit([good, profile], [0, 0], n_clips=1)
    assert characters[0].anchor == pytest.approx(e(0))


def test_a_drift_within_the_margin_below_the_threshold_is_uncertain() -> None:
    """A restyled or re-encoded face of the same person lands just under the threshold
    as often as a look-alike does: that is a warning, not a fail."""
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], near_e0(0.45))]
    _, found = audit(tracks, [0, 0])
    assert kinds(found) == [("uncertain_identity", "warn", "C1", 2)]
    assert "just below" in found[0].message


def test_a_new_face_that_looks_like_the_one_gone_is_uncertain_not_a_swap() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], near_e0(0.45))]
    _, found = audit(tracks, [0, 1])
    assert kinds(found) == [("uncertain_identity", "warn", "C1", 2)]
    assert "may be the same person" in found[0].message


def test_calibration_raises_the_bar_for_same_not_for_different() -> None:
    from dataclasses import replace

    raised = replace(METRIC, threshold=0.7, measured_threshold=THRESHOLD)
    assert raised.different_below == pytest.approx(THRESHOLD - MARGIN)
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], near_e0(0.6))]
    clips = {i: clip(i) for i in (1, 2)}
    characters = build_characters(tracks, np.array([0, 0]), clips, raised, {})
    found = findings(characters, tracks, clips, raised, {})
    assert kinds(found) == [("uncertain_identity", "warn", "C1", 2)]


def dressed(t: Track, clothes: tuple[float, float, float]) -> Track:
    """The track with measured upper clothing of CIELAB `clothes` (other regions unmeasured)."""
    looks = np.zeros((4, 4), np.float32)
    looks[1] = [*clothes, 1.0]
    t.attributes = looks
    return t


NAVY, RED = (25.0, 5.0, -30.0), (50.0, 60.0, 40.0)


def test_a_newcomer_in_other_clothes_is_a_change_of_cast_not_a_swap() -> None:
    """The same place and size, but other clothes: a new scene's cast where the old one
    stood. A change of cast is information, never a fail."""
    tracks = [dressed(track(1, 1, [0, 5], e(0)), NAVY), dressed(track(2, 1, [0, 5], e(1)), RED)]
    _, found = audit(tracks, [0, 1])
    assert kinds(found) == [("cast_change", "info", "C1", 2)]
    assert "other clothes" in found[0].message and "not a swap" in found[0].message
    report = Report([clip(1), clip(2)], [], found, None, fail_on="warn")
    assert not report.failed  # info never fails, even with --fail-on warn
    same_clothes = [
        dressed(track(1, 1, [0, 5], e(0)), NAVY),
        dressed(track(2, 1, [0, 5], e(1)), NAVY),
    ]
    _, found = audit(same_clothes, [0, 1])
    assert kinds(found) == [("identity_swap", "fail", "C1", 2)]  # the same role, another face


def at(t: Track, x0: float, y0: float, side: float = 120.0) -> Track:
    """The track with its face box moved to (x0, y0) in a 640 x 480 frame."""
    box = np.array([x0, y0, x0 + side, y0 + side], np.float32)
    t.faces = Faces(
        t.faces.frame, np.tile(box, (len(t.faces), 1)), t.faces.score, t.faces.landmarks
    )
    return t


def big_clip(index: int) -> ClipResult:
    info = VideoInfo(f"clip{index}.mp4", FPS, 100, 640, 480, "h264", "opencv")
    return ClipResult(index=index, path=info.path, info=info)


def role_audit(tracks: list[Track], labels: list[int]) -> list[Finding]:
    clips = {i: big_clip(i) for i in (1, 2)}
    characters = build_characters(tracks, np.array(labels), clips, METRIC, {})
    return findings(characters, tracks, clips, METRIC, {})


def test_the_role_is_the_place_or_the_clothes() -> None:
    """Another face at the same place and size is a swap when the clothes are unknown;
    at another place it is a swap only when the clothes continue."""
    same_place = [at(track(1, 1, [0, 5], e(0)), 40, 40), at(track(2, 1, [0, 5], e(1)), 60, 50)]
    assert kinds(role_audit(same_place, [0, 1])) == [("identity_swap", "fail", "C1", 2)]
    elsewhere = [at(track(1, 1, [0, 5], e(0)), 40, 40), at(track(2, 1, [0, 5], e(1)), 450, 300)]
    found = role_audit(elsewhere, [0, 1])
    assert kinds(found) == [("cast_change", "info", "C1", 2)]
    assert "another place" in found[0].message
    dressed_alike = [
        dressed(at(track(1, 1, [0, 5], e(0)), 40, 40), NAVY),
        dressed(at(track(2, 1, [0, 5], e(1)), 450, 300), NAVY),
    ]
    found = role_audit(dressed_alike, [0, 1])
    assert kinds(found) == [("identity_swap", "fail", "C1", 2)]
    assert "continuing clothes" in found[0].message


def test_a_swap_needs_good_evidence_on_both_faces() -> None:
    poor = track(2, 1, [0, 5], e(1))
    poor.crop_quality = np.full(2, 0.2, np.float32)
    _, found = audit([track(1, 1, [0, 5], e(0)), poor], [0, 1])
    assert kinds(found) == [("uncertain_identity", "warn", "C1", 2)]
    assert "evidence is thin" in found[0].message and "0.20" in found[0].message


def test_two_prints_a_value_below_the_threshold_below_it() -> None:
    assert two(0.3396, 0.34) == ("0.3396", "0.3400")
    assert two(0.335, 0.34) == ("0.335", "0.340")
    assert two(0.31, 0.34) == ("0.31", "0.34")
    assert two(0.4, 0.4) == ("0.40", "0.40")


@pytest.mark.parametrize("cos", [round(x, 4) for x in np.linspace(0.0, 0.99, 34)] + [0.3996])
def test_no_fail_at_or_above_the_threshold_and_messages_print_their_value(cos: float) -> None:
    """Drift and swap at every similarity: a fail only below the bar, its value below
    the threshold in force, and the message prints the value and the bar it used."""
    for labels in ([0, 0], [0, 1]):  # the same character drifting, a newcomer
        tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], near_e0(cos))]
        _, found = audit(tracks, labels)
        for f in found:
            assert f.value is not None and f.threshold is not None, f
            v, t = two(f.value, f.threshold)
            assert v in f.message and t in f.message, f.message
            if f.severity == "fail":
                assert f.value < METRIC.different_below < METRIC.threshold
                assert float(v) < float(t)


def test_every_finding_carries_its_evidence() -> None:
    clips = {1: clip(1, [Glitch(7, 0.7)]), 2: clip(2)}
    clips[1].shots = [Shot(1, 0, 49, 0.0, 5.0), Shot(2, 50, 99, 5.0, 10.0)]
    clips[1].times = {f: f / FPS for f in range(100)}
    tracks = [track(1, 2, [60, 65, 70], e(0)), track(2, 1, [10, 15], near_e0(0.3))]
    _, found = audit(tracks, [0, 0], clips=clips, cast={"ann": e(0), "bob": e(2)})
    by_kind = {f.kind: f for f in found}
    assert set(by_kind) >= {"glitch_frame", "identity_drift", "missing_character"}
    for f in found:
        assert f.evidence is not None and f.evidence.path == f"clip{f.clip}.mp4", f
    glitch = by_kind["glitch_frame"].evidence
    assert glitch is not None and (glitch.shot, glitch.frame, glitch.start_frame) == (1, 7, 7)
    drift = by_kind["identity_drift"].evidence
    assert drift is not None
    assert (drift.shot, drift.start_frame, drift.end_frame) == (1, 10, 15)
    assert drift.start_s == pytest.approx(1.0) and drift.end_s == pytest.approx(1.5)
    assert drift.box == (10.0, 10.0, 130.0, 130.0) and drift.frame in (10, 15)
    assert timecode(drift.end_s) == "00:00:01.500"
    assert timecode(3725.0625) == "01:02:05.062" or timecode(3725.0625) == "01:02:05.063"


def test_best_face_is_the_detection_of_the_best_crop() -> None:
    """The evidence face is the detection the best kept crop was cut from, found by
    its landmarks, not the first or the largest face."""
    frames = np.zeros((3, 90, 120, 3), np.uint8)
    faces = Faces(
        np.array([0, 1, 2], np.int64),
        np.array([[10, 10, 50, 50], [12, 11, 52, 51], [20, 15, 70, 65]], np.float32),
        np.full(3, 0.99, np.float32),
        np.random.default_rng(0).uniform(15, 45, (3, 5, 2)).astype(np.float32),
    )
    crops = [crop_faces(frames[i], faces.select(np.array([i]))) for i in range(3)]
    for best in range(3):  # the crop kept first is the best one
        order = [best] + [i for i in range(3) if i != best]
        kept = FaceCrops(
            np.concatenate([crops[i].images for i in order]),
            np.concatenate([crops[i].landmarks for i in order]),
        )
        t = Track(1, 1, faces, kept, np.array([0.9, 0.5, 0.4], np.float32))
        frame, box = best_face(t)
        assert frame == best
        assert box == tuple(round(float(v), 1) for v in faces.xyxy[best])


def test_appearances_list_their_track_ids_and_clips_their_consistency() -> None:
    tracks = [
        track(1, 1, [0, 5], e(0)),
        track(1, 1, [0, 5], e(1)),  # someone else, same frames
        track(1, 2, [20, 25], near_e0(0.8)),
        track(2, 1, [0, 5], e(0)),
    ]
    characters, _ = audit(tracks, [0, 1, 0, 0])
    c1 = characters[0]
    assert [a.track_ids for a in c1.appearances] == [(0,), (2,), (3,)]
    assert [a.track_ids for a in characters[1].appearances] == [(1,)]
    # clip 1: faces e0, e0 and two at 0.8 to e0, against their own centroid
    centre = normalise(np.array(2 * [e(0)] + 2 * [near_e0(0.8)]).mean(axis=0))
    want = float(np.mean([e(0) @ centre] * 2 + [near_e0(0.8) @ centre] * 2))
    assert c1.consistency[1] == pytest.approx(want, abs=1e-5)
    assert c1.consistency[2] == pytest.approx(1.0, abs=1e-5)
    assert c1.consistency[1] < 1.0


# --- a script of who belongs where --------------------------------------------------


def script_of(rows: dict[str, list[str]]) -> Script:
    entries = tuple(ScriptEntry(k, tuple(v), line) for line, (k, v) in enumerate(rows.items(), 2))
    return Script("script.csv", entries)


def scripted(
    tracks: list[Track], labels: list[int], rows: dict[str, list[str]], n_clips: int = 3
) -> list[Finding]:
    clips = {i: big_clip(i) for i in range(1, n_clips + 1)}
    cast = {"ann": e(0), "bob": e(1)}
    characters = build_characters(tracks, np.array(labels), clips, METRIC, cast)
    return findings(characters, tracks, clips, METRIC, cast, script=script_of(rows))


def test_a_script_expects_cast_members_only_where_it_says() -> None:
    """Bob is expected in clip 2 alone: no missing_character for him in clips 1 and 3;
    Ann, expected in clip 3 and not there, is missing there."""
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], e(1))]
    found = scripted(tracks, [0, 1], {"1": ["ann"], "clip2.mp4": ["bob"], "3": ["ann"]})
    assert kinds(found) == [("missing_character", "warn", "C1", 3)]
    assert "script.csv line 4" in found[0].message
    without = audit(tracks, [0, 1], n_clips=3, cast={"ann": e(0), "bob": e(1)})[1]
    assert ("missing_character", "warn", "C2", 1) in kinds(without)  # no script: everywhere


def test_a_lead_not_on_the_clip_s_list_is_unexpected() -> None:
    tracks = [track(1, 1, [0, 5], e(0)), track(1, 1, [0, 5], e(1)), track(2, 1, [0, 5], e(1))]
    found = scripted(tracks, [0, 1, 1], {"1": ["ann"], "2": ["bob"]}, n_clips=2)
    assert kinds(found) == [("unexpected_character", "warn", "C2", 1)]
    assert "C2 (bob), a cast member," in found[0].message and "expects ann" in found[0].message
    assert found[0].evidence is not None and found[0].evidence.frame in (0, 5)


def test_another_face_in_an_expected_slot_is_a_swap() -> None:
    """The script expects Ann in clip 2; a face that matches no cast member is there
    instead: a swap (not also a missing or an unexpected character), even at another
    place; a look-alike there is uncertain."""
    tracks = [at(track(1, 1, [0, 5], e(0)), 40, 40), at(track(2, 1, [0, 5], e(2)), 450, 300)]
    found = scripted(tracks, [0, 1], {"1": ["ann"], "2": ["ann"]}, n_clips=2)
    assert kinds(found) == [("identity_swap", "fail", "C1", 2)]
    assert "the script's slot: script.csv line 3 expects ann here" in found[0].message
    alike = [
        at(track(1, 1, [0, 5], e(0)), 40, 40),
        at(track(2, 1, [0, 5], np.array([0.45, 0, 0.893, 0], np.float32)), 450, 300),
    ]
    found = scripted(alike, [0, 1], {"1": ["ann"], "2": ["ann"]}, n_clips=2)
    assert kinds(found) == [("uncertain_identity", "warn", "C1", 2)]


def test_a_script_s_clip_is_not_a_swap_for_the_unscripted_absent() -> None:
    """Ann leaves after clip 1 as the script says; a newcomer in clip 2 in her place is
    no swap of hers, but a lead the script does not list."""
    tracks = [track(1, 1, [0, 5], e(0)), track(2, 1, [0, 5], e(2))]
    found = scripted(tracks, [0, 1], {"1": ["ann"], "2": []}, n_clips=2)
    assert kinds(found) == [("unexpected_character", "warn", "C2", 2)]
    assert "a lead who is no cast member" in found[0].message


@needs_media
@pytest.mark.slow
def test_the_real_clip_then_photos_is_a_change_of_cast_not_a_swap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """make eval's hamilton story: the real stage clip, then a clip of Miranda's and
    Obama's photos. The close profile of shot 2 is absent from clip 2, and Obama's
    photo there stands elsewhere, at another size (clothes unmeasured): a change of
    cast (info), not the swap it used to fail on."""
    from scripts.media_clips import build_clip

    hamilton = MEDIA / "clips" / "hamilton_short.mp4"
    photos = build_clip(
        tmp_path / "clip2.mp4",
        [
            (MEDIA / "faces/lin_manuel_miranda/lmm1.png", 2.0),
            (MEDIA / "faces/obama/obama2.jpg", 2.0),
        ],
    )
    with pytest.raises(SystemExit) as caught:
        main([str(hamilton), str(photos), "--embedder", "dlib", "--json", "-", "-q"])
    report = json.loads(capsys.readouterr().out)
    assert caught.value.code == 0
    assert not [f for f in report["findings"] if f["severity"] == "fail"]
    changes = [f for f in report["findings"] if f["kind"] == "cast_change"]
    assert [(f["clip"], f["severity"]) for f in changes] == [(2, "info")]
    assert "another place" in changes[0]["message"]
