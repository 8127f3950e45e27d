#!/usr/bin/env python3
"""The throughput sets of `make bench`, built from ../shared/media.

- `short_set`: seven short clips like a generator's output (33 s of video): six
  1280x720 H.264 clips of 4-5.5 s, one or two shots each, and one 1280x720
  MPEG-4 Part 2 AVI (the held-out set of issue 14 had the same mix).
- `crowd_set`: three 1920x1080 H.264 clips of 4.2 s, seven people walking across
  and toward the camera in each (heads cut from the photos, faces 60-190 px wide;
  the second mirrored, the third walking the other way).

Usage: python scripts/bench_clips.py OUTDIR   # builds both, prints the paths
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts.make_fixtures import encode_frames, ffmpeg_exe, run_ffmpeg  # noqa: E402
from scripts.media_clips import MEDIA, build_clip  # noqa: E402
from scripts.stories import X264, cut_sprite, faces_table, read_rgb  # noqa: E402

F, G = MEDIA / "faces", MEDIA / "group"
HD = (1280, 720)
SHORT: list[tuple[str, list[tuple[Path, float]]]] = [
    ("s1.mp4", [(F / "obama/obama1.jpg", 2.5), (F / "biden/biden1.jpg", 2.0)]),
    ("s2.mp4", [(G / "obama_biden_1.jpg", 5.0)]),
    ("s3.mp4", [(F / "alex_lacamoire/alex2.jpg", 3.0), (F / "obama/obama2.jpg", 2.5)]),
    ("s4.mp4", [(F / "biden/biden2.jpg", 4.0)]),
    ("s5.mp4", [(G / "obama_biden_2.jpg", 3.0), (F / "obama/obama3.jpg", 2.0)]),
    ("s6.mp4", [(F / "lin_manuel_miranda/lmm1.png", 4.0)]),
    ("s7.avi", [(F / "obama/obama4.jpg", 2.5), (F / "alex_lacamoire/alex3.jpg", 2.5)]),
]
CROWD = [  # photo, start (cx, cy, face width) and end, in 1080p pixels
    ("faces/obama/obama1.jpg", (200, 300, 70), (520, 420, 150)),
    ("faces/biden/biden1.jpg", (1700, 280, 70), (1380, 430, 160)),
    ("faces/alex_lacamoire/alex2.jpg", (700, 250, 60), (820, 330, 110)),
    ("faces/lin_manuel_miranda/lmm1.png", (1150, 240, 60), (1040, 320, 105)),
    ("faces/obama/obama3.jpg", (400, 700, 120), (760, 720, 130)),
    ("faces/biden/biden2.jpg", (1500, 720, 120), (1150, 760, 140)),
    ("faces/alex_lacamoire/alex3.jpg", (960, 520, 90), (980, 600, 190)),
]
FULL_HD = (1920, 1080)


def short_set(out: Path) -> list[Path]:
    """The seven short clips (skipped where present), in story order."""
    clips = []
    for name, shots in SHORT:
        if name.endswith(".avi"):
            clips.append(_avi(out / name, shots))
        else:
            clips.append(build_clip(out / name, shots, HD, 25))
    return clips


def _avi(out: Path, shots: list[tuple[Path, float]]) -> Path:
    """The shots as an MPEG-4 Part 2 AVI (transcoded from their H.264 build)."""
    if out.exists():
        return out
    mp4 = build_clip(out.with_name(f".{out.stem}.h264.mp4"), shots, HD, 25)
    tmp = out.with_name(f".{out.name}.tmp.avi")
    run_ffmpeg(ffmpeg_exe(), ["-y", "-i", str(mp4), "-c:v", "mpeg4", "-q:v", "4", str(tmp)])
    tmp.replace(out)
    mp4.unlink()
    return out


def crowd_set(out: Path) -> list[Path]:
    """The three crowd clips (skipped where present)."""
    return [crowd_1080p(out / f"crowd{k}_1080p.mp4", k) for k in range(3)]


def crowd_1080p(out: Path, variant: int = 0, seconds: float = 4.2, fps: int = 25) -> Path:
    """Seven people walking, 1920x1080 (skipped when present). Variant 1 is mirrored,
    variant 2 walks from the end positions to the start ones."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    table = faces_table()["photos"]
    sprites = [cut_sprite(read_rgb(p), table[p][0][1]) for p, _, _ in CROWD]
    paths = [(p0, p1) if variant != 2 else (p1, p0) for _, p0, p1 in CROWD]
    if variant == 1:
        paths = [((1920 - a[0], *a[1:]), (1920 - b[0], *b[1:])) for a, b in paths]
    w, h = FULL_HD
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    backdrop = (1 - y) * np.array([0.30, 0.33, 0.38], np.float32) + y * np.array(
        [0.60, 0.55, 0.47], np.float32
    )
    backdrop = np.broadcast_to(backdrop, (h, w, 3)).copy()
    n = round(seconds * fps)
    rng = np.random.default_rng(14 + variant)

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            t = i / (n - 1)
            frame = backdrop.copy()
            people = [
                (s, [(1 - t) * a + t * b for a, b in zip(p0, p1, strict=True)])
                for s, (_, p0, p1) in zip(sprites, CROWD, strict=True)
            ]
            for sprite, (cx, cy, fw) in sorted(people, key=lambda p: p[1][2]):  # far first
                _paste(frame, sprite, cx + 6 * math.sin(6 * t + cx), cy, fw)
            noise = rng.normal(0.0, 1.5, frame.shape).astype(np.float32)
            yield np.clip(frame * 255 + noise, 0, 255).astype(np.uint8)

    tmp = out.with_name(f".{out.name}.tmp.mp4")
    encode_frames(ffmpeg_exe(), frames(), FULL_HD, tmp, X264, fps=fps)
    tmp.replace(out)
    return out


def _paste(frame: np.ndarray, sprite: object, cx: float, cy: float, fw: float) -> None:
    """Alpha-blend a head sprite so that its face box is `fw` wide, centred at (cx, cy)."""
    rgba, face = sprite.rgba, sprite.face  # type: ignore[attr-defined]
    s = fw / float(face[2] - face[0])
    nw, nh = max(1, round(rgba.shape[1] * s)), max(1, round(rgba.shape[0] * s))
    small = cv2.resize(rgba, (nw, nh), interpolation=cv2.INTER_AREA)
    ox = round(cx - (face[0] + face[2]) / 2 * s)
    oy = round(cy - (face[1] + face[3]) / 2 * s)
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + nw, frame.shape[1]), min(oy + nh, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    part = small[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    a = part[..., 3:]
    frame[y0:y1, x0:x1] = frame[y0:y1, x0:x1] * (1 - a) + part[..., :3] * a


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    for path in [*short_set(out), *crowd_set(out)]:
        print(path)


if __name__ == "__main__":
    main()
