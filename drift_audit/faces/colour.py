"""Colour science for the appearance attributes: CIELAB, CIEDE2000, colour names."""

from __future__ import annotations

import cv2
import numpy as np


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray, k_l: float = 1.0) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005; kC = kH = 1), vectorised.

    Args:
        lab1: (..., 3) CIELAB colours.
        lab2: (..., 3) CIELAB colours, broadcastable against `lab1`.
        k_l: divides the lightness term; 2 counts lightness at half weight.
    Returns:
        (...) float64 ΔE2000.
    """
    # each repeated subexpression is computed once; the operations and their order
    # are the formula's, so the values are the same to the bit
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c7 / (c7 + 25.0**7)))
    stretch = 1 + g  # of a*
    a1_g, a2_g = a1 * stretch, a2 * stretch
    c1, c2 = np.hypot(a1_g, b1), np.hypot(a2_g, b2)
    h1 = np.degrees(np.arctan2(b1, a1_g)) % 360
    h2 = np.degrees(np.arctan2(b2, a2_g)) % 360
    c12, h12 = c1 * c2, h1 + h2
    grey = c12 == 0  # a hue is undefined: no hue difference, hue mean is the sum
    dh = np.where(grey, 0.0, (h2 - h1 + 180) % 360 - 180)
    d_hue = 2 * np.sqrt(c12) * np.sin(np.radians(dh / 2))
    h_mean = h12 / 2 + np.where(np.abs(h1 - h2) > 180, 180.0, 0.0)
    h_mean = np.where(grey, h12, h_mean % 360)
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    t = 1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
    t += 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    l50 = (l_mean - 50) ** 2
    s_l = 1 + 0.015 * l50 / np.sqrt(20 + l50)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    rotation = np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
    c_mean7 = c_mean**7
    r_t = -2 * np.sqrt(c_mean7 / (c_mean7 + 25.0**7)) * rotation
    dl, dc, dh_ = (l2 - l1) / (k_l * s_l), (c2 - c1) / s_c, d_hue / s_h
    return np.sqrt(dl**2 + dc**2 + dh_**2 + r_t * dc * dh_)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (..., 3) float32 CIELAB in true units (L 0..100)."""
    rgb = np.asarray(rgb, np.uint8)
    # whole rows of pixels, not one pixel a row: OpenCV pays per row (a 40 x 40 patch:
    # 65 us as 1600 rows of one pixel, 15 us as 40 rows), and each colour gets the same
    # Lab either way (all 2**24 were checked)
    rows = rgb.reshape(-1, *rgb.shape[-2:]) if rgb.ndim > 2 else rgb.reshape(1, -1, 3)
    return cv2.cvtColor(rows.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB).reshape(rgb.shape)


def median(lab: np.ndarray) -> np.ndarray:
    """(3,) float32 per-channel median of (n, 3) float32 Lab samples, n >= 1: what
    `np.median(lab, axis=0)` gives, without its overhead (`_channel_median`)."""
    return _channel_median(lab.T)


def _channel_median(columns: np.ndarray) -> np.ndarray:
    """(3,) float32 median of each row of (3, n) float32 channel rows, n >= 1: the
    middle value, or the float32 mean of the middle two when n is even, as np.median
    gives. Sorting is faster than np.partition here (numpy sorts float32 with SIMD).
    The same bits as np.median when there is no NaN and no -0.0 (which of two equal
    zeros lands in the middle depends on the algorithm): Lab from uint8 pixels has
    neither (all 2**24 colours were checked), so there is no NaN check."""
    ordered = np.sort(columns, axis=1)
    half = columns.shape[1] // 2
    if columns.shape[1] % 2:
        return ordered[:, half]
    return (ordered[:, half - 1] + ordered[:, half]) / np.float32(2)


_CHANNEL_BINS = np.array([[0], [3], [6]])  # `dominant`'s bincount offsets, per channel


def dominant(lab: np.ndarray, iterations: int = 8) -> np.ndarray:
    """(3,) float32: the per-channel median of the largest of 3 k-means clusters of
    (n, 3) Lab samples; the clusters start at lightness quantiles (deterministic).

    Samples are held as (3, n) channel rows: numpy is slow over a last axis of 3. The
    squared distances add their channels in the order a sum over that axis does,
    ((dL² + da²) + db²), and ties go to the lower cluster as argmin's do, so the
    clusters are the same to the bit. Distances are computed once per run of equal
    samples in lightness order: equal samples are equally far, and they mostly lie
    side by side in that order (on the crowd and short clips 28 % of the samples
    were distinct colours, and they made 28.6 % runs).
    """
    order = np.argsort(lab[:, 0])
    centres = lab[order[(np.array([1, 3, 5]) * len(lab)) // 6]].astype(np.float64)
    channels = np.ascontiguousarray(lab.T)  # (3, n) float32
    columns = channels.astype(np.float64)
    ordered = np.take(channels, order, axis=1)
    unlike = ordered[:, 1:] != ordered[:, :-1]
    first = np.ones(len(lab), bool)  # (n,) in lightness order: unlike the sample before
    np.logical_or(unlike[0], unlike[1], out=first[1:])
    first[1:] |= unlike[2]
    run_of = np.empty(len(lab), np.intp)  # (n,) each sample's run
    run_of[order] = np.cumsum(first) - 1
    runs = np.take(columns, order[first], axis=1)  # (3, m) float64: m runs' colours
    labels = np.full(len(runs[0]), -1)  # (m,) each run's cluster
    counts = np.zeros(3, np.intp)
    for _ in range(iterations):
        squares = (runs[None] - centres[:, :, None]) ** 2  # (3 clusters, 3 channels, m)
        distances = (squares[:, 0] + squares[:, 1]) + squares[:, 2]  # (3 clusters, m)
        moved = (distances[1] < distances[0]).astype(np.intp)
        moved[distances[2] < np.minimum(distances[0], distances[1])] = 2
        if (moved == labels).all():
            break  # a fixed point: the centres would not move again
        labels = moved
        members = labels[run_of]  # (n,) each sample's cluster
        counts = np.bincount(members, minlength=3)
        # one bincount for all three channels: bin 3 * channel + cluster, each summed
        # in sample order as a bincount per channel would
        sums = np.bincount((members + _CHANNEL_BINS).ravel(), columns.ravel(), minlength=9)
        hit = counts[:, None] > 0
        np.divide(sums.reshape(3, 3).T, counts[:, None], out=centres, where=hit)
    return _channel_median(np.compress(labels[run_of] == counts.argmax(), channels, axis=1))


def colour_name(lab: np.ndarray) -> str:
    """A coarse English name for a CIELAB colour ("dark brown", "blond", "navy", ...)."""
    light, a, b = (float(v) for v in np.asarray(lab, np.float64)[:3])
    chroma, hue = float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)) % 360)
    warm = 20 <= hue < 100
    if chroma < 6 or (chroma < 15 and warm and light >= 70) or (chroma < 10 and not warm):
        if light < 22:
            return "black"
        if light < 30 and 200 <= hue < 310 and chroma >= 5:
            return "navy"
        return "dark grey" if light < 45 else "grey" if light < 75 else "white"
    if warm and chroma < 40:  # browns, blonds and skin tones
        if light < 32:
            return "black" if light < 15 else "dark brown"
        if light < 50:
            return "brown"
        if hue >= 65:
            return "blond" if chroma >= 22 else "beige"
        return "tan" if chroma >= 25 and light < 75 else "beige"
    for name, end in (("red", 45), ("orange", 70), ("yellow", 105), ("green", 190)):
        if hue < end or hue >= 345:
            if name == "red" and light >= 65:
                return "pink"
            return "brown" if name == "orange" and hue >= 45 and light < 50 else name
    if hue < 310:
        return "navy" if light < 30 else "blue"
    return "purple" if light < 60 else "pink"


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) CIELAB (true units) -> (..., 3) uint8 RGB, clipped to the gamut."""
    flat = np.asarray(lab, np.float32).reshape(-1, 1, 3)
    rgb = cv2.cvtColor(flat, cv2.COLOR_LAB2RGB).reshape(np.shape(lab))
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def chroma_hue(lab: np.ndarray) -> tuple[float, float]:
    """(C*ab, hue angle in degrees 0..360) of one CIELAB colour."""
    a, b = float(lab[1]), float(lab[2])
    return float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)) % 360)


def hair_name(lab: np.ndarray) -> str:
    """A colourist's name for a hair (or beard) colour: black, dark brown, brown, light
    brown, auburn, red, ginger, strawberry blond, blond, ash blond, platinum, dark grey,
    grey, silver, white; a dyed colour outside those hues gets `colour_name`'s name.

    Measured hair colours (CIELAB) it was written against: auburn (26, 23, 27),
    near-black (28, 4, 6), dyed red (32, 48, 22), golden blond (72, 4, 30), dark brown
    (25, 6, 8), grey beard (50, 0, 1).
    """
    light = float(lab[0])
    chroma, hue = chroma_hue(lab)
    warm = 20 <= hue < 110
    if chroma < 8 or (chroma < 12 and light >= 75):
        if light >= 75 and chroma >= 4 and warm:
            return "platinum"
        for name, end in (("black", 33), ("dark grey", 48), ("grey", 68), ("silver", 85)):
            if light < end:
                return name
        return "white"
    if hue < 35 or hue >= 330:  # toward magenta-red: dyed or natural red
        if chroma >= 25:
            return "red" if light < 60 else "pink"
        return "auburn" if light < 40 else "strawberry blond"
    if hue < 62 and chroma >= 25:  # red-orange: auburn when dark, ginger when light
        return "auburn" if light < 38 else "ginger" if light < 62 else "strawberry blond"
    if not warm:
        return colour_name(lab)
    if light < 22:
        return "black"
    if light < 32:
        return "dark brown"
    if light < 48:
        return "brown"
    if light < 58:
        return "light brown" if chroma < 22 else "dark blond"
    if chroma >= 14:
        return "blond"
    return "platinum" if light >= 70 else "ash blond"


DARK_HAIR = (50.0, 18.0, 0.45, 30.0, 8.0)
"""The dark-colour test (`dark_change`): below lightness 50 on both sides, a change of
at least ΔE 8 counts when the chroma, once the skin's chroma change is taken out, falls
or grows to 0.45 of the other side's or less with the larger at least 18 (auburn
(26, 23, 27) -> near-black (28, 4, 6): chroma 35 -> 7, although ΔE2000 is only 15.5),
or when two coloured sides (chroma >= 18) turn hue by 30 degrees more than the skin
does. ΔE2000 squeezes chroma differences of dark colours (its chroma weight grows with
chroma), so dark coloured hair dyed black stays under the hair threshold. A light
that dims or tints the scene moves the skin's chroma and hue too, and that much of the
change is not counted (tests/test_attributes.py relights hair and skin together)."""


def dark_change(
    a: np.ndarray, b: np.ndarray, skins: tuple[np.ndarray, np.ndarray] | None = None
) -> bool:
    """Whether the dark colour `a` changed into `b` by DARK_HAIR's hue and chroma test.

    Args:
        a: (3,) Lab before; b: (3,) Lab after.
        skins: (3,) Lab of the skin before and after, the light's reference; None
            when either is unknown (no correction).
    """
    max_light, min_chroma, ratio, turn, min_delta = DARK_HAIR
    if max(float(a[0]), float(b[0])) >= max_light or float(delta_e2000(a, b)) < min_delta:
        return False
    (ca, ha), (cb, hb) = chroma_hue(a), chroma_hue(b)
    gain, skin_turn = 1.0, 0.0
    if skins is not None:
        (sa, sha), (sb, shb) = chroma_hue(skins[0]), chroma_hue(skins[1])
        gain = float(np.clip(sb / max(sa, 1e-6), 0.5, 2.0))
        skin_turn = (shb - sha + 180) % 360 - 180
    cb /= gain
    if max(ca, cb) >= min_chroma and min(ca, cb) <= ratio * max(ca, cb):
        return True
    hue_turn = abs(((hb - ha + 180) % 360 - 180) - skin_turn)
    return min(ca, cb) >= min_chroma and hue_turn >= turn
