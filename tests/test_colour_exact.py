"""The fast forms in faces/colour.py give the bits of the plain numpy and OpenCV forms
they replaced: attribute measures, and so golden reports, must not move by an ulp."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from drift_audit.faces.colour import dominant, median, rgb_to_lab


def _plain_dominant(lab: np.ndarray, iterations: int = 8) -> np.ndarray:
    """`dominant` as it was first written: the (n, 3, 3) broadcast k-means."""
    order = np.argsort(lab[:, 0])
    centres = lab[order[(np.array([1, 3, 5]) * len(lab)) // 6]].astype(np.float64)
    samples = lab.astype(np.float64)
    labels = np.full(len(lab), -1)
    for _ in range(iterations):
        moved = np.argmin(((samples[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        if np.array_equal(moved, labels):
            break
        labels = moved
        counts = np.bincount(labels, minlength=3)
        sums = np.stack([np.bincount(labels, samples[:, c], minlength=3) for c in range(3)], 1)
        hit = counts > 0
        centres[hit] = sums[hit] / counts[hit, None]
    largest = np.bincount(labels, minlength=3).argmax()
    return np.median(lab[labels == largest], axis=0).astype(np.float32)


def _lab_samples(rng: np.random.Generator, n: int, colours: int, noise: float) -> np.ndarray:
    """(n, 3) float32 Lab of pixels drawn from a few colours (repeats, as in a region),
    with some noise: what `dominant` and `median` get from `sample`."""
    palette = rng.integers(0, 256, (colours, 3))
    rgb = palette[rng.integers(0, colours, n)] + rng.normal(0, noise, (n, 3))
    return rgb_to_lab(np.clip(np.round(rgb), 0, 255).astype(np.uint8))


_PALETTES = ((3, 0.0), (12, 2.0), (200, 8.0))  # (colours, RGB noise) of `_lab_samples`


@pytest.mark.parametrize("seed", range(4))
def test_dominant_and_median_give_the_plain_forms_bits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in (*range(1, 40, 3), 1000, 1001, 3200):
        # pixels' Lab; then a small grid of whole numbers, where distances tie exactly
        # and samples share L and a but not b
        grid = (rng.integers(0, 4, (n, 3)) * (10, 3, 3)).astype(np.float32)
        for lab in (*(_lab_samples(rng, n, k, noise) for k, noise in _PALETTES), grid):
            assert dominant(lab).tobytes() == _plain_dominant(lab).tobytes(), n
            assert median(lab).tobytes() == np.median(lab, axis=0).tobytes(), n


def test_rgb_to_lab_gives_the_per_pixel_conversions_bits() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (60, 70, 3), dtype=np.uint8)
    per_pixel = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0  # one pixel a row
    expected = cv2.cvtColor(per_pixel, cv2.COLOR_RGB2LAB).reshape(rgb.shape)
    cases = {
        "(h, w, 3)": (rgb, expected),
        "(n, 3)": (rgb.reshape(-1, 3), expected.reshape(-1, 3)),
        "a view": (rgb[:, :37], expected[:, :37]),
        "(w, 3)": (rgb[5], expected[5]),
        "(3,)": (rgb[5, 6], expected[5, 6]),
    }
    for name, (pixels, want) in cases.items():
        got = rgb_to_lab(pixels)
        assert got.dtype == np.float32 and got.shape == want.shape, name
        assert got.tobytes() == want.tobytes(), name
