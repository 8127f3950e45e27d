"""Frame-index stamps: a row of black/white cells along a frame's top edge.

The stamp survives lossy compression (H.264, MPEG-4 part 2, VP9, ...) and any later
resize of the whole frame down to about a third of its size, because its geometry is
defined in fractions of the frame's width and height and each cell is large.

Layout, left to right, on a mid-grey band covering the top ``BAND_FRACTION`` of the
frame: a white start cell, ``INDEX_BITS`` index bits (most significant first), two
checksum bits (the popcount of the index modulo 4) and a black end cell. Scene content
must be drawn below ``band_height(h)`` only.
"""

from __future__ import annotations

import numpy as np

N_CELLS = 16
"""Cells in the stamp row: start, 12 index bits, 2 checksum bits, end."""

INDEX_BITS = 12
"""Bits of frame index carried by a stamp."""

MAX_INDEX = (1 << INDEX_BITS) - 1
"""Largest index a stamp can carry (4095)."""

BAND_FRACTION = 1 / 8
"""Fraction of the frame height taken by the grey band at the top."""

GREY = 128
WHITE = 255
BLACK = 0

_MARGIN_X = 1 / 40  # of the width, left and right of the cell row
_INSET_X = 0.12  # of a cell's pitch, grey gap on each side of a cell
_INSET_Y = 0.15  # of the band height, grey gap above and below the cells
_SAMPLE = 0.25  # half-size of the sampled cell centre, in cell pitches / band heights
_MIN_CONTRAST = 48  # a cell's mean must be this far from mid-grey to count as a bit


def band_height(height: int) -> int:
    """Rows at the top of a frame of `height` rows that the stamp band covers."""
    return max(4, round(height * BAND_FRACTION))


def _checksum(index: int) -> int:
    return bin(index).count("1") % 4


def _cells(index: int) -> list[int]:
    bits = [(index >> (INDEX_BITS - 1 - i)) & 1 for i in range(INDEX_BITS)]
    check = _checksum(index)
    return [1, *bits, (check >> 1) & 1, check & 1, 0]


def _cell_x(width: int, i: int) -> tuple[float, float]:
    """Left and right edge (float pixels) of cell `i` including its grey gap."""
    margin = width * _MARGIN_X
    pitch = (width - 2 * margin) / N_CELLS
    return margin + i * pitch, margin + (i + 1) * pitch


def draw_stamp(img: np.ndarray, index: int) -> None:
    """Draw the stamp for `index` in place over the top band of `img`.

    Args:
        img: (h, w, 3) uint8 RGB frame, modified in place.
        index: frame index, 0..MAX_INDEX.

    Raises:
        ValueError: if `img` is not (h, w, 3) uint8 or `index` is out of range.
    """
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"img must be (h, w, 3) uint8, got {img.shape} {img.dtype}")
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"index must be in 0..{MAX_INDEX}, got {index}")
    h, w = img.shape[:2]
    bh = band_height(h)
    img[:bh] = GREY
    y0, y1 = round(bh * _INSET_Y), round(bh * (1 - _INSET_Y))
    for i, bit in enumerate(_cells(index)):
        left, right = _cell_x(w, i)
        inset = (right - left) * _INSET_X
        x0, x1 = round(left + inset), round(right - inset)
        img[y0:y1, x0:x1] = WHITE if bit else BLACK


def read_stamp(img: np.ndarray) -> int | None:
    """Read the frame index stamped on `img`, at any scale down to about 1/3.

    Args:
        img: (h, w, 3) uint8 RGB frame (BGR works too: the stamp is grey-scale), or
            (h, w) grey.

    Returns:
        The index, or None when there is no valid stamp (an unclear cell, a wrong
        start/end cell, or a checksum mismatch).
    """
    if img.ndim == 3:
        grey = img.astype(np.float32).mean(axis=2)
    elif img.ndim == 2:
        grey = img.astype(np.float32)
    else:
        return None
    h, w = grey.shape
    bh = h * BAND_FRACTION
    if bh < 3 or w < 2 * N_CELLS:
        return None
    yc = bh / 2
    ys0 = int(yc - bh * _SAMPLE)
    ys1 = max(ys0 + 1, int(np.ceil(yc + bh * _SAMPLE)))
    bits: list[int] = []
    for i in range(N_CELLS):
        left, right = _cell_x(w, i)
        pitch = right - left
        xc = (left + right) / 2
        xs0 = int(xc - pitch * _SAMPLE)
        xs1 = max(xs0 + 1, int(np.ceil(xc + pitch * _SAMPLE)))
        mean = float(grey[ys0:ys1, xs0:xs1].mean())
        if abs(mean - GREY) < _MIN_CONTRAST:
            return None
        bits.append(int(mean > GREY))
    if bits[0] != 1 or bits[-1] != 0:
        return None
    index = 0
    for bit in bits[1 : 1 + INDEX_BITS]:
        index = (index << 1) | bit
    check = (bits[1 + INDEX_BITS] << 1) | bits[2 + INDEX_BITS]
    return index if check == _checksum(index) else None


def read_stamp_any_rotation(img: np.ndarray) -> tuple[int, int] | None:
    """Find a stamp on `img` under any of the four right-angle rotations.

    Returns:
        (index, k) where `np.rot90(img, k)` brings the stamp to the top edge, or None.
    """
    for k in range(4):
        index = read_stamp(np.rot90(img, k))
        if index is not None:
            return index, k
    return None
