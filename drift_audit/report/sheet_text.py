"""Text for the contact sheet: a font that draws non-ASCII names, and lines fitted or
wrapped to a width in pixels.

Pillow's bundled default font draws ASCII only (every accented letter comes out as
the same box), so DejaVu Sans is looked for where Linux distributions and matplotlib
install it; without it, Pillow's default is the fallback.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_SYSTEM_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
)


def _candidates(bold: bool) -> list[Path]:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    paths = [Path(d) / name for d in _SYSTEM_DIRS]
    spec = importlib.util.find_spec("matplotlib")  # finds, does not import
    if spec is not None and spec.origin is not None:
        paths.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name)
    return paths


@lru_cache(maxsize=8)
def font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans (Bold) at `size` px, or Pillow's default font when it is not found."""
    for path in _candidates(bold):
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def fit(text: str, face: Font, width: int) -> str:
    """The text, cut with "…" so that it fits in `width` pixels."""
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, face: Font, width: int) -> list[str]:
    """The text broken at spaces into lines of at most `width` pixels (a word longer
    than a line is cut by `fit`)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if line and face.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines
