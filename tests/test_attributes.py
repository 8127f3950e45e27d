"""Appearance attributes: CIEDE2000 against published data, regions on synthetic faces,
and findings on real photos with deliberate edits (scripts/attribute_edits.py).

The real photos come from ../shared/media; those tests skip, with a reason, without it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from drift_audit.faces.attributes import (
    ATTRIBUTES,
    CLOTHING,
    FACIAL_HAIR,
    FACIAL_HAIR_PRESENT,
    HAIR,
    SKIN,
    THRESHOLDS,
    AttributeChange,
    aggregate,
    compare,
    facial_hair_score,
    measure,
)
from drift_audit.faces.colour import colour_name, delta_e2000, hair_name, rgb_to_lab
from drift_audit.faces.regions import regions

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula", test data (all 34).
SHARMA = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


# --- CIEDE2000 and colour names ---------------------------------------------------


def test_delta_e2000_matches_sharma_reference_data() -> None:
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    expected = np.array([p[2] for p in SHARMA])
    np.testing.assert_allclose(delta_e2000(lab1, lab2), expected, atol=1e-4)
    np.testing.assert_allclose(delta_e2000(lab2, lab1), expected, atol=1e-4)  # symmetric


def test_delta_e2000_broadcasts_and_weights_lightness() -> None:
    lab = rgb_to_lab(np.array([[10, 20, 30], [200, 100, 50]], np.uint8))  # (2, 3)
    assert delta_e2000(lab, lab).shape == (2,) and np.all(delta_e2000(lab, lab) == 0)
    grid = delta_e2000(lab[:, None], lab[None, :])  # (2, 2)
    assert grid.shape == (2, 2) and grid[0, 1] == pytest.approx(grid[1, 0])
    # at L* 50 the lightness weight is 1: a pure lightness step is its own ΔE, k_l halves it
    assert delta_e2000(np.array([41.0, 0, 0]), np.array([59.0, 0, 0])) == pytest.approx(18)
    assert delta_e2000(np.array([41.0, 0, 0]), np.array([59.0, 0, 0]), 2.0) == pytest.approx(9)


def test_rgb_to_lab_gives_true_cielab_units() -> None:
    lab = rgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], np.uint8))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.1)


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((0, 0, 0), "black"),
        ((255, 255, 255), "white"),
        ((128, 128, 128), "grey"),
        ((60, 60, 60), "dark grey"),
        ((60, 40, 30), "dark brown"),
        ((120, 80, 60), "brown"),
        ((220, 190, 130), "blond"),
        ((225, 200, 170), "beige"),
        ((200, 150, 120), "tan"),
        ((200, 40, 40), "red"),
        ((150, 60, 35), "red"),
        ((255, 170, 190), "pink"),
        ((240, 150, 40), "orange"),
        ((240, 220, 40), "yellow"),
        ((40, 160, 60), "green"),
        ((60, 60, 200), "blue"),
        ((20, 30, 70), "navy"),
        ((130, 50, 160), "purple"),
    ],
)
def test_colour_name(rgb: tuple[int, int, int], name: str) -> None:
    assert colour_name(rgb_to_lab(np.array(rgb, np.uint8))) == name


# --- regions and measure on synthetic faces ----------------------------------------

SKIN_RGB, HAIR_RGB, SHIRT_RGB, BEARD_RGB = (200, 150, 120), (60, 40, 30), (20, 30, 70), (40, 30, 25)
BACKGROUND_RGB = (128, 128, 128)


@dataclass
class Synthetic:
    frame: np.ndarray  # (H, W, 3) uint8 RGB
    box: np.ndarray  # (4,) xyxy
    landmarks: np.ndarray  # (5, 2)


def synthetic_face(
    size: tuple[int, int] = (300, 400),
    top: float = 140.0,
    beard: bool = False,
    bald: bool = False,
    long_hair: tuple[int, int, int] | None = None,
    background: tuple[int, int, int] = (128, 128, 128),
    shirt: tuple[int, int, int] = (20, 30, 70),
) -> Synthetic:
    """A flat-coloured face: skin oval, a cap of hair above it, a shirt below, grey
    around; the box is 100 x 130 px with its top at `top`.

    Args:
        size: (width, height) of the frame.
        beard: paint the chin beard-coloured.
        bald: paint the cap skin-coloured.
        long_hair: paint the cap this colour, and hair of it falling beside the face
            0.5-0.95 box widths off its axis down over the shirt to 2.2 box heights.
        background: the colour around the head.
        shirt: the colour of the shirt.
    """
    width, height = size
    x0, w, h = 100.0, 100.0, 130.0
    box = np.array([x0, top, x0 + w, top + h])
    cx = x0 + w / 2
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = background
    centre = (round(cx), round(top + 0.45 * h))
    hair = long_hair or HAIR_RGB
    cv2.ellipse(frame, centre, (round(0.55 * w), round(0.7 * h)), 0, 0, 360, hair, -1)
    cv2.rectangle(frame, (0, round(top + h + 0.15 * h)), (width, height), shirt, -1)
    if long_hair is not None:
        for sign in (-1, 1):
            x_in, x_out = round(cx + sign * 0.45 * w), round(cx + sign * 0.95 * w)
            p0, p1 = (
                (min(x_in, x_out), round(top + 0.2 * h)),
                (max(x_in, x_out), round(top + 2.2 * h)),
            )
            cv2.rectangle(frame, p0, p1, long_hair, -1)
    skin = (round(0.5 * w), round(0.6 * h))
    cv2.ellipse(frame, (round(cx), round(top + 0.55 * h)), skin, 0, 0, 360, SKIN_RGB, -1)
    if bald:
        cv2.ellipse(frame, centre, (round(0.55 * w), round(0.7 * h)), 0, 180, 360, SKIN_RGB, -1)
    landmarks = np.array(
        [
            [cx - 22, top + 50],
            [cx + 22, top + 50],
            [cx, top + 75],
            [cx - 18, top + 98],
            [cx + 18, top + 98],
        ]
    )
    if beard:
        cv2.rectangle(
            frame, (round(cx - 30), round(top + 108)), (round(cx + 30), 400), BEARD_RGB, -1
        )
    return Synthetic(frame, box, landmarks)


def lab_of(rgb: tuple[int, int, int]) -> np.ndarray:
    return rgb_to_lab(np.array(rgb, np.uint8))


def test_measure_reads_each_region_of_a_synthetic_face() -> None:
    face = synthetic_face()
    values = measure(face.frame, face.box, face.landmarks)  # (4, 4)
    assert values.shape == (4, 4) and values.dtype == np.float32
    np.testing.assert_array_equal(values[:, 3], 1.0)
    for index, rgb in (
        (HAIR, HAIR_RGB),
        (CLOTHING, SHIRT_RGB),
        (SKIN, SKIN_RGB),
        (FACIAL_HAIR, SKIN_RGB),
    ):
        assert delta_e2000(values[index, :3], lab_of(rgb)) < 1.0, ATTRIBUTES[index]
    assert facial_hair_score(values) < 1.0


def test_a_beard_darkens_the_chin_and_nothing_else() -> None:
    face = synthetic_face(beard=True)
    values = measure(face.frame, face.box, face.landmarks)
    assert delta_e2000(values[FACIAL_HAIR, :3], lab_of(BEARD_RGB)) < 1.0
    assert facial_hair_score(values) >= FACIAL_HAIR_PRESENT
    plain = synthetic_face()
    changes = compare(measure(plain.frame, plain.box, plain.landmarks), values)
    assert [(c.attribute, c.before_name, c.after_name) for c in changes] == [
        ("facial_hair", "none", "black")
    ]


def test_regions_sit_where_documented() -> None:
    face = synthetic_face()
    reg = regions(face.box, face.landmarks)
    x0, y0, x1, y1 = face.box
    w, h = x1 - x0, y1 - y0
    origin, ax, ay = reg["upper_clothing"]
    np.testing.assert_allclose(origin, [x0 + w / 2 - 0.9 * w, y1 + 0.3 * h])
    np.testing.assert_allclose([ax[0], ay[1]], [1.8 * w, 0.9 * h])
    origin, ax, ay = reg["hair"]
    assert origin[1] < y0 - 0.3 * h and y0 < origin[1] + ay[1] < y0 + 0.15 * h
    for name in ("skin_left", "skin_right"):
        centre = reg[name][0] + (reg[name][1] + reg[name][2]) / 2
        assert face.landmarks[0, 1] < centre[1] < face.landmarks[3, 1]  # between eyes and mouth
    assert reg["skin_left"][0][0] < face.landmarks[2, 0] < reg["skin_right"][0][0]  # nose between
    chin_top = reg["facial_hair"][0][1]
    assert face.landmarks[3, 1] < chin_top < y1


def test_regions_follow_the_roll_of_the_head() -> None:
    face = synthetic_face()
    centre = (150.0, face.box[1] + 65)
    matrix = cv2.getRotationMatrix2D(centre, -20, 1.0)  # (2, 3), 20 degrees clockwise
    rotated = cv2.warpAffine(
        face.frame, matrix, (300, 400), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE
    )
    landmarks = face.landmarks @ matrix[:, :2].T + matrix[:, 2]
    corners = np.array([[x, y] for x in face.box[::2] for y in face.box[1::2]])
    turned = corners @ matrix[:, :2].T + matrix[:, 2]
    box = np.concatenate([turned.min(axis=0), turned.max(axis=0)])  # detectors box the roll
    values = measure(rotated, box, landmarks)
    for index, rgb in ((HAIR, HAIR_RGB), (SKIN, SKIN_RGB), (FACIAL_HAIR, SKIN_RGB)):
        assert delta_e2000(values[index, :3], lab_of(rgb)) < 2.0, ATTRIBUTES[index]


def test_measure_does_not_depend_on_resolution() -> None:
    face = synthetic_face()
    big = cv2.resize(face.frame, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    small = measure(face.frame, face.box, face.landmarks)
    large = measure(big, face.box * 4, face.landmarks * 4)  # regions of ~500 px, area-averaged
    np.testing.assert_array_equal(large[:, 3], small[:, 3])
    assert np.all(delta_e2000(large[:, :3], small[:, :3]) < 1.0)


@pytest.mark.parametrize(("height", "valid"), [(270 + 65, 0.0), (270 + 91, 1.0)])
def test_clothing_mostly_below_the_frame_is_invalid(height: int, valid: float) -> None:
    # the clothing region spans 0.3-1.2 box heights (39-156 px) below the box bottom (270):
    # 26 of its 117 px rows visible is 22% (< 30%); 52 is 44%
    face = synthetic_face(size=(300, height))
    assert measure(face.frame, face.box, face.landmarks)[CLOTHING, 3] == valid


def test_hair_above_the_frame_top_is_invalid() -> None:
    face = synthetic_face(top=4.0)  # the hair region starts 0.4 box heights above the box
    values = measure(face.frame, face.box, face.landmarks)
    assert values[HAIR, 3] == 0.0
    assert values[SKIN, 3] == 1.0 and values[CLOTHING, 3] == 1.0


def test_a_tiny_face_measures_nothing() -> None:
    face = synthetic_face()
    box = np.array([100.0, 100.0, 106.0, 107.0])
    np.testing.assert_array_equal(measure(face.frame, box, face.landmarks), 0.0)


def test_a_bald_head_has_no_hair_colour() -> None:
    # above the scalp is the background, the colour seen beside the head at eye level
    face = synthetic_face(bald=True)
    assert measure(face.frame, face.box, face.landmarks)[HAIR, 3] == 0.0


def test_a_new_backdrop_behind_a_bald_head_is_no_hair_change() -> None:
    navy, green = (
        synthetic_face(bald=True, background=(40, 50, 110)),
        synthetic_face(bald=True, background=(40, 110, 60)),
    )
    before, after = (measure(f.frame, f.box, f.landmarks) for f in (navy, green))
    assert "hair" not in [c.attribute for c in compare(before, after)]


AUBURN_RGB = (95, 45, 25)  # Lab about (27, 24, 28)
RED_COAT = (150, 40, 45)


def test_long_hair_over_the_shoulders_is_hair_not_clothing() -> None:
    short = synthetic_face()
    long = synthetic_face(long_hair=AUBURN_RGB)
    values = measure(long.frame, long.box, long.landmarks)
    assert delta_e2000(values[HAIR, :3], lab_of(AUBURN_RGB)) < 1.0
    assert delta_e2000(values[CLOTHING, :3], lab_of(SHIRT_RGB)) < 1.0  # not the hair on it
    short_values = measure(short.frame, short.box, short.landmarks)
    assert "upper_clothing" not in [c.attribute for c in compare(short_values, values)]


def test_a_coat_change_under_long_hair_is_found_as_clothing() -> None:
    before = synthetic_face(long_hair=AUBURN_RGB)
    after = synthetic_face(long_hair=AUBURN_RGB, shirt=RED_COAT)
    changes = compare(*(measure(f.frame, f.box, f.landmarks) for f in (before, after)))
    assert [(c.attribute, c.after_name) for c in changes] == [("upper_clothing", "red")]


def test_long_hair_dyed_black_is_hair_not_clothing() -> None:
    before = synthetic_face(long_hair=AUBURN_RGB)
    after = synthetic_face(long_hair=(40, 38, 36))
    changes = compare(*(measure(f.frame, f.box, f.landmarks) for f in (before, after)))
    assert [(c.attribute, c.before_name, c.after_name) for c in changes] == [
        ("hair", "auburn", "black")
    ]


def test_long_hair_the_colour_of_the_backdrop_is_no_hair_and_no_clothing() -> None:
    # hair and backdrop cannot be told apart: no hair colour, and the clothing is the
    # shirt, not the hair-and-backdrop colour beside the face
    face = synthetic_face(long_hair=AUBURN_RGB, background=AUBURN_RGB)
    values = measure(face.frame, face.box, face.landmarks)
    assert values[HAIR, 3] == 0.0
    assert delta_e2000(values[CLOTHING, :3], lab_of(SHIRT_RGB)) < 1.0


# --- aggregate, facial_hair_score and compare on hand-made values ---------------------


def values_of(**colours: tuple[float, float, float]) -> np.ndarray:
    """(4, 4) float32 measurement with the given attributes valid (others invalid)."""
    out = np.zeros((4, 4), np.float32)
    for name, lab in colours.items():
        out[ATTRIBUTES.index(name)] = (*lab, 1.0)
    return out


def test_aggregate_is_a_weighted_median_over_valid_faces() -> None:
    a = values_of(hair=(20, 2, 2), skin=(60, 20, 25))
    b = values_of(hair=(30, 4, 4))  # skin invalid here
    c = values_of(hair=(70, 5, 30), skin=(64, 22, 27))
    out = aggregate(np.stack([a, b, c]), np.array([1.0, 1.0, 3.0]))  # (4, 4)
    np.testing.assert_allclose(out[HAIR], [70, 5, 30, 1])  # c outweighs a + b
    np.testing.assert_allclose(out[SKIN], [64, 22, 27, 1])
    np.testing.assert_array_equal(out[[CLOTHING, FACIAL_HAIR]], 0.0)  # valid nowhere
    even = aggregate(np.stack([a, b, c]), np.array([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(even[HAIR, :3], [30, 4, 4])  # the middle face
    np.testing.assert_array_equal(aggregate(np.stack([a, c]), np.zeros(2)), 0.0)


def test_facial_hair_score_needs_skin_and_chin() -> None:
    assert np.isnan(facial_hair_score(values_of(facial_hair=(30, 5, 5))))
    score = facial_hair_score(values_of(skin=(41, 0, 0), facial_hair=(59, 0, 0)))
    assert score == pytest.approx(18.0)


SKIN_LAB, CHIN_BEARD = (65.0, 18.0, 24.0), (25.0, 6.0, 8.0)


def test_compare_reports_a_hair_change_with_names_and_delta() -> None:
    changes = compare(values_of(hair=(25, 6, 8)), values_of(hair=(72, 4, 30)))
    assert len(changes) == 1
    change = changes[0]
    assert isinstance(change, AttributeChange)
    assert (change.attribute, change.before_name, change.after_name) == (
        "hair",
        "dark brown",
        "blond",
    )
    assert change.delta_e == pytest.approx(
        float(delta_e2000(np.array([25, 6, 8]), np.array([72, 4, 30])))
    )
    assert change.message_fragment == f"hair dark brown → blond (ΔE {change.delta_e:.0f})"


@pytest.mark.parametrize(
    ("lab", "name"),
    [
        ((26, 23, 27), "auburn"),
        ((32, 48, 22), "red"),
        ((50, 30, 45), "ginger"),
        ((65, 22, 38), "strawberry blond"),
        ((72, 4, 30), "blond"),
        ((52, 6, 24), "dark blond"),
        ((80, 2, 8), "platinum"),
        ((60, 0, 1), "grey"),
        ((78, 0, 1), "silver"),
        ((92, 0, 1), "white"),
        ((28, 4, 6), "black"),
        ((25, 6, 8), "dark brown"),
        ((40, 8, 16), "brown"),
        ((52, 6, 14), "light brown"),
    ],
)
def test_hair_is_named_as_a_colourist_would(lab: tuple[float, float, float], name: str) -> None:
    assert hair_name(np.array(lab, np.float64)) == name


def test_auburn_turned_near_black_is_found_below_the_hair_threshold() -> None:
    before, after = values_of(hair=(26, 23, 27)), values_of(hair=(28, 4, 6))
    delta = float(delta_e2000(np.array([26, 23, 27]), np.array([28, 4, 6])))
    # 15.8 in issue 12, measured on the unrounded colours
    assert delta == pytest.approx(15.5, abs=0.05) and delta < THRESHOLDS["hair"]
    (change,) = compare(before, after)
    assert (change.attribute, change.before_name, change.after_name) == ("hair", "auburn", "black")
    assert change.message_fragment == (
        "hair auburn → black (ΔE 16; dark hair, chroma 35 → 7, hue 50° → 56°)"
    )


def relit(lab: tuple[float, float, float], gains: tuple[float, float, float]) -> np.ndarray:
    """A Lab colour as a camera sees it under another light (linear-light gains)."""
    from drift_audit.faces.colour import lab_to_rgb
    from scripts.attribute_edits import relight

    pixel = lab_to_rgb(np.array(lab, np.float32)).reshape(1, 1, 3)
    return rgb_to_lab(relight(pixel, gains)).reshape(3)


@pytest.mark.parametrize(
    "gains", [(0.75, 0.6, 0.42), (1.1, 1.25, 1.5), (0.5, 0.5, 0.5), (0.6, 0.7, 0.9)]
)
@pytest.mark.parametrize("hair", [(26, 23, 27), (32, 7, 14), (25, 6, 8), (32, 48, 22)])
def test_the_same_dark_hair_under_another_light_is_no_change(
    gains: tuple[float, float, float], hair: tuple[float, float, float]
) -> None:
    skin = (65.0, 18.0, 24.0)
    before = values_of(hair=hair, skin=skin)
    after = values_of(hair=tuple(relit(hair, gains)), skin=tuple(relit(skin, gains)))
    assert "hair" not in [c.attribute for c in compare(before, after)]


@pytest.mark.parametrize(("step", "reported"), [(17.9, False), (18.1, True)])
def test_compare_draws_the_line_at_the_threshold(step: float, reported: bool) -> None:
    before, after = values_of(hair=(50 - step / 2, 0, 0)), values_of(hair=(50 + step / 2, 0, 0))
    assert THRESHOLDS["hair"] == 18.0
    assert bool(compare(before, after)) == reported


def test_compare_counts_skin_lightness_at_half_weight() -> None:
    darker = compare(values_of(skin=(41, 20, 25)), values_of(skin=(59, 20, 25)))
    assert darker == []  # ΔE 18 at full weight: mostly the lighting
    tinted = compare(values_of(skin=(60, 15, 15)), values_of(skin=(60, 30, 40)))
    assert [c.attribute for c in tinted] == ["skin"]


def test_compare_ignores_attributes_invalid_on_either_side() -> None:
    assert compare(values_of(hair=(20, 2, 2)), values_of(skin=(60, 20, 25))) == []
    assert compare(values_of(upper_clothing=(20, 2, -10)), values_of()) == []


def test_compare_reports_facial_hair_appearing_and_disappearing() -> None:
    shaved = values_of(skin=SKIN_LAB, facial_hair=(60.0, 16.0, 21.0))
    bearded = values_of(skin=SKIN_LAB, facial_hair=CHIN_BEARD)
    assert facial_hair_score(shaved) < FACIAL_HAIR_PRESENT <= facial_hair_score(bearded)
    appeared = compare(shaved, bearded)
    assert [(c.attribute, c.before_name, c.after_name) for c in appeared] == [
        ("facial_hair", "none", "dark brown")
    ]
    assert appeared[0].message_fragment.startswith("facial hair none → dark brown (ΔE ")
    assert [(c.before_name, c.after_name) for c in compare(bearded, shaved)] == [
        ("dark brown", "none")
    ]


def test_compare_needs_facial_hair_to_move_by_its_threshold() -> None:
    # the score crosses FACIAL_HAIR_PRESENT but moves less than the threshold: noise
    below = values_of(skin=SKIN_LAB, facial_hair=(48.0, 14.0, 19.0))
    above = values_of(skin=SKIN_LAB, facial_hair=(44.0, 13.0, 18.0))
    scores = facial_hair_score(below), facial_hair_score(above)
    assert scores[0] < FACIAL_HAIR_PRESENT <= scores[1] < scores[0] + THRESHOLDS["facial_hair"]
    assert compare(below, above) == []


def test_compare_reports_a_recoloured_beard() -> None:
    dark = values_of(skin=SKIN_LAB, facial_hair=CHIN_BEARD)
    grey = values_of(skin=SKIN_LAB, facial_hair=(50.0, 0.0, 1.0))
    assert facial_hair_score(grey) >= FACIAL_HAIR_PRESENT
    assert [(c.before_name, c.after_name) for c in compare(dark, grey)] == [("dark brown", "grey")]


# --- real photos --------------------------------------------------------------------

needs_media = pytest.mark.skipif(
    not MEDIA.is_dir(), reason=f"{MEDIA} is absent (real faces are not in the repository)"
)


def real_photos(test: Callable[..., None]) -> Callable[..., None]:
    """Marks a test that runs MTCNN on ../shared/media (skipped without it)."""
    for mark in (needs_media, pytest.mark.media, pytest.mark.slow):
        test = mark(test)
    return test


PHOTOS = {
    "alex1": "faces/alex_lacamoire/alex1.png",
    "alex2": "faces/alex_lacamoire/alex2.jpg",
    "alex3": "faces/alex_lacamoire/alex3.jpg",
    "biden1": "faces/biden/biden1.jpg",
    "biden2": "faces/biden/biden2.jpg",
    "lmm1": "faces/lin_manuel_miranda/lmm1.png",
    "obama1": "faces/obama/obama1.jpg",
    "obama2": "faces/obama/obama2.jpg",
    "obama3": "faces/obama/obama3.jpg",
    "obama4": "faces/obama/obama4.jpg",
    "obama_240p": "faces/obama/obama_240p.jpg",
    "obama_small": "faces/obama/obama_small.jpg",
    "obama_partial_face": "faces/obama/obama_partial_face.jpg",
}
OBAMA = [name for name in PHOTOS if name.startswith("obama")]
SHAVED = [*OBAMA, "biden1", "biden2"]
# photos whose attribute an edit can change, chosen by looking at the edits (dark hair
# the mask covers; a garment in the frame); scripts/attribute_edits.py OUTDIR shows them
EDITED = {
    "hair_blond": ["alex2", "alex3", "lmm1", "obama1", "obama2", "obama4", "obama_240p"],
    "hair_red": ["alex2", "alex3", "lmm1", "obama1", "obama2", "obama4", "obama_240p"],
    "clothing_burgundy": ["alex2", "alex3", "biden1", "biden2", "obama1", "obama2", "obama3"],
    "clothing_light_grey": ["alex2", "alex3", "biden1", "biden2", "obama1", "obama2", "obama3"],
    "beard": [*SHAVED, "alex2", "alex3"],
    "skin_tan": ["alex1", "alex3", "biden1", "biden2", "lmm1", "obama1", "obama2", "obama4"],
}
RE_DETECTED = ["alex2", "biden2", "lmm1", "obama1", "obama2", "obama4"]


@dataclass
class Photo:
    frame: np.ndarray  # (H, W, 3) uint8 RGB, longer side <= 640
    box: np.ndarray  # (4,) xyxy of the largest face
    landmarks: np.ndarray  # (5, 2)
    values: np.ndarray  # (4, 4) measure()


Detect = Callable[[np.ndarray], Photo]
Edit = Callable[[str, str], np.ndarray]


@pytest.fixture(scope="module")
def detect() -> Iterator[Detect]:
    """frame -> Photo of its largest face, found by the project's MTCNN detector."""
    pytest.importorskip("facenet_pytorch", reason="facenet-pytorch (MTCNN) is not installed")
    import torch

    from drift_audit.faces.detect import MTCNNDetector

    detector = MTCNNDetector(max_side=640)
    # one thread: as fast on these small photos, and 30x faster when other processes
    # keep the cores busy (torch's worker threads then wait on each other)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    def largest(frame: np.ndarray) -> Photo:
        faces = detector.detect(frame[None], np.array([0]))
        assert len(faces), "no face found"
        i = int(np.argmax(faces.size))
        box, landmarks = faces.xyxy[i], faces.landmarks[i]
        return Photo(frame, box, landmarks, measure(frame, box, landmarks))

    yield largest
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def photos(detect: Detect) -> dict[str, Photo]:
    from scripts.attribute_edits import load_photo

    return {name: detect(load_photo(MEDIA / rel)) for name, rel in PHOTOS.items()}


@pytest.fixture(scope="module")
def edits(photos: dict[str, Photo]) -> Edit:
    """(photo name, edit name) -> the edited frame; each photo's masks are built once."""
    from scripts.attribute_edits import PhotoEdits

    cache: dict[str, PhotoEdits] = {}

    def edit(name: str, kind: str) -> np.ndarray:
        p = photos[name]
        cache.setdefault(name, PhotoEdits(p.frame, p.box, p.landmarks))
        return cache[name].edit(kind)

    return edit


def findings(before: np.ndarray, after: np.ndarray) -> list[str]:
    return [c.message_fragment for c in compare(before, after)]


def jpeg(frame: np.ndarray, quality: int = 60) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].copy()


CONTROLS = {
    "jpeg_q60": jpeg,
    "resized_70": lambda f: cv2.resize(f, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA),
    "cropped_4": lambda f: f[round(0.04 * f.shape[0]) :, round(0.04 * f.shape[1]) :].copy(),
}


@real_photos
@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("name", RE_DETECTED)
def test_re_encoded_resized_or_cropped_photo_raises_no_finding(
    photos: dict[str, Photo], detect: Detect, name: str, control: str
) -> None:
    again = detect(CONTROLS[control](photos[name].frame))
    assert findings(photos[name].values, again.values) == []


@real_photos
@pytest.mark.parametrize("name", PHOTOS)
def test_box_jitter_raises_no_finding(photos: dict[str, Photo], name: str) -> None:
    p = photos[name]
    w, h = p.box[2] - p.box[0], p.box[3] - p.box[1]
    for dx, dy, grow in itertools.product((-0.05, 0.05), (-0.05, 0.05), (-0.05, 0.05)):
        box = (
            p.box + np.array([dx * w, dy * h, dx * w, dy * h]) + grow * np.array([-w, -h, w, h]) / 2
        )
        assert findings(p.values, measure(p.frame, box, p.landmarks)) == [], (dx, dy, grow)


@real_photos
@pytest.mark.parametrize(
    ("name", "kind"), [(name, kind) for kind, names in EDITED.items() for name in names]
)
def test_an_edit_is_found_as_its_attribute_only(
    photos: dict[str, Photo], edits: Edit, name: str, kind: str
) -> None:
    from scripts.attribute_edits import EDITS

    p = photos[name]
    changes = compare(p.values, measure(edits(name, kind), p.box, p.landmarks))
    assert [c.attribute for c in changes] == [EDITS[kind]], [c.message_fragment for c in changes]
    change = changes[0]
    if kind == "hair_blond":
        assert change.after_name in ("blond", "dark blond")
    if kind == "hair_red":
        assert change.after_name == "red"
    if kind == "beard" and name in SHAVED:
        assert change.before_name == "none"


@real_photos
@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(OBAMA, 2)))
def test_obama_on_other_days_raises_no_finding(photos: dict[str, Photo], a: str, b: str) -> None:
    # checked by eye: the same short greying hair, dark suit, skin and no beard in all
    assert findings(photos[a].values, photos[b].values) == []


@real_photos
@pytest.mark.parametrize(("a", "b"), [("alex1", "alex2"), ("alex1", "alex3")])
def test_alex_on_other_days_raises_no_finding(photos: dict[str, Photo], a: str, b: str) -> None:
    assert findings(photos[a].values, photos[b].values) == []  # alex1 shows no clothing


@real_photos
def test_a_real_change_of_clothes_is_found(photos: dict[str, Photo]) -> None:
    # alex2 wears a grey jacket and white shirt, alex3 a black waistcoat over a blue shirt
    changes = {c.attribute: c for c in compare(photos["alex2"].values, photos["alex3"].values)}
    assert "upper_clothing" in changes
    assert (changes["upper_clothing"].before_name, changes["upper_clothing"].after_name) == (
        "grey",
        "black",
    )
    assert "hair" not in changes and "facial_hair" not in changes


@real_photos
def test_a_real_beard_is_told_from_a_shaved_chin(photos: dict[str, Photo]) -> None:
    for name in ("alex2", "alex3"):
        assert facial_hair_score(photos[name].values) >= FACIAL_HAIR_PRESENT, name
    for name in SHAVED:
        assert facial_hair_score(photos[name].values) < FACIAL_HAIR_PRESENT, name
    changes = compare(photos["obama1"].values, photos["alex2"].values)
    assert ("facial_hair", "none") in [(c.attribute, c.before_name) for c in changes]


@real_photos
@pytest.mark.xfail(strict=True, reason="skin colour follows the light (biden1 is under-exposed)")
# alex2 -> alex3 sits on the threshold (skin ΔE 10.2 with facenet-pytorch's detect_face
# landmarks, under 10 with drift_audit.faces.mtcnn's): not asserted either way.
@pytest.mark.parametrize(("a", "b"), [("biden1", "biden2")])
def test_skin_under_other_light_raises_no_finding(photos: dict[str, Photo], a: str, b: str) -> None:
    assert "skin" not in [c.attribute for c in compare(photos[a].values, photos[b].values)]


# long hair painted on the photos (none has any): recoloured, and relit as controls
LONG_HAIR = ["alex1", "alex2", "alex3", "biden1", "biden2", "lmm1", "obama1", "obama2", "obama4"]
LONG_HAIR_CASES = [
    *((name, "long_black") for name in [*LONG_HAIR, "obama3"]),
    *((name, "long_blond") for name in LONG_HAIR),  # obama3: blond before golden curtains
    *((name, "long_red_coat") for name in EDITED["clothing_burgundy"]),
]


@real_photos
@pytest.mark.parametrize(("name", "kind"), LONG_HAIR_CASES)
def test_a_long_hair_edit_is_found_as_its_attribute_only(
    photos: dict[str, Photo], edits: Edit, name: str, kind: str
) -> None:
    from scripts.attribute_edits import LONG_HAIR_EDITS

    p = photos[name]
    base, attribute = LONG_HAIR_EDITS[kind]
    before, after = (measure(edits(name, k), p.box, p.landmarks) for k in (base, kind))
    changes = compare(before, after)
    assert [c.attribute for c in changes] == [attribute], [c.message_fragment for c in changes]
    if kind == "long_black":
        assert (changes[0].before_name, changes[0].after_name) == ("auburn", "black")
    if kind == "long_blond":
        assert changes[0].after_name == "blond"


@real_photos
@pytest.mark.parametrize("kind", ["long_red_warm", "long_brown_cool"])
@pytest.mark.parametrize("name", [*LONG_HAIR, "obama3"])
def test_long_hair_under_another_light_is_no_hair_change(
    photos: dict[str, Photo], edits: Edit, name: str, kind: str
) -> None:
    from scripts.attribute_edits import LONG_HAIR_EDITS

    p = photos[name]
    base, _ = LONG_HAIR_EDITS[kind]
    before, after = (measure(edits(name, k), p.box, p.landmarks) for k in (base, kind))
    # the coat under a warm light may move (see README: clothing follows the light)
    assert "hair" not in [c.attribute for c in compare(before, after)]


@real_photos
def test_blond_long_hair_before_golden_curtains_is_not_taken_for_clothing(
    photos: dict[str, Photo], edits: Edit
) -> None:
    p = photos["obama3"]
    blond = measure(edits("obama3", "long_blond"), p.box, p.landmarks)
    assert blond[HAIR, 3] == 0.0  # hair and backdrop look alike: not measured
    brown = measure(edits("obama3", "long_brown"), p.box, p.landmarks)
    assert compare(brown, blond) == []  # and not "upper clothing navy -> blond"


def test_hair_stories_are_in_make_eval_with_attribute_drift_labelled() -> None:
    from scripts import stories
    from scripts.stories_hair import STORIES, hair_truth

    assert set(STORIES) <= set(stories.STORIES)
    assert {"hair_red_black", "hair_red_relit", "long_hair_coat"} <= set(STORIES)
    truth = hair_truth("x", "a test", "notes").to_json()
    assert truth["labelled"] == ["attribute_drift"] and truth["verdict"] == "pass"
