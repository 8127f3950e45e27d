"""ShotDetector on hand-made (18, 32, 3) CIELAB-like thumbnails."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from drift_audit.shots import ShotDetector
from drift_audit.types import Glitch, Shot

FPS = 25.0


def picture(seed: int, lo: float = 0.0, hi: float = 255.0) -> np.ndarray:
    """A textured thumbnail; different seeds give clearly different pictures."""
    return np.random.default_rng(seed).uniform(lo, hi, (18, 32, 3)).astype(np.float32)


def detect(frames: list[np.ndarray], **kwargs: float) -> tuple[list[Shot], list[Glitch]]:
    detector = ShotDetector(**kwargs)  # type: ignore[arg-type]
    for i, thumb in enumerate(frames):
        detector.push(i / FPS, thumb)
    return detector.finish()


def starts(shots: list[Shot]) -> list[int]:
    return [s.start_frame for s in shots]


A, B, C = picture(1), picture(2), picture(3)


def test_hard_cuts_start_new_shots_at_the_right_frame() -> None:
    shots, glitches = detect([A] * 10 + [B] * 15 + [C] * 12)
    assert starts(shots) == [0, 10, 25]
    assert glitches == []


def test_shots_cover_every_frame_contiguously() -> None:
    n = 10 + 15 + 12
    shots, _ = detect([A] * 10 + [B] * 15 + [C] * 12)
    assert [s.index for s in shots] == [1, 2, 3]
    assert shots[0].start_frame == 0
    assert shots[-1].end_frame == n - 1  # end_frame is inclusive
    for before, after in itertools.pairwise(shots):
        assert after.start_frame == before.end_frame + 1
    assert sum(s.end_frame - s.start_frame + 1 for s in shots) == n


def test_shot_times_follow_the_pushed_times() -> None:
    shots, _ = detect([A] * 10 + [B] * 10)
    assert shots[0].start_s == pytest.approx(0.0)
    assert shots[1].start_s == pytest.approx(10 / FPS)
    assert shots[0].end_s <= shots[1].start_s + 1e-9
    assert shots[1].end_s >= 19 / FPS


def test_single_picture_is_one_shot() -> None:
    shots, glitches = detect([A] * 30)
    assert [(s.index, s.start_frame, s.end_frame) for s in shots] == [(1, 0, 29)]
    assert glitches == []


def test_empty_detector_gives_no_shots() -> None:
    assert ShotDetector().finish() == ([], [])


@pytest.mark.parametrize("length", [1, 2])
def test_short_flash_is_a_glitch_not_a_cut(length: int) -> None:
    white = np.full((18, 32, 3), 255.0, np.float32)
    shots, glitches = detect([A] * 12 + [white] * length + [A] * 12)
    assert len(shots) == 1
    assert [g.frame for g in glitches] == list(range(12, 12 + length))
    assert glitches[0].time_s == pytest.approx(12 / FPS)


def test_flash_of_another_picture_is_a_glitch() -> None:
    shots, glitches = detect([A] * 12 + [B] + [A] * 12)
    assert len(shots) == 1
    assert [g.frame for g in glitches] == [12]


def test_partial_block_over_40_percent_for_one_frame_is_a_glitch() -> None:
    block = A.copy()
    block[:, :13] = 255.0 - block[:, :13]  # 13 of 32 columns: ~40 % of the picture
    shots, glitches = detect([A] * 12 + [block] + [A] * 12)
    assert len(shots) == 1
    assert [g.frame for g in glitches] == [12]


def test_flash_does_not_hide_a_later_cut() -> None:
    shots, glitches = detect([A] * 10 + [B] + [A] * 10 + [C] * 10)
    assert starts(shots) == [0, 21]
    assert [g.frame for g in glitches] == [10]


def dissolve(first: np.ndarray, second: np.ndarray, steps: int) -> list[np.ndarray]:
    """`steps` blended frames strictly between `first` and `second`."""
    weights = np.linspace(0.0, 1.0, steps + 2)[1:-1]
    return [((1 - w) * first + w * second).astype(np.float32) for w in weights]


def test_cross_dissolve_gives_one_cut_near_its_centre() -> None:
    first = picture(4, 60, 200)
    second = first + 40 * np.sign(np.random.default_rng(5).uniform(-1, 1, first.shape))
    frames = [first] * 15 + dissolve(first, second, 6) + [second.astype(np.float32)] * 15
    shots, glitches = detect(frames)
    assert len(shots) == 2
    centre = 15 + (6 - 1) / 2  # the blend frames are 15..20
    assert abs(shots[1].start_frame - centre) <= 3
    assert glitches == []


def test_cross_dissolve_between_very_different_pictures_gives_one_cut() -> None:
    first, second = picture(6), picture(7)  # mean difference ~85
    shots, _ = detect([first] * 15 + dissolve(first, second, 6) + [second] * 15)
    assert len(shots) == 2
    assert abs(shots[1].start_frame - 17.5) <= 3


@pytest.mark.parametrize("step", [0.5, 1.5, 3.0])
def test_slow_continuous_drift_is_not_a_cut(step: float) -> None:
    # Over 120 frames the picture changes by up to 360 levels in all: far more than a
    # cut, but never in one step, and not as a short transition either.
    base = picture(8, 0, 60)
    shots, glitches = detect([base + i * step for i in range(120)])
    assert len(shots) == 1
    assert glitches == []


def test_random_walk_motion_is_not_a_cut() -> None:
    rng = np.random.default_rng(9)
    frames = [picture(10, 60, 200)]
    for _ in range(100):
        frames.append((frames[-1] + rng.normal(0, 2, frames[-1].shape)).astype(np.float32))
    shots, glitches = detect(frames)
    assert len(shots) == 1
    assert glitches == []


def test_cut_closer_than_min_shot_frames_keeps_only_the_first() -> None:
    shots, _ = detect([A] * 10 + [B] * 2 + [C] * 10, min_shot_frames=3)
    assert starts(shots) == [0, 10]


def test_flash_as_long_as_min_shot_frames_is_a_glitch() -> None:
    shots, glitches = detect([A] * 12 + [B] * 4 + [A] * 12, min_shot_frames=4)
    assert len(shots) == 1
    assert [g.frame for g in glitches] == [12, 13, 14, 15]
