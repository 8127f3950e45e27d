"""The contact sheet: one PNG of the character x clip grid of faces, drawn with OpenCV.

One row per character (label, anchor image, one thumbnail per readable clip with its
similarity to the anchor under it, coloured as in the HTML report), under a header
row naming the clips.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drift_audit import __version__
from drift_audit.report.common import THUMB_PX, as_rgb, cell_level, readable, thumbnail, verdict
from drift_audit.types import Character, ClipResult, EmbedderInfo, Report

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_PAD = 6
_CELL_W = THUMB_PX + 2 * _PAD
_LABEL_W = 170
_TITLE_H = 30
_HEAD_H = 44
_ROW_H = THUMB_PX + 2 * _PAD + 40

# BGR
_BG = (249, 247, 246)
_INK = (43, 35, 29)
_MUTED = (133, 112, 102)
_LINE = (230, 225, 221)
_TEXT = {"ok": (59, 127, 27), "unsure": (0, 106, 178), "bad": (40, 40, 198), "none": _MUTED}
_TINT = {
    "ok": (255, 255, 255),
    "unsure": (224, 244, 255),
    "bad": (234, 236, 253),
    "none": (255, 255, 255),
}
_VERDICT = {"PASS": (87, 139, 46), "FAIL": (40, 40, 198), "INCOMPLETE": (9, 83, 180)}


def _ascii(text: str) -> str:
    # Hershey fonts draw ASCII only; anything else would come out as "?" anyway.
    return text.encode("ascii", "replace").decode("ascii")


def _fit_text(text: str, width: int, scale: float, thickness: int = 1) -> str:
    """The text, cut with ".." so that it fits in `width` pixels."""
    text = _ascii(text)
    if cv2.getTextSize(text, _FONT, scale, thickness)[0][0] <= width:
        return text
    while text and cv2.getTextSize(text + "..", _FONT, scale, thickness)[0][0] > width:
        text = text[:-1]
    return text + ".."


def _put(
    img: np.ndarray,
    text: str,
    x: int,
    y: int,
    width: int,
    *,
    scale: float = 0.45,
    colour: tuple[int, int, int] = _INK,
    thickness: int = 1,
    centre: bool = False,
) -> None:
    text = _fit_text(text, width, scale, thickness)
    if centre:
        x += (width - cv2.getTextSize(text, _FONT, scale, thickness)[0][0]) // 2
    cv2.putText(img, text, (x, y), _FONT, scale, colour, thickness, cv2.LINE_AA)


def _paste(img: np.ndarray, face: np.ndarray | None, x: int, y: int) -> bool:
    bgr = thumbnail(face)
    if bgr is None:
        return False
    img[y : y + THUMB_PX, x : x + THUMB_PX] = bgr
    return True


def _placeholder(img: np.ndarray, x: int, y: int, text: str) -> None:
    cv2.rectangle(img, (x, y), (x + THUMB_PX - 1, y + THUMB_PX - 1), (220, 212, 207), 1)
    _put(
        img,
        text,
        x + 4,
        y + THUMB_PX // 2 + 4,
        THUMB_PX - 8,
        scale=0.38,
        colour=_MUTED,
        centre=True,
    )


def _row(
    img: np.ndarray, ch: Character, ok: list[ClipResult], emb: EmbedderInfo | None, y: int
) -> None:
    x = _PAD
    _put(img, ch.id, x, y + 22, _LABEL_W - 2 * _PAD, scale=0.6, thickness=2)
    lines = [ch.name] if ch.name else []
    if ch.coherence_horizon is not None:
        lines.append(f"diverges: clip {ch.coherence_horizon}")
    if len(ch.clip_similarity) > 1:
        lines.append(f"drift {ch.drift_slope:+.3f}/clip")
    for k, line in enumerate(lines):
        _put(
            img,
            line,
            x,
            y + 44 + 18 * k,
            _LABEL_W - 2 * _PAD,
            scale=0.45,
            colour=_INK if k == 0 and ch.name else _MUTED,
        )
    x = _LABEL_W
    cv2.rectangle(img, (x, y + 2), (x + _CELL_W - 1, y + _ROW_H - 3), (248, 242, 238), -1)
    if not _paste(img, ch.anchor_image, x + _PAD, y + _PAD):
        _placeholder(img, x + _PAD, y + _PAD, "no image")
    caption = f"cast: {ch.name}" if ch.name else "first appearance"
    _put(img, caption, x + 2, y + THUMB_PX + _PAD + 20, _CELL_W - 4, scale=0.4, centre=True)
    for clip in ok:
        x += _CELL_W
        _cell(img, ch, clip.index, emb, x, y)


def _cell(
    img: np.ndarray, ch: Character, clip: int, emb: EmbedderInfo | None, x: int, y: int
) -> None:
    """A character's cell in one clip: its face tinted by level, the similarity under it."""
    sim = ch.clip_similarity.get(clip)
    thumb = ch.thumbnails.get(clip)
    if sim is None and as_rgb(thumb) is None:
        cv2.rectangle(img, (x, y + 2), (x + _CELL_W - 1, y + _ROW_H - 3), (245, 243, 242), -1)
        _placeholder(img, x + _PAD, y + _PAD, "not in clip")
        return
    lvl = cell_level(ch, clip, emb)
    cv2.rectangle(img, (x, y + 2), (x + _CELL_W - 1, y + _ROW_H - 3), _TINT[lvl], -1)
    if not _paste(img, thumb, x + _PAD, y + _PAD):
        _placeholder(img, x + _PAD, y + _PAD, "no image")
    text = "-" if sim is None else f"{sim:.2f}"
    _put(
        img,
        text,
        x,
        y + THUMB_PX + _PAD + 24,
        _CELL_W,
        scale=0.6,
        colour=_TEXT[lvl],
        thickness=2,
        centre=True,
    )


def _encode(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise RuntimeError("OpenCV could not encode the contact sheet as PNG")
    return buf.tobytes()


def render_contact_sheet(report: Report) -> bytes:
    """The character x clip grid as PNG bytes.

    Args:
        report: the audit to draw.

    Returns:
        A PNG; a small one that says so when no face was found or no clip was readable.
    """
    ok = readable(report)
    emb = report.embedder
    if not report.characters:
        img = np.full((60, 360, 3), _BG, np.uint8)
        _put(img, "no faces found" if ok else "no readable clips", 12, 36, 336, scale=0.7)
        return _encode(img)
    width = max(_LABEL_W + _CELL_W * (1 + len(ok)) + _PAD, 520)
    height = _TITLE_H + _HEAD_H + _ROW_H * len(report.characters) + _PAD
    img = np.full((height, width, 3), _BG, np.uint8)

    v = verdict(report)
    title = f"drift-audit {__version__}"
    if emb is not None:
        title += f" | {emb.name}, threshold {emb.threshold:.2f}"
    _put(img, v, _PAD, 21, 120, scale=0.6, colour=_VERDICT[v], thickness=2)
    _put(img, title, _PAD + 120, 21, width - 120 - 2 * _PAD, scale=0.5, colour=_MUTED)

    y = _TITLE_H
    _put(img, "character", _PAD, y + 28, _LABEL_W - 2 * _PAD, colour=_MUTED)
    _put(img, "anchor", _LABEL_W, y + 28, _CELL_W, colour=_MUTED, centre=True)
    for k, clip in enumerate(ok):
        x = _LABEL_W + _CELL_W * (k + 1)
        _put(img, f"clip {clip.index}", x, y + 18, _CELL_W, scale=0.5, thickness=2, centre=True)
        _put(
            img,
            Path(clip.path).name,
            x + 2,
            y + 36,
            _CELL_W - 4,
            scale=0.38,
            colour=_MUTED,
            centre=True,
        )
    y += _HEAD_H
    for ch in report.characters:
        cv2.line(img, (_PAD, y), (width - _PAD, y), _LINE, 1)
        _row(img, ch, ok, emb, y)
        y += _ROW_H
    return _encode(img)
