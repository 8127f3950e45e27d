#!/usr/bin/env python3
"""The labelled stories of `make eval`, built from ../shared/media with their ground truth.

Each story is a folder of clips (in story order) and a `truth.json`: for every clip the
identities present, with their face box on every frame (known because the frames were
composed here), the findings a demanding user expects, and the verdict.

Two kinds of footage:
- photo shots: a photo filmed with a slow camera move (`media_clips.shot_frames`,
  `media_clips.build_clip`); a face's box is the photo's face box (eval_faces.json)
  carried through the same camera transform;
- composed scenes: head-and-shoulders "sprites" cut from the photos (the face box
  grown to take in the hair, a soft elliptical edge) on a drawn torso in a costume
  colour, pasted on a painted backdrop and moved along paths: walking toward the
  camera and growing, crossing and hiding each other (the nearer is drawn last; a
  face more than half covered is not in the ground truth on that frame), small
  blurred extras in the background. The sprite's face box, scaled and moved with it,
  is the ground truth.
Stylized clips pass every frame through a filter (cartoon, cv2.stylization,
posterize); the low bit-rate story re-encodes its clips with libx264 at 20 kbit/s.

Usage:
    python scripts/stories.py OUTDIR [NAME ...]   # build (all) stories into OUTDIR/NAME/
    python scripts/stories.py OUTDIR NAME --preview PNG   # frames with their truth boxes
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts.make_fixtures import encode_frames, ffmpeg_exe, run_ffmpeg  # noqa: E402
from scripts.media_clips import MEDIA, build_clip, morph_frames, shot_frames  # noqa: E402

SIZE = (640, 360)
FPS = 25
FACES_FILE = Path(__file__).with_name("eval_faces.json")
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
LOW_RATE = ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "20k", "-maxrate", "24k"]
LOW_RATE += ["-bufsize", "40k", "-pix_fmt", "yuv420p", "-threads", "1"]  # 1: deterministic

NAVY, RED, GREEN = (40, 50, 120), (150, 40, 45), (40, 110, 60)
GREY, BROWN, OCHRE = (110, 110, 105), (100, 70, 45), (170, 130, 50)

Box = list[float]  # [x0, y0, x1, y1] frame pixels
Filter = Callable[[np.ndarray], np.ndarray]


def faces_table() -> dict[str, Any]:
    """eval_faces.json: checked face boxes of the photos and of the real clip."""
    table: dict[str, Any] = json.loads(FACES_FILE.read_text())
    return table


def read_rgb(rel: str) -> np.ndarray:
    """(h, w, 3) uint8 RGB of a file under ../shared/media."""
    bgr = cv2.imread(str(MEDIA / rel), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(MEDIA / rel)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# --------------------------------------------------------------------------- truth


@dataclass
class Truth:
    """A story's ground truth, as truth.json holds it.

    appearances: {"identity", "clip", "shot", "frames": [[frame, x0, y0, x1, y1], ...]}
        (a face's box on each frame it is visible), or {"identity", "clip", "shot",
        "start", "end", "region": [x0, y0, x1, y1]} (real footage: any face whose centre
        lies in the region between start and end, inclusive, is this identity).
    ignore: {"clip", "start", "end", "region"}: faces there are left out of the scores.
    expected: findings that must be reported: {"kind", "clip", "identity"}.
    allowed: findings that may be reported without counting as false: the same keys,
        null meaning any.
    """

    name: str
    tests: str  # one line: what the story tests
    notes: str  # what a demanding user expects, and why
    verdict: str  # "pass" or "fail"
    clips: list[str] = field(default_factory=list)  # relative to the story folder, or absolute
    appearances: list[dict[str, Any]] = field(default_factory=list)
    ignore: list[dict[str, Any]] = field(default_factory=list)
    expected: list[dict[str, Any]] = field(default_factory=list)
    allowed: list[dict[str, Any]] = field(default_factory=list)

    def add_boxes(self, clip: int, shot: int, boxes: dict[str, dict[int, Box]]) -> None:
        for identity, frames in boxes.items():
            if frames:
                rows = [[f, *(round(float(v), 1) for v in b)] for f, b in sorted(frames.items())]
                self.appearances.append(
                    {"identity": identity, "clip": clip, "shot": shot, "frames": rows}
                )

    def expect(self, kind: str, clip: int, identity: str | None) -> None:
        self.expected.append({"kind": kind, "clip": clip, "identity": identity})

    def allow(self, kind: str, clip: int | None = None, identity: str | None = None) -> None:
        self.allowed.append({"kind": kind, "clip": clip, "identity": identity})

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tests": self.tests,
            "notes": self.notes,
            "verdict": self.verdict,
            "clips": self.clips,
            "appearances": self.appearances,
            "ignore": self.ignore,
            "expected": self.expected,
            "allowed": self.allowed,
        }


# --------------------------------------------------------------------------- photo shots


def photo_boxes(
    shape: tuple[int, int], box: Box, seconds: float, seed: int, size: tuple[int, int] | None = None
) -> dict[int, Box]:
    """Frame -> where a photo's face box lands in `media_clips.shot_frames`' frames.

    The same geometry as shot_frames: the photo fitted into a canvas 1.25x the output,
    then a view that zooms 1.0 -> 1.12 and pans by the seed's (dx, dy). Frames where
    less than 60% of the box is inside the picture are left out.
    """
    size = size or SIZE
    ph, pw = shape
    w, h = int(size[0] * 1.25), int(size[1] * 1.25)
    scale = min(w / pw, h / ph)
    sw, sh = round(pw * scale), round(ph * scale)
    ox, oy = (w - sw) // 2, (h - sh) // 2
    bx = np.array([ox + box[0] * sw / pw, oy + box[1] * sh / ph, ox + box[2] * sw / pw])
    by = oy + box[3] * sh / ph
    canvas = [bx[0], bx[1], bx[2], by]
    dx, dy = np.random.default_rng(seed).uniform(-0.04, 0.04, 2)
    n = max(1, round(seconds * FPS))
    out: dict[int, Box] = {}
    for i in range(n):
        p = i / max(1, n - 1)
        zoom = 1.0 + 0.12 * p
        vw, vh = w / zoom, h / zoom
        x0 = w / 2 + dx * w * p - vw / 2
        y0 = h / 2 + dy * h * p - vh / 2
        s = size[0] / vw
        b = [
            (canvas[0] - x0) * s,
            (canvas[1] - y0) * s,
            (canvas[2] - x0) * s,
            (canvas[3] - y0) * s,
        ]
        if inside_fraction(b, size) >= 0.6:
            out[i] = b
    return out


def inside_fraction(box: Box, size: tuple[int, int] | None = None) -> float:
    """The part of a box's area that lies inside the frame (of SIZE when not given)."""
    size = size or SIZE
    w = max(0.0, min(box[2], size[0]) - max(box[0], 0.0))
    h = max(0.0, min(box[3], size[1]) - max(box[1], 0.0))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return w * h / area if area > 0 else 0.0


def photo_truth(
    photo: str, seconds: float, seed: int, start: int, identity: str | None = None
) -> dict[str, dict[int, Box]]:
    """identity -> frame (counted from `start`) -> box, for one photo shot. `identity`
    renames every face of the photo (a morph still carries its first person's box)."""
    table = faces_table()["photos"][photo]
    shape = read_rgb(photo).shape[:2]
    out: dict[str, dict[int, Box]] = {}
    for who, box in table:
        frames = photo_boxes(shape, box, seconds, seed)
        out.setdefault(identity or who, {}).update({start + i: b for i, b in frames.items()})
    return out


def photo_clip(
    out: Path,
    shots: list[tuple[str, float]],
    truth: Truth,
    clip: int,
    style: Filter | None = None,
    codec: list[str] | None = None,
) -> None:
    """One clip of photo shots (build_clip's camera moves and seeds), optionally every
    frame filtered; its boxes go into `truth` as clip `clip`."""
    start = 0
    for k, (photo, seconds) in enumerate(shots):
        truth.add_boxes(clip, k + 1, photo_truth(photo, seconds, k, start))
        start += max(1, round(seconds * FPS))
    truth.clips.append(out.name)
    if style is None and codec is None:
        build_clip(out, [(MEDIA / p, s) for p, s in shots], SIZE, FPS)
        return

    def frames() -> Iterator[np.ndarray]:
        for k, (photo, seconds) in enumerate(shots):
            for frame in shot_frames(MEDIA / photo, seconds, SIZE, FPS, seed=k):
                yield style(frame) if style else frame

    encode(out, frames(), codec or X264)


@contextmanager
def frame_size(size: tuple[int, int]) -> Iterator[None]:
    """Build the clips of a `with` block at another frame size (SIZE is read at call
    time by every builder)."""
    global SIZE
    before, SIZE = SIZE, size
    try:
        yield
    finally:
        SIZE = before


def encode(out: Path, frames: Iterator[np.ndarray], codec: list[str]) -> None:
    """Encode RGB frames of SIZE into `out`, through a temporary file."""
    tmp = out.with_name(f".{out.name}.tmp.mp4")
    encode_frames(ffmpeg_exe(), frames, SIZE, tmp, codec, fps=FPS)
    tmp.replace(out)


def reencode(path: Path, codec: list[str]) -> None:
    """Re-encode a clip in place (a delivery at a lower bit-rate)."""
    tmp = path.with_name(f".{path.name}.low.mp4")
    run_ffmpeg(ffmpeg_exe(), ["-i", str(path), "-an", *codec, str(tmp)])
    tmp.replace(path)


# --------------------------------------------------------------------------- sprites


@dataclass(frozen=True)
class Sprite:
    """A head cut from a photo: RGBA with a soft elliptical edge, and its face box."""

    rgba: np.ndarray  # (h, w, 4) float32 in 0..1, straight alpha
    face: np.ndarray  # (4,) float64 xyxy of the face in sprite pixels


def cut_sprite(rgb: np.ndarray, face: Box) -> Sprite:
    """The face box grown to the head (0.95 box widths and 1.05 box heights each side
    of a centre 0.1 box heights above the box's, so hair and chin are in), with an
    alpha that falls from 1 to 0 over the outer 15% of the ellipse's radius."""
    x0, y0, x1, y1 = face
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.1 * h
    hw, hh = 0.95 * w, 1.05 * h
    left, top = math.floor(cx - hw), math.floor(cy - hh)
    right, bottom = math.ceil(cx + hw), math.ceil(cy + hh)
    pad = max(0, -left, -top, right - rgb.shape[1], bottom - rgb.shape[0])
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = padded[top + pad : bottom + pad, left + pad : right + pad].astype(np.float32) / 255
    yy, xx = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]].astype(np.float32)
    r = np.sqrt(((xx + 0.5 - (cx - left)) / hw) ** 2 + ((yy + 0.5 - (cy - top)) / hh) ** 2)
    alpha = np.clip((1.0 - r) / 0.15, 0.0, 1.0)
    face_box = np.array([x0 - left, y0 - top, x1 - left, y1 - top], np.float64)
    return Sprite(np.dstack([crop, alpha]).astype(np.float32), face_box)


def photo_sprite(photo: str) -> tuple[str, Sprite]:
    """(identity, sprite) of a one-face photo."""
    ((identity, box),) = faces_table()["photos"][photo]
    return identity, cut_sprite(read_rgb(photo), box)


@dataclass(frozen=True)
class Actor:
    """A person in a composed shot.

    keys: (t, cx, cy, face width) keyframes, t in 0..1 over the shot, (cx, cy) the
        face's centre in frame pixels; positions between keys are interpolated.
    """

    identity: str
    sprite: Sprite
    keys: tuple[tuple[float, float, float, float], ...]
    costume: tuple[int, int, int] | None = NAVY
    blur: float = 0.0  # Gaussian sigma in frame pixels: out of focus
    sway: float = 0.0  # pixels of idle side-to-side motion
    phase: float = 0.0
    walk: bool = False  # keys are steps of a walk in depth (see `at`)

    def at(self, t: float) -> tuple[float, float, float]:
        """(cx, cy, face width) at time t. With `walk`, a step between two keys is a
        walk at constant speed in depth: the face's width grows as 1 / distance (slow
        far away, fast near the camera) and the centre moves in step with the width."""
        ts = [k[0] for k in self.keys]
        j = int(np.clip(np.searchsorted(ts, t, side="right") - 1, 0, len(ts) - 1))
        if j == len(ts) - 1:
            _, cx, cy, fw = self.keys[j]
        else:
            (t0, x0, y0, w0), (t1, x1, y1, w1) = self.keys[j], self.keys[j + 1]
            p = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
            fw = 1.0 / ((1 - p) / w0 + p / w1) if self.walk else (1 - p) * w0 + p * w1
            u = (fw - w0) / (w1 - w0) if self.walk and w1 != w0 else p
            cx, cy = (1 - u) * x0 + u * x1, (1 - u) * y0 + u * y1
        return cx + self.sway * math.sin(2 * math.pi * (0.6 * t + self.phase)), cy, fw


def backdrop(seed: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    """(h, w, 3) float32 0..1: a vertical gradient with soft blotches and a floor."""
    w, h = SIZE
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    img = np.broadcast_to(img, (h, w, 3)).copy()
    blotches = cv2.resize(rng.uniform(-30, 30, (5, 8, 3)).astype(np.float32), SIZE)
    img += cv2.GaussianBlur(blotches, (0, 0), 25)
    img[int(0.78 * h) :] *= 0.7
    return np.clip(img / 255.0, 0.0, 1.0)


def _layer(actor: Actor, t: float) -> tuple[np.ndarray, np.ndarray, Box]:
    """(premultiplied rgb, alpha, face box) of one actor at time t, full frame."""
    w, h = SIZE
    cx, cy, fw = actor.at(t)
    sp = actor.sprite
    s = fw / float(sp.face[2] - sp.face[0])
    sh, sw = sp.rgba.shape[:2]
    nw, nh = max(1, round(sw * s)), max(1, round(sh * s))
    small = cv2.resize(
        sp.rgba, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    )
    sx, sy = nw / sw, nh / sh
    face = sp.face * np.array([sx, sy, sx, sy])
    ox = round(cx - (face[0] + face[2]) / 2)
    oy = round(cy - (face[1] + face[3]) / 2)
    box = [face[0] + ox, face[1] + oy, face[2] + ox, face[3] + oy]
    rgb = np.zeros((h, w, 3), np.float32)  # premultiplied by alpha
    alpha = np.zeros((h, w), np.float32)
    if actor.costume is not None:
        fh = box[3] - box[1]
        centre = (round(cx * 4), round((box[1] + box[3]) / 2 * 4 + 1.95 * fh * 4))
        axes = (round(1.55 * fw * 4), round(1.15 * fh * 4))
        colour = tuple(c / 255.0 for c in actor.costume)
        cv2.ellipse(rgb, centre, axes, 0, 0, 360, colour, -1, cv2.LINE_AA, shift=2)
        cv2.ellipse(alpha, centre, axes, 0, 0, 360, 1.0, -1, cv2.LINE_AA, shift=2)
    # the head, clipped to the frame
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + nw, w), min(oy + nh, h)
    if x1 > x0 and y1 > y0:
        part = small[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
        a = part[..., 3:]
        rgb[y0:y1, x0:x1] = rgb[y0:y1, x0:x1] * (1 - a) + part[..., :3] * a
        alpha[y0:y1, x0:x1] = alpha[y0:y1, x0:x1] * (1 - a[..., 0]) + a[..., 0]
    if actor.blur > 0:
        rgb = np.asarray(cv2.GaussianBlur(rgb, (0, 0), actor.blur), np.float32)
        alpha = np.asarray(cv2.GaussianBlur(alpha, (0, 0), actor.blur), np.float32)
    return rgb, alpha, box


def scene_frames(
    actors: list[Actor],
    seconds: float,
    background: np.ndarray,
    seed: int,
    start: int,
    boxes: dict[str, dict[int, Box]],
) -> Iterator[np.ndarray]:
    """RGB uint8 frames of one composed shot; each visible face's box goes into `boxes`.

    Actors are drawn far to near (smaller faces first). A face is visible on a frame
    when at least 60% of its box is in the picture and less than half of it is
    covered by the actors drawn after it.
    """
    rng = np.random.default_rng(seed)
    n = max(1, round(seconds * FPS))
    for i in range(n):
        t = i / max(1, n - 1)
        layers = sorted(((*_layer(a, t), a.identity) for a in actors), key=lambda x: _width(x[2]))
        frame = background.copy()
        for rgb, alpha, _, _ in layers:
            frame = frame * (1 - alpha[..., None]) + rgb
        for k, (_, _, box, identity) in enumerate(layers):
            if inside_fraction(box) < 0.6:
                continue
            cover = np.zeros(frame.shape[:2], np.float32)
            for _, alpha, _, _ in layers[k + 1 :]:
                cover = 1 - (1 - cover) * (1 - alpha)
            x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
            x1, y1 = min(SIZE[0], math.ceil(box[2])), min(SIZE[1], math.ceil(box[3]))
            if float(cover[y0:y1, x0:x1].mean()) < 0.5:
                boxes.setdefault(identity, {})[start + i] = box
        noise = rng.normal(0.0, 1.5, frame.shape).astype(np.float32)
        yield np.clip(frame * 255.0 + noise, 0, 255).astype(np.uint8)


def _width(box: Box) -> float:
    return box[2] - box[0]


@dataclass(frozen=True)
class Scene:
    """One composed shot: who is in it, how long, on what backdrop."""

    actors: list[Actor]
    seconds: float
    top: tuple[int, int, int] = (70, 80, 95)
    bottom: tuple[int, int, int] = (150, 140, 120)


def scene_clip(
    out: Path,
    scenes: list[Scene],
    truth: Truth,
    clip: int,
    seed: int,
    style: Filter | None = None,
    codec: list[str] | None = None,
) -> None:
    """One clip of composed shots (hard cuts between them); boxes go into `truth`."""
    truth.clips.append(out.name)
    starts = np.cumsum([0] + [max(1, round(s.seconds * FPS)) for s in scenes])
    per_shot: list[dict[str, dict[int, Box]]] = [{} for _ in scenes]

    def frames() -> Iterator[np.ndarray]:
        for k, sc in enumerate(scenes):
            bg = backdrop(seed * 10 + k, sc.top, sc.bottom)
            for frame in scene_frames(
                sc.actors, sc.seconds, bg, seed * 10 + k, int(starts[k]), per_shot[k]
            ):
                yield style(frame) if style else frame

    encode(out, frames(), codec or X264)
    for k, boxes in enumerate(per_shot):
        truth.add_boxes(clip, k + 1, boxes)


def still(
    identity: str,
    sprite: Sprite,
    x: float,
    y: float,
    width: float,
    costume: tuple[int, int, int] | None = NAVY,
    sway: float = 4.0,
    phase: float = 0.0,
    blur: float = 0.0,
) -> Actor:
    """An actor standing in place, swaying a little."""
    return Actor(identity, sprite, ((0.0, x, y, width),), costume, blur, sway, phase)


# --------------------------------------------------------------------------- styles


def cartoon(rgb: np.ndarray) -> np.ndarray:
    """Flat colours (bilateral filtering, 6 levels a channel) and dark edges."""
    flat = rgb
    for _ in range(2):
        flat = cv2.bilateralFilter(flat, 9, 50, 7)
    flat = ((flat.astype(np.int32) // 43) * 43 + 21).clip(0, 255).astype(np.uint8)
    grey = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 3)
    return cv2.bitwise_and(flat, flat, mask=edges)


def stylize(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's watercolour-like stylization."""
    return cv2.stylization(rgb, sigma_s=60, sigma_r=0.45)


def posterize(rgb: np.ndarray) -> np.ndarray:
    """Four levels a channel."""
    return ((rgb.astype(np.int32) // 64) * 64 + 32).clip(0, 255).astype(np.uint8)


def smooth(rgb: np.ndarray) -> np.ndarray:
    """An edge-preserving 'painted' look."""
    return cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=50, sigma_r=0.4)


# --------------------------------------------------------------------------- stories


def story_consistent(out: Path) -> Truth:
    t = Truth(
        "consistent",
        "one person, four photos, three clips",
        "Obama in every clip (different photos, days and suits): one character, no fail. "
        "attribute_drift is allowed (the suit and light do change between photos).",
        "pass",
    )
    photo_clip(out / "clip1.mp4", [("faces/obama/obama1.jpg", 2.5)], t, 1)
    photo_clip(
        out / "clip2.mp4", [("faces/obama/obama2.jpg", 1.5), ("faces/obama/obama3.jpg", 1.5)], t, 2
    )
    photo_clip(out / "clip3.mp4", [("faces/obama/obama4.jpg", 2.5)], t, 3)
    return t


def story_group(out: Path) -> Truth:
    t = Truth(
        "group",
        "group photos: two people co-occur, then apart, then together with a child",
        "Obama and Biden side by side (clip 1), in separate shots (clip 2), together "
        "with a girl in the corner (clip 3): Obama and Biden are one character each, the "
        "girl a third; no swap (nobody left), no fail.",
        "pass",
    )
    photo_clip(out / "clip1.mp4", [("group/obama_biden_1.jpg", 3.0)], t, 1)
    photo_clip(
        out / "clip2.mp4", [("faces/biden/biden1.jpg", 1.5), ("faces/obama/obama2.jpg", 1.5)], t, 2
    )
    photo_clip(out / "clip3.mp4", [("group/obama_biden_2.jpg", 3.0)], t, 3)
    t.allow("uncertain_identity", 3, "girl_obama_biden_2")
    return t


def story_swap_photos(out: Path) -> Truth:
    t = Truth(
        "swap_photos",
        "the only role changes face in clip 3",
        "The lead is Obama in clips 1-2 and Biden in clip 3: identity_swap on clip 3 "
        "(Obama's character). identity_drift on clip 3 is accepted too (if Biden were "
        "merged into the lead), but only the swap counts for recall.",
        "fail",
    )
    photo_clip(out / "clip1.mp4", [("faces/obama/obama1.jpg", 2.0)], t, 1)
    photo_clip(out / "clip2.mp4", [("faces/obama/obama2.jpg", 2.0)], t, 2)
    photo_clip(out / "clip3.mp4", [("faces/biden/biden1.jpg", 2.0)], t, 3)
    t.expect("identity_swap", 3, "obama")
    t.allow("identity_drift", 3)
    t.allow("uncertain_identity", 3)
    return t


def story_swap_costume(out: Path) -> Truth:
    t = Truth(
        "swap_costume",
        "two roles; clip 3 puts a new face on the navy role (same costume, same place)",
        "Obama (navy, left) and Biden (red, right) talk in clips 1-2; in clip 3 the navy "
        "role at the left is played by Alex Lacamoire: identity_swap on clip 3 (Obama's "
        "character); Biden stays the same, no finding on him.",
        "fail",
    )
    _, o1 = photo_sprite("faces/obama/obama1.jpg")
    _, o2 = photo_sprite("faces/obama/obama2.jpg")
    _, b1 = photo_sprite("faces/biden/biden1.jpg")
    _, b2 = photo_sprite("faces/biden/biden2.jpg")
    _, a2 = photo_sprite("faces/alex_lacamoire/alex2.jpg")
    casts = [(("obama", o1), b1), (("obama", o2), b2), (("alex_lacamoire", a2), b1)]
    for k, ((who, left), right) in enumerate(casts, start=1):
        scene = Scene(
            [
                still(who, left, 200, 150, 100, NAVY, phase=0.1 * k),
                still("biden", right, 440, 150, 100, RED, phase=0.5),
            ],
            2.5,
        )
        scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=400 + k)
    t.expect("identity_swap", 3, "obama")
    t.allow("identity_drift", 3, "obama")
    t.allow("uncertain_identity", 3, "obama")
    return t


def story_cast_change(out: Path) -> Truth:
    t = Truth(
        "cast_change",
        "a change of cast: A walks out in clip 1, a new character C walks in in clip 2",
        "Clip 1: Obama (navy) and Biden (red); Obama walks out of the frame to the left. "
        "Clips 2-3: Biden and Alex Lacamoire (green), who walks in from the right and "
        "stands elsewhere. Obama left the story and Alex is a new character in a new "
        "costume, not Obama's role with another face: no identity_swap, no fail.",
        "pass",
    )
    _, o1 = photo_sprite("faces/obama/obama1.jpg")
    _, b1 = photo_sprite("faces/biden/biden1.jpg")
    _, b2 = photo_sprite("faces/biden/biden2.jpg")
    _, a2 = photo_sprite("faces/alex_lacamoire/alex2.jpg")
    _, a3 = photo_sprite("faces/alex_lacamoire/alex3.jpg")
    leaving = Actor(
        "obama", o1, ((0.0, 200, 150, 100), (0.55, 200, 150, 100), (1.0, -160, 160, 100))
    )
    clip1 = Scene([leaving, still("biden", b1, 440, 150, 100, RED)], 3.0)
    entering = Actor(
        "alex_lacamoire",
        a2,
        ((0.0, 820, 160, 95), (0.45, 460, 150, 100), (1.0, 460, 150, 100)),
        GREEN,
    )
    clip2 = Scene(
        [still("biden", b2, 220, 150, 100, RED), entering], 3.0, (90, 70, 60), (160, 150, 130)
    )
    clip3 = Scene(
        [
            still("biden", b1, 210, 150, 100, RED),
            still("alex_lacamoire", a3, 440, 150, 100, GREEN, phase=0.3),
        ],
        2.5,
    )
    for k, scene in enumerate([clip1, clip2, clip3], start=1):
        scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=500 + k)
    t.expect("cast_change", 2, "obama")  # information, never a fail
    return t


def story_morph(out: Path) -> Truth:
    t = Truth(
        "morph",
        "slow drift: Obama cross-dissolves into Biden over six generations",
        "One photo per generation, Biden warped onto Obama by their landmarks and blended "
        "0, 20, 40, 60, 80, 100%. One character throughout (the generations link). "
        "identity_drift must be reported where the blend is >= 70% Biden (clips 5, 6), "
        "may be (or uncertain_identity) at 40-60% (clips 3, 4), and not at 20% (clip 2). "
        "identity_swap is accepted on clips 3-6 but does not count as the drift.",
        "fail",
    )
    a, b = "faces/obama/obama4.jpg", "faces/biden/biden2.jpg"
    generations = 6
    images = morph_frames(MEDIA / a, MEDIA / b, generations)
    ((_, box),) = faces_table()["photos"][a]
    for g, image in enumerate(images, start=1):
        stillfile = out / f".gen{g}.png"
        cv2.imwrite(str(stillfile), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        build_clip(out / f"clip{g}.mp4", [(stillfile, 2.0)], SIZE, FPS)
        stillfile.unlink()
        t.clips.append(f"clip{g}.mp4")
        frames = photo_boxes(image.shape[:2], box, 2.0, 0)
        t.add_boxes(g, 1, {"obama>biden": frames})
    _morph_labels(t, "obama>biden", generations)
    return t


def _morph_labels(t: Truth, identity: str, generations: int) -> None:
    for g in range(1, generations + 1):
        alpha = (g - 1) / (generations - 1)
        if alpha >= 0.7:
            t.expect("identity_drift", g, identity)
            t.allow("uncertain_identity", g, identity)
        elif alpha > 0.3:
            t.allow("identity_drift", g, identity)
            t.allow("uncertain_identity", g, identity)
        if alpha > 0.3:
            t.allow("identity_swap", g, identity)


def story_morph_duo(out: Path) -> Truth:
    t = Truth(
        "morph_duo",
        "slow drift of one of two characters (Alex -> Miranda), the other steady",
        "Five generations; the left character (navy) blends Alex Lacamoire into "
        "Lin-Manuel Miranda 0, 25, 50, 75, 100%, the right one is Biden throughout. "
        "identity_drift must be reported on the left character where >= 70% (clips 4, "
        "5), may be at 50% (clip 3), not at 25%; nothing on Biden.",
        "fail",
    )
    a, b = "faces/alex_lacamoire/alex2.jpg", "faces/lin_manuel_miranda/lmm1.png"
    generations = 5
    images = morph_frames(MEDIA / a, MEDIA / b, generations)
    ((_, box),) = faces_table()["photos"][a]
    bidens = [photo_sprite(f"faces/biden/biden{i}.jpg")[1] for i in (1, 2)]
    for g, image in enumerate(images, start=1):
        left = cut_sprite(image, box)
        scene = Scene(
            [
                still("alex>miranda", left, 210, 150, 105, NAVY, phase=0.2 * g),
                still("biden", bidens[g % 2], 440, 150, 100, RED, phase=0.6),
            ],
            2.0,
        )
        scene_clip(out / f"clip{g}.mp4", [scene], t, g, seed=700 + g)
    _morph_labels(t, "alex>miranda", generations)
    return t


def story_walk(out: Path) -> Truth:
    t = Truth(
        "walk_toward_camera",
        "people walk toward the camera and grow 4-5x in one shot (re-detections mid-walk)",
        "Clip 1: Obama walks from the back to the front, face 36 -> 190 px in 4 s (width "
        "as 1 / distance: x2 in the last second), then, after a cut, a close approach, "
        "60 -> 225 px in 1.6 s; clip 2: Obama and Biden walk in side "
        "by side, 40 -> 160 px in 3 s; clip 3: both stand. Each "
        "walk is one continuous appearance: one track, one character each; no fail.",
        "pass",
    )
    _, o = photo_sprite("faces/obama/obama3.jpg")
    _, o4 = photo_sprite("faces/obama/obama4.jpg")
    _, o1 = photo_sprite("faces/obama/obama1.jpg")
    _, b2 = photo_sprite("faces/biden/biden2.jpg")
    _, b1 = photo_sprite("faces/biden/biden1.jpg")
    clip1 = Scene(
        [Actor("obama", o, ((0.0, 150, 120, 36), (1.0, 380, 175, 190)), sway=3.0, walk=True)],
        4.0,
    )
    # a close approach: 3 m to 0.8 m at walking pace, x2 in the last 0.4 s
    close = Scene(
        [Actor("obama", o1, ((0.0, 260, 150, 60), (1.0, 330, 185, 225)), sway=2.0, walk=True)],
        1.6,
        (90, 70, 60),
        (160, 150, 130),
    )
    clip2 = Scene(
        [
            Actor("obama", o4, ((0.0, 420, 120, 40), (1.0, 470, 180, 160)), sway=3.0, walk=True),
            Actor(
                "biden", b2, ((0.0, 220, 115, 38), (1.0, 160, 180, 160)), RED, sway=3.0, walk=True
            ),
        ],
        3.0,
        (60, 70, 60),
        (140, 150, 120),
    )
    clip3 = Scene(
        [still("obama", o1, 430, 170, 130), still("biden", b1, 200, 170, 130, RED, phase=0.4)],
        2.0,
    )
    for k, scenes in enumerate([[clip1, close], [clip2], [clip3]], start=1):
        scene_clip(out / f"clip{k}.mp4", scenes, t, k, seed=800 + k)
    return t


def story_crossing(out: Path) -> Truth:
    t = Truth(
        "crossing",
        "two people cross the frame; the nearer hides the farther for about a second",
        "Clip 1: Obama (near, navy) walks left to right, Biden (farther, red) right to "
        "left and a little closer; Obama passes in front and hides Biden's face for "
        "~1 s. Clip 2: both stand apart. No identity switch at the crossing, one "
        "character each, no fail (Biden's two sides of the occlusion may be two tracks).",
        "pass",
    )
    _, o2 = photo_sprite("faces/obama/obama2.jpg")
    _, o3 = photo_sprite("faces/obama/obama3.jpg")
    _, b1 = photo_sprite("faces/biden/biden1.jpg")
    _, b2 = photo_sprite("faces/biden/biden2.jpg")
    clip1 = Scene(
        [
            Actor("obama", o2, ((0.0, 60, 185, 105), (1.0, 580, 190, 110)), sway=2.0),
            Actor("biden", b1, ((0.0, 580, 140, 62), (1.0, 80, 150, 80)), RED, sway=2.0),
        ],
        4.0,
    )
    clip2 = Scene(
        [still("obama", o3, 200, 160, 100), still("biden", b2, 440, 160, 100, RED, phase=0.5)],
        2.5,
        (80, 60, 80),
        (150, 130, 150),
    )
    for k, scene in enumerate([clip1, clip2], start=1):
        scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=900 + k)
    return t


def story_extras(out: Path, style: Filter | None = None) -> Truth:
    t = Truth(
        "extras_cartoon" if style else "extras",
        ("cartoon-styled footage: " if style else "")
        + "two leads and two small blurred extras (65-70 px faces)",
        ("Every frame cartoon-filtered. " if style else "")
        + "Leads Obama (navy) and Biden (red) in front; Alex "
        "Lacamoire and Lin-Manuel Miranda small, out of focus, at the back on the left, "
        "in every clip. Four characters: an extra never merges into a lead (nor becomes "
        "its anchor); no fail. uncertain_identity is accepted on the extras.",
        "pass",
    )
    obamas = [photo_sprite(f"faces/obama/obama{i}.jpg")[1] for i in (1, 2, 4)]
    bidens = [photo_sprite(f"faces/biden/biden{i}.jpg")[1] for i in (1, 2, 1)]
    _, alex = photo_sprite("faces/alex_lacamoire/alex1.png")
    _, lmm = photo_sprite("faces/lin_manuel_miranda/lmm1.png")
    for k in range(3):
        shift = 12 * k
        scene = Scene(
            [
                still("alex_lacamoire", alex, 60 + shift, 105, 65, GREY, 2.0, 0.3, blur=1.5),
                still("lin_manuel_miranda", lmm, 165 + shift, 95, 68, BROWN, 2.0, 0.7, blur=1.5),
                still("obama", obamas[k], 340 - shift, 175, 120, NAVY, phase=0.1 * k),
                still("biden", bidens[k], 530 - shift, 180, 110, RED, phase=0.5),
            ],
            2.5,
            (60, 90, 120),
            (170, 160, 120),
        )
        scene_clip(out / f"clip{k + 1}.mp4", [scene], t, k + 1, seed=1000 + k, style=style)
    t.allow("uncertain_identity", None, "alex_lacamoire")
    t.allow("uncertain_identity", None, "lin_manuel_miranda")
    return t


def story_extras_cartoon(out: Path) -> Truth:
    return story_extras(out, cartoon)


def story_stylized(out: Path) -> Truth:
    t = Truth(
        "stylized",
        "one person in four styles: photo, watercolour, posterized, cartoon",
        "Alex Lacamoire in each clip from another photo and in another style: one "
        "character, no fail. uncertain_identity and attribute_drift are accepted (styles "
        "move colours and weaken the embedding).",
        "pass",
    )
    photo_clip(out / "clip1.mp4", [("faces/alex_lacamoire/alex2.jpg", 2.0)], t, 1)
    photo_clip(out / "clip2.mp4", [("faces/alex_lacamoire/alex3.jpg", 2.0)], t, 2, stylize)
    photo_clip(out / "clip3.mp4", [("faces/alex_lacamoire/alex1.png", 2.0)], t, 3, posterize)
    photo_clip(out / "clip4.mp4", [("faces/alex_lacamoire/alex2.jpg", 2.0)], t, 4, cartoon)
    t.allow("uncertain_identity")
    return t


def story_low_bitrate(out: Path) -> Truth:
    t = Truth(
        "low_bitrate",
        "six clips of two people, ~71 px faces, re-encoded at 20 kbit/s (smeared)",
        "Obama (navy) and Biden (red), each clip from other photos, every clip "
        "re-encoded with libx264 at 20 kbit/s: two characters, no identity_drift fail "
        "(the evidence is thin, not different); uncertain_identity is accepted.",
        "pass",
    )
    obamas = [photo_sprite(f"faces/obama/obama{i}.jpg")[1] for i in (1, 2, 3, 4, 1, 2)]
    bidens = [photo_sprite(f"faces/biden/biden{i}.jpg")[1] for i in (1, 2, 1, 2, 1, 2)]
    for k in range(6):
        scene = Scene(
            [
                still("obama", obamas[k], 230 + 8 * k, 170, 71, NAVY, 5.0, 0.1 * k),
                still("biden", bidens[k], 420 - 8 * k, 175, 71, RED, 5.0, 0.5),
            ],
            2.0,
            (50 + 10 * k, 80, 110),
            (160, 150 - 5 * k, 120),
        )
        path = out / f"clip{k + 1}.mp4"
        scene_clip(path, [scene], t, k + 1, seed=1200 + k)
        reencode(path, LOW_RATE)
    t.allow("uncertain_identity")
    return t


def story_hamilton(out: Path) -> Truth:
    t = Truth(
        "hamilton",
        "the real stage clip, then photos of two of its people",
        "Clip 1 is hamilton_short.mp4 (4 shots); clip 2 shows lmm1.png and obama2.jpg. "
        "Miranda (shot 3) and Obama (shot 4, ~70 px, hand at his face: a hard case) "
        "should each be one character across the two clips; Michelle Obama and the "
        "audience stay in clip 1. Nobody's role is taken by a new face: no swap, no fail. "
        "uncertain_identity is accepted on Obama. Shots 1-2 are not scored (their people "
        "are not named in the media README).",
        "pass",
    )
    ham = faces_table()["hamilton"]
    t.clips.append(str(MEDIA / ham["clip"]))
    for start, end, region in ham["ignore"]:
        t.ignore.append({"clip": 1, "start": start, "end": end, "region": region})
    for identity, shot, start, end, region in ham["regions"]:
        t.appearances.append(
            {"identity": identity, "clip": 1, "shot": shot, "start": start, "end": end}
            | {"region": region}
        )
    for identity, shot, start, end, box in ham["boxes"]:
        rows = [[f, *box] for f in range(start, end + 1)]
        t.appearances.append({"identity": identity, "clip": 1, "shot": shot, "frames": rows})
    photo_clip(
        out / "clip2.mp4",
        [("faces/lin_manuel_miranda/lmm1.png", 2.0), ("faces/obama/obama2.jpg", 2.0)],
        t,
        2,
    )
    t.allow("uncertain_identity", None, "obama")
    return t


def story_walk_across(out: Path) -> Truth:
    t = Truth(
        "walk_across",
        "three people cross the frame fast (a face width or more per sampled frame)",
        "Clip 1 (4 s): Obama (navy) walks left to right across the whole frame, about "
        "150 px/s, a 64 px face; Biden (red) right to left behind him; Alex (green) walks "
        "in from the far right toward the camera, 36 -> 150 px, while moving left. At "
        "5 sampled frames a second each face moves 0.5-1 face widths between samples, and "
        "a full re-detection runs every second. Clip 2: all three stand. Each walk is "
        "one track (Biden may be two where Obama hides him), one character each; no fail.",
        "pass",
    )
    _, o2 = photo_sprite("faces/obama/obama2.jpg")
    _, o3 = photo_sprite("faces/obama/obama3.jpg")
    _, b1 = photo_sprite("faces/biden/biden1.jpg")
    _, b2 = photo_sprite("faces/biden/biden2.jpg")
    _, a1 = photo_sprite("faces/alex_lacamoire/alex1.png")
    _, a2 = photo_sprite("faces/alex_lacamoire/alex2.jpg")
    clip1 = Scene(
        [
            Actor("obama", o2, ((0.0, 40, 200, 64), (1.0, 600, 205, 64)), sway=2.0),
            Actor("biden", b1, ((0.0, 600, 130, 58), (1.0, 60, 140, 58)), RED, sway=2.0),
            Actor("alex", a1, ((0.0, 560, 110, 36), (1.0, 300, 190, 150)), GREEN, walk=True),
        ],
        4.0,
    )
    clip2 = Scene(
        [
            still("obama", o3, 130, 170, 100),
            still("biden", b2, 330, 170, 100, RED, phase=0.3),
            still("alex", a2, 520, 170, 100, GREEN, phase=0.6),
        ],
        2.0,
        (80, 60, 80),
        (150, 130, 150),
    )
    for k, scene in enumerate([clip1, clip2], start=1):
        scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=1300 + k)
    return t


def story_walk_1080p(out: Path) -> Truth:
    t = Truth(
        "walk_1080p",
        "four people walk toward the camera in 1080p, growing 3-4x, two lanes crossing",
        "Clip 1 (1920x1080, 4 s): Obama, Biden, Alex and Miranda walk from the back "
        "toward the camera, faces 75 -> 240-300 px, Biden and Alex crossing lanes "
        "(the reported case: a real 1080p clip of people walking toward the camera broke "
        "its tracks at every re-detection). Clip 2 (1080p): all four stand. One track "
        "per walk, one character each; no fail.",
        "pass",
    )
    sprites = {
        name: photo_sprite(photo)[1]
        for name, photo in [
            ("o3", "faces/obama/obama3.jpg"),
            ("o1", "faces/obama/obama1.jpg"),
            ("b1", "faces/biden/biden1.jpg"),
            ("b2", "faces/biden/biden2.jpg"),
            ("a1", "faces/alex_lacamoire/alex1.png"),
            ("a2", "faces/alex_lacamoire/alex2.jpg"),
            ("m", "faces/lin_manuel_miranda/lmm1.png"),
        ]
    }
    walk = Scene(
        [
            Actor("obama", sprites["o3"], ((0.0, 300, 330, 75), (1.0, 380, 560, 260)), walk=True),
            Actor(
                "biden", sprites["b1"], ((0.0, 820, 320, 80), (1.0, 1260, 540, 250)), RED, walk=True
            ),
            Actor(
                "alex",
                sprites["a1"],
                ((0.0, 1250, 310, 75), (1.0, 820, 560, 280)),
                GREEN,
                walk=True,
            ),
            Actor(
                "lin_manuel_miranda",
                sprites["m"],
                ((0.0, 1650, 340, 80), (1.0, 1620, 570, 240)),
                (90, 90, 90),
                walk=True,
            ),
        ],
        4.0,
    )
    stand = Scene(
        [
            still("obama", sprites["o1"], 330, 470, 200),
            still("biden", sprites["b2"], 780, 480, 200, RED, phase=0.3),
            still("alex", sprites["a2"], 1180, 470, 200, GREEN, phase=0.6),
            still("lin_manuel_miranda", sprites["m"], 1600, 480, 200, (90, 90, 90), phase=0.9),
        ],
        2.0,
        (80, 60, 80),
        (150, 130, 150),
    )
    with frame_size((1920, 1080)):
        for k, scene in enumerate([walk, stand], start=1):
            scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=1400 + k)
    return t


STORIES: dict[str, Callable[[Path], Truth]] = {
    "consistent": story_consistent,
    "group": story_group,
    "swap_photos": story_swap_photos,
    "swap_costume": story_swap_costume,
    "cast_change": story_cast_change,
    "morph": story_morph,
    "morph_duo": story_morph_duo,
    "walk_toward_camera": story_walk,
    "crossing": story_crossing,
    "walk_across": story_walk_across,
    "walk_1080p": story_walk_1080p,
    "extras": story_extras,
    "extras_cartoon": story_extras_cartoon,
    "stylized": story_stylized,
    "low_bitrate": story_low_bitrate,
    "hamilton": story_hamilton,
}


def builder_hash() -> str:
    """Changes when the code or data the stories are built from changes."""
    h = hashlib.sha256()
    for path in (
        Path(__file__),
        Path(__file__).with_name("stories_findings.py"),
        Path(__file__).with_name("stories_hair.py"),
        FACES_FILE,
        REPO_ROOT / "scripts" / "media_clips.py",
    ):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def build_story(name: str, root: Path) -> tuple[Path, dict[str, Any]]:
    """Build one story into root/name (reused when built by the same code).

    Returns:
        (the story folder, its truth.json content).
    """
    folder = root / name
    truth_file = folder / "truth.json"
    stamp = builder_hash()
    if truth_file.is_file():
        truth: dict[str, Any] = json.loads(truth_file.read_text())
        if truth.get("builder") == stamp:
            return folder, truth
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    truth = STORIES[name](folder).to_json() | {"builder": stamp}
    tmp = truth_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(truth, indent=1, sort_keys=True))
    tmp.replace(truth_file)
    return folder, truth


def clip_paths(folder: Path, truth: dict[str, Any]) -> list[Path]:
    """The story's clips in story order."""
    return [Path(c) if Path(c).is_absolute() else folder / c for c in truth["clips"]]


def preview(folder: Path, truth: dict[str, Any], png: Path, per_clip: int = 3) -> None:
    """A sheet of frames from every clip with the truth boxes drawn and named, to check
    the ground truth by eye."""
    rows = []
    for clip, path in enumerate(clip_paths(folder, truth), start=1):
        cap = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        cap.release()
        picks = np.linspace(0, len(frames) - 1, per_clip).round().astype(int)
        tiles = []
        for f in picks:
            img = frames[f].copy()
            for app in truth["appearances"]:
                if app["clip"] != clip:
                    continue
                box = _truth_box(app, int(f))
                if box is not None:
                    p0, p1 = (round(box[0]), round(box[1])), (round(box[2]), round(box[3]))
                    cv2.rectangle(img, p0, p1, (0, 0, 255), 2)
                    cv2.putText(
                        img, app["identity"], (p0[0], max(12, p0[1] - 4)), 0, 0.45, (0, 255, 255), 1
                    )
            cv2.putText(img, f"clip {clip} frame {f}", (8, 20), 0, 0.6, (255, 255, 255), 2)
            tiles.append(cv2.resize(img, (SIZE[0] // 2, SIZE[1] // 2)))
        rows.append(np.hstack(tiles))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    cv2.imwrite(str(png), np.vstack(rows))


def _truth_box(app: dict[str, Any], frame: int) -> Box | None:
    if "region" in app:
        return list(app["region"]) if app["start"] <= frame <= app["end"] else None
    for row in app["frames"]:
        if row[0] == frame:
            return list(row[1:])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(STORIES))
    parser.add_argument("--preview", type=Path, help="PNG sheet of the (first) story's truth")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(STORIES))
    if unknown:
        parser.error(f"unknown stories: {', '.join(unknown)} (known: {', '.join(STORIES)})")
    if not MEDIA.is_dir():
        print(f"{MEDIA} not found: the stories are built from ../shared/media", file=sys.stderr)
        return 2
    for name in args.names or list(STORIES):
        folder, truth = build_story(name, args.outdir)
        print(folder)
        if args.preview:
            preview(folder, truth, args.preview)
            break
    return 0


from scripts.stories_findings import STORIES_FINDINGS  # noqa: E402  (issue 12's stories)
from scripts.stories_hair import STORIES as STORIES_HAIR  # noqa: E402  (hair recolours)

STORIES.update(STORIES_FINDINGS)
STORIES.update(STORIES_HAIR)

if __name__ == "__main__":
    sys.exit(main())
