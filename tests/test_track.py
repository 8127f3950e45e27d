"""Tracker: detections of one shot -> tracks, with hand-made Faces and FaceCrops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drift_audit.faces.track import MAX_GAP, Tracker, without_duplicates
from drift_audit.types import CROP_SIZE, FaceCrops, Faces, Track

RED = (200, 40, 40)
BLUE = (40, 40, 200)
SIDE = 40.0


def frame_faces(
    frame: int, xs: list[float], colours: list[tuple[int, int, int]], y: float = 100.0
) -> tuple[Faces, FaceCrops]:
    """Faces of SIDE px at left edges `xs`, with crops filled with `colours`.

    Pixel (0, 0, 0) of each crop holds the frame index, so kept crops can be traced.
    """
    n = len(xs)
    xyxy = np.array([[x, y, x + SIDE, y + SIDE] for x in xs], np.float32).reshape(n, 4)
    faces = Faces(
        frame=np.full(n, frame, np.int64),
        xyxy=xyxy,
        score=np.full(n, 0.99, np.float32),
        landmarks=np.zeros((n, 5, 2), np.float32),
    )
    images = np.zeros((n, CROP_SIZE, CROP_SIZE, 3), np.uint8)
    for i, colour in enumerate(colours):
        images[i] = colour
        images[i, 0, 0, 0] = frame
    return faces, FaceCrops(images, np.zeros((n, 5, 2), np.float32))


def step(
    tracker: Tracker,
    frame: int,
    xs: list[float],
    colours: list[tuple[int, int, int]],
    quality: list[float] | None = None,
) -> None:
    faces, crops = frame_faces(frame, xs, colours)
    q = np.array(quality if quality is not None else [0.5] * len(xs), np.float32)
    tracker.step(faces, crops, q)


def step_empty(tracker: Tracker) -> None:
    tracker.step(Faces.empty(), FaceCrops.empty(), np.zeros(0, np.float32))


def colour_of(track: Track) -> tuple[int, ...]:
    colours = {tuple(int(v) for v in im[5, 5]) for im in track.crops.images}
    assert len(colours) == 1, f"a track mixes faces of colours {colours}"
    return colours.pop()


def test_two_slow_faces_stay_in_two_tracks() -> None:
    tracker = Tracker(clip=1, shot=2, keep=5)
    for f in range(10):
        step(tracker, f, [50.0 + 2 * f, 300.0 - 2 * f], [RED, BLUE])
    tracks = tracker.finish()
    assert len(tracks) == 2
    for track in tracks:
        assert (track.clip, track.shot) == (1, 2)
        assert track.faces.frame.tolist() == list(range(10))
    left, right = tracks  # ordered by first frame, then x
    assert colour_of(left) == RED
    assert colour_of(right) == BLUE
    assert np.all(np.diff(left.faces.xyxy[:, 0]) > 0)
    assert np.all(np.diff(right.faces.xyxy[:, 0]) < 0)


def test_crossing_faces_keep_their_identity_by_appearance() -> None:
    # Red walks right, blue walks left; they meet at x = 100 in frame 5. The detector
    # lists faces left to right, so after the crossing blue comes first.
    tracker = Tracker(clip=1, shot=1, keep=20)
    for f in range(11):
        red_x, blue_x = 50.0 + 10 * f, 150.0 - 10 * f
        xs, colours = [red_x, blue_x], [RED, BLUE]
        if blue_x < red_x:
            xs, colours = [blue_x, red_x], [BLUE, RED]
        step(tracker, f, xs, colours)
    tracks = tracker.finish()
    assert len(tracks) == 2
    by_colour = {colour_of(t): t for t in tracks}
    assert set(by_colour) == {RED, BLUE}
    assert by_colour[RED].faces.xyxy[:, 0].tolist() == [50.0 + 10 * f for f in range(11)]
    assert by_colour[BLUE].faces.xyxy[:, 0].tolist() == [150.0 - 10 * f for f in range(11)]


def test_face_missing_for_max_gap_frames_continues_its_track() -> None:
    tracker = Tracker(clip=1, shot=1)
    for f in range(3):
        step(tracker, f, [100.0], [RED])
    for _ in range(MAX_GAP):
        step_empty(tracker)
    step(tracker, 3 + MAX_GAP, [102.0], [RED])
    [track] = tracker.finish()
    assert track.faces.frame.tolist() == [0, 1, 2, 3 + MAX_GAP]


def test_face_missing_longer_than_max_gap_starts_a_new_track() -> None:
    tracker = Tracker(clip=1, shot=1)
    for f in range(3):
        step(tracker, f, [100.0], [RED])
    for _ in range(MAX_GAP + 1):
        step_empty(tracker)
    step(tracker, 4 + MAX_GAP, [100.0], [RED])
    tracks = tracker.finish()
    assert [t.faces.frame.tolist() for t in tracks] == [[0, 1, 2], [4 + MAX_GAP]]


def test_face_that_jumps_far_starts_a_new_track() -> None:
    tracker = Tracker(clip=1, shot=1)
    step(tracker, 0, [0.0], [RED])
    step(tracker, 1, [400.0], [RED])
    assert len(tracker.finish()) == 2


def test_kept_crops_are_the_best_k_best_first_ties_by_arrival() -> None:
    quality = [0.2, 0.9, 0.5, 0.9, 0.1, 0.7, 0.5]
    tracker = Tracker(clip=1, shot=1, keep=4)
    for f, q in enumerate(quality):
        step(tracker, f, [100.0 + f], [RED], [q])
    [track] = tracker.finish()
    kept_frames = [int(im[0, 0, 0]) for im in track.crops.images]
    assert kept_frames == [1, 3, 5, 2]  # 0.9 (earlier first), 0.9, 0.7, then the first 0.5
    assert track.crop_quality.tolist() == np.array([0.9, 0.9, 0.7, 0.5], np.float32).tolist()
    assert len(track.crops.landmarks) == 4
    assert len(track.faces) == len(quality)  # every detection stays in the track


def test_keeping_is_deterministic() -> None:
    def run() -> list[list[int]]:
        tracker = Tracker(clip=1, shot=1, keep=3)
        for f in range(8):
            step(tracker, f, [60.0 + f, 300.0 - f], [RED, BLUE], [0.5, 0.5])
        return [[int(im[0, 0, 0]) for im in t.crops.images] for t in tracker.finish()]

    first = run()
    assert first == run()
    assert first == [[0, 1, 2], [0, 1, 2]]


def test_finish_resets_the_tracker() -> None:
    tracker = Tracker(clip=1, shot=1)
    step(tracker, 0, [100.0], [RED])
    assert len(tracker.finish()) == 1
    assert tracker.finish() == []


def test_tracks_are_ordered_by_first_frame_then_x() -> None:
    tracker = Tracker(clip=1, shot=1)
    step(tracker, 0, [300.0], [BLUE])
    step(tracker, 1, [300.0, 20.0], [BLUE, RED])
    step(tracker, 2, [300.0, 20.0, 160.0], [BLUE, RED, (40, 200, 40)])
    tracks = tracker.finish()
    assert [(t.first_frame, float(t.faces.xyxy[0, 0])) for t in tracks] == [
        (0, 300.0),
        (1, 20.0),
        (2, 160.0),
    ]


def test_a_moving_face_is_matched_where_it_should_be_not_where_it_was() -> None:
    # A walks left 25 px a frame and is missed for three frames; when it is found
    # again, a newcomer stands just where A was last seen. Matching by last boxes
    # hands A's track to the newcomer (an identity switch); by predicted boxes, not.
    tracker = Tracker(clip=1, shot=1)
    for f in range(4):
        step(tracker, f, [300.0 - 25 * f], [RED])
    for _ in range(4, 7):
        step_empty(tracker)
    step(tracker, 7, [300.0 - 25 * 7, 228.0], [RED, RED])
    tracks = tracker.finish()
    first = next(t for t in tracks if t.first_frame == 0)
    assert first.faces.frame.tolist() == [0, 1, 2, 3, 7]
    assert float(first.faces.xyxy[-1, 0]) == 300.0 - 25 * 7


def test_search_boxes_lead_a_moving_track() -> None:
    tracker = Tracker(clip=1, shot=1)
    step(tracker, 0, [100.0], [RED])
    step(tracker, 5, [130.0], [RED])  # 6 px a frame
    assert tracker.live_boxes(10)[:, 0].tolist() == [160.0]
    assert tracker.live_boxes().tolist() == [[130.0, 100.0, 130.0 + SIDE, 100.0 + SIDE]]


def test_a_track_that_missed_its_face_is_flagged_lost() -> None:
    tracker = Tracker(clip=1, shot=1)
    step(tracker, 0, [100.0], [RED])
    assert not tracker.lost
    step_empty(tracker)
    assert tracker.lost
    step(tracker, 2, [101.0], [RED])
    assert not tracker.lost


def test_one_face_found_twice_is_kept_once() -> None:
    faces = Faces(
        frame=np.array([4, 4, 4, 5], np.int64),
        xyxy=np.array(
            [[10, 10, 50, 50], [5, 5, 60, 62], [200, 10, 240, 50], [12, 10, 52, 50]], np.float32
        ),
        score=np.array([0.95, 0.99, 0.97, 0.9], np.float32),
        landmarks=np.zeros((4, 5, 2), np.float32),
    )
    # The inner box lies inside the larger one: one face, the more confident box kept;
    # the same place in another frame is another detection.
    assert without_duplicates(faces).tolist() == [1, 2, 3]


# --- full detections and refinement between them (pipeline._detect_and_track) --------


@pytest.mark.parametrize(("redetect_s", "full", "refined"), [(1.0, 2, 8), (0.0, 10, 0)])
def test_frames_between_full_detections_are_refined_around_the_tracks(
    tmp_path: Path, redetect_s: float, full: int, refined: int
) -> None:
    from drift_audit.config import AuditConfig
    from drift_audit.run.clip import analyse_clip
    from drift_audit.run.models import Models
    from tests.conftest import FakeDetector, FakeEmbedder, write_clip

    clip = write_clip(tmp_path / "one_shot.avi", n_frames=20, fps=10.0)  # 2 s, one shot
    config = AuditConfig(sample_fps=5, redetect_s=redetect_s, detect_batch=1, use_cache=False)
    detector = FakeDetector()
    result = analyse_clip(1, clip, config, Models(config, detector, FakeEmbedder(), "fake"))
    # 10 sampled frames: full detections at 0 s and 1 s, the rest refined.
    assert (detector.calls, detector.refines) == (full, refined)
    assert len(result.tracks) == 1
    assert len(result.tracks[0].faces) == 10


def test_a_frame_after_a_lost_face_gets_a_full_detection(tmp_path: Path) -> None:
    from drift_audit.config import AuditConfig
    from drift_audit.run.clip import analyse_clip
    from drift_audit.run.models import Models
    from tests.conftest import FakeDetector, FakeEmbedder, write_clip

    class LosesOnce(FakeDetector):
        """Refinement misses the face once (frame 4), as it does a fast mover."""

        def refine(self, frame: np.ndarray, boxes: np.ndarray, index: int) -> Faces:
            found = super().refine(frame, boxes, index)
            return Faces.empty() if index == 4 else found

    clip = write_clip(tmp_path / "one_shot.avi", n_frames=20, fps=10.0)
    config = AuditConfig(sample_fps=5, redetect_s=10.0, detect_batch=1, use_cache=False)
    detector = LosesOnce()
    result = analyse_clip(1, clip, config, Models(config, detector, FakeEmbedder(), "fake"))
    # Sampled frames 0, 2, ..., 18: one scheduled full detection (frame 0), one after
    # the miss at frame 4 (frame 6), the other eight refined.
    assert (detector.calls, detector.refines) == (2, 8)
    [track] = result.tracks
    assert 4 not in track.faces.frame.tolist() and 6 in track.faces.frame.tolist()


def test_a_track_is_flagged_lost_once_per_loss() -> None:
    tracker = Tracker(clip=1, shot=1)
    step(tracker, 0, [100.0], [RED])
    flags = []
    for _ in range(MAX_GAP):
        step_empty(tracker)
        flags.append(tracker.lost)
    assert flags == [True] + [False] * (MAX_GAP - 1)
