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
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c7 / (c7 + 25.0**7)))
    c1, c2 = np.hypot(a1 * (1 + g), b1), np.hypot(a2 * (1 + g), b2)
    h1 = np.degrees(np.arctan2(b1, a1 * (1 + g))) % 360
    h2 = np.degrees(np.arctan2(b2, a2 * (1 + g))) % 360
    grey = c1 * c2 == 0  # a hue is undefined: no hue difference, hue mean is the sum
    dh = np.where(grey, 0.0, (h2 - h1 + 180) % 360 - 180)
    d_hue = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    h_mean = (h1 + h2) / 2 + np.where(np.abs(h1 - h2) > 180, 180.0, 0.0)
    h_mean = np.where(grey, h1 + h2, h_mean % 360)
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    t = 1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
    t += 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    rotation = np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
    r_t = -2 * np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)) * rotation
    dl, dc, dh_ = (l2 - l1) / (k_l * s_l), (c2 - c1) / s_c, d_hue / s_h
    return np.sqrt(dl**2 + dc**2 + dh_**2 + r_t * dc * dh_)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (..., 3) float32 CIELAB in true units (L 0..100)."""
    rgb = np.asarray(rgb, np.uint8)
    flat = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2LAB).reshape(rgb.shape).astype(np.float32)


def dominant(lab: np.ndarray, iterations: int = 8) -> np.ndarray:
    """(3,) float32: the per-channel median of the largest of 3 k-means clusters of
    (n, 3) Lab samples; the clusters start at lightness quantiles (deterministic)."""
    order = np.argsort(lab[:, 0])
    centres = lab[order[(np.array([1, 3, 5]) * len(lab)) // 6]].astype(np.float64)
    for _ in range(iterations):
        labels = np.argmin(((lab[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for k in range(3):
            if (labels == k).any():
                centres[k] = lab[labels == k].mean(axis=0)
    largest = np.bincount(labels, minlength=3).argmax()
    return np.median(lab[labels == largest], axis=0).astype(np.float32)


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
