#!/usr/bin/env python3
"""Build test and benchmark clips from the real photos in ../shared/media.

Each shot is one photo, letterboxed onto a 16:9 canvas and filmed with a slow
camera move (zoom and pan), so faces move, scale and get re-encoded like footage.
Consecutive shots are separated by hard cuts. Encoded as H.264 with the ffmpeg
binary bundled by imageio-ffmpeg.

Usage:
    python scripts/media_clips.py OUTDIR   # builds the clip sets listed in CLIP_SETS
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts.make_fixtures import encode_frames, ffmpeg_exe  # noqa: E402

MEDIA = REPO_ROOT.parent / "shared" / "media"

# name -> clips in story order; each clip is a list of (photo relative to media/, seconds)
CLIP_SETS: dict[str, list[list[tuple[str, float]]]] = {
    "consistent": [
        [("faces/obama/obama1.jpg", 2.0)],
        [("faces/obama/obama2.jpg", 1.6), ("faces/obama/obama3.jpg", 1.6)],
        [("faces/obama/obama4.jpg", 2.0)],
    ],
    "swap": [
        [("faces/obama/obama1.jpg", 2.0)],
        [("faces/obama/obama2.jpg", 2.0)],
        [("faces/biden/biden1.jpg", 2.0)],
    ],
}


def _canvas(photo: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The photo fitted inside a (w, h) canvas 1.25x the output, on a blurred fill."""
    w, h = int(size[0] * 1.25), int(size[1] * 1.25)
    fill = cv2.GaussianBlur(cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA), (0, 0), 15)
    scale = min(w / photo.shape[1], h / photo.shape[0])
    pw, ph = round(photo.shape[1] * scale), round(photo.shape[0] * scale)
    inner = cv2.resize(
        photo, (pw, ph), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    )
    x, y = (w - pw) // 2, (h - ph) // 2
    fill[y : y + ph, x : x + pw] = inner
    return fill


def shot_frames(
    photo: Path, seconds: float, size: tuple[int, int], fps: int, seed: int
) -> Iterator[np.ndarray]:
    """RGB frames of one shot: a slow zoom from 1.0 to 1.12 with a small pan."""
    bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(photo)
    canvas = _canvas(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size)
    ch, cw = canvas.shape[:2]
    rng = np.random.default_rng(seed)
    dx, dy = rng.uniform(-0.04, 0.04, 2)
    n = max(1, round(seconds * fps))
    for i in range(n):
        p = i / max(1, n - 1)
        zoom = 1.0 + 0.12 * p
        vw, vh = cw / zoom, ch / zoom
        cx, cy = cw / 2 + dx * cw * p, ch / 2 + dy * ch * p
        x0, y0 = cx - vw / 2, cy - vh / 2
        s = size[0] / vw
        m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float32)
        yield cv2.warpAffine(canvas, m, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def build_clip(
    out: Path, shots: list[tuple[Path, float]], size: tuple[int, int] = (640, 360), fps: int = 25
) -> Path:
    """Encode the shots, in order, into one H.264 MP4 at `out` (skipped if present)."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.mp4")

    def frames() -> Iterator[np.ndarray]:
        for k, (photo, seconds) in enumerate(shots):
            yield from shot_frames(photo, seconds, size, fps, seed=k)

    encode_frames(
        ffmpeg_exe(),
        frames(),
        size,
        tmp,
        ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"],
        fps=fps,
    )
    tmp.replace(out)
    return out


def build_set(
    name: str, outdir: Path, media: Path = MEDIA, size: tuple[int, int] = (640, 360), fps: int = 25
) -> list[Path]:
    """Build one named clip set into outdir/name/; returns the clips in story order."""
    clips = []
    for k, shots in enumerate(CLIP_SETS[name], start=1):
        clips.append(
            build_clip(
                outdir / name / f"clip{k}.mp4", [(media / p, s) for p, s in shots], size, fps
            )
        )
    return clips


def _landmarks(rgb: np.ndarray) -> np.ndarray:
    """(5, 2) MTCNN landmarks of the largest face in an image."""
    from drift_audit.faces.detect import MTCNNDetector

    faces = MTCNNDetector(min_face_px=20).detect(rgb[None], np.zeros(1, np.int64))
    if len(faces) == 0:
        raise ValueError("no face found")
    return faces.landmarks[int(np.argmax(faces.size))]


def morph_frames(a_photo: Path, b_photo: Path, generations: int) -> list[np.ndarray]:
    """Aligned cross-dissolves from person A (generation 1) to person B (the last).

    B is warped onto A with the similarity transform that maps its eyes, nose and
    mouth corners onto A's; generation g blends them with weight (g - 1) / (n - 1).
    """
    a = cv2.cvtColor(cv2.imread(str(a_photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    b = cv2.cvtColor(cv2.imread(str(b_photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    matrix, _ = cv2.estimateAffinePartial2D(_landmarks(b), _landmarks(a))
    b_on_a = cv2.warpAffine(b, matrix, (a.shape[1], a.shape[0]), borderMode=cv2.BORDER_REFLECT)
    out = []
    for g in range(generations):
        alpha = g / (generations - 1)
        out.append(cv2.addWeighted(a, 1 - alpha, b_on_a, alpha, 0.0))
    return out


def build_morph(
    outdir: Path,
    a_photo: Path,
    b_photo: Path,
    generations: int = 7,
    seconds: float = 1.6,
    size: tuple[int, int] = (640, 360),
    fps: int = 25,
) -> list[Path]:
    """One clip per generation of the morph, in story order (gen1.mp4 .. genN.mp4)."""
    outdir.mkdir(parents=True, exist_ok=True)
    clips = []
    for g, image in enumerate(morph_frames(a_photo, b_photo, generations), start=1):
        still = outdir / f".gen{g}.png"
        cv2.imwrite(str(still), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        clips.append(build_clip(outdir / f"gen{g}.mp4", [(still, seconds)], size, fps))
        still.unlink()
    return clips


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if not MEDIA.is_dir():
        sys.exit(f"{MEDIA} not found: these clips are built from ../shared/media")
    for name in CLIP_SETS:
        for path in build_set(name, Path(sys.argv[1])):
            print(path)


if __name__ == "__main__":
    main()
