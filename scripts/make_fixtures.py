#!/usr/bin/env python3
"""Generate the small synthetic test clips used by drift-audit's tests.

Usage:
    python scripts/make_fixtures.py OUTDIR [--force] [--only NAME ...] [--verify]

Frames are drawn with numpy and piped as raw RGB into the ffmpeg binary shipped by
the ``imageio-ffmpeg`` package; nothing is downloaded. ``OUTDIR/manifest.json``
describes every file and its ground truth (see ``CONVENTIONS`` below). A second run
only rebuilds files whose spec changed or whose bytes no longer match the manifest.

Stamped clips carry their frame index as a code along the top edge, written and
read by ``tests/stamps.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts import stamps  # noqa: E402  (needs the repo root on sys.path)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1

STAMPED_SIZE = (320, 240)
STAMPED_FRAMES = 90
SHOT_SIZE = (256, 144)
FPS = 25
GOP = 15
SEED = 20240611

CONVENTIONS = {
    "frame_index": "0-based index in presentation order, counted from the first frame",
    "stamp": "stamped clips carry their frame index; read it with tests/stamps.py read_stamp",
    "cuts": "hard cuts; each value is the first frame of the new shot",
    "shots": "[start_frame, end_frame] pairs, end inclusive; dissolve frames go to the "
    "shot whose weight is larger (ties to the earlier shot)",
    "dissolves": "start/end inclusive frames that blend two shots; centre = (start+end)/2",
    "glitch_frames": "frames that differ sharply from their neighbours but are not cuts",
    "pts_s": "presentation time of each frame in seconds (only for vfr clips, else null)",
    "rotation_ccw_deg": "display-matrix rotation, counter-clockwise, as ffmpeg reports it; "
    "width/height are the coded size, display_width/display_height the rotated one",
    "fps": "nominal frame rate; for vfr clips n_frames / duration_s",
    "expect": "ok, or the kind of failure a reader should report",
    "readable": "whether a robust reader opens the file and gets at least one frame",
    "n_frames": "frames encoded (null when the file holds no decodable video)",
    "n_frames_decodable": "frames the bundled ffmpeg decodes (only measured for broken files)",
}


# --------------------------------------------------------------------------- ffmpeg


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg_version(exe: str) -> str:
    """First line of `ffmpeg -version`, e.g. 'ffmpeg version n7.1 ...'."""
    out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def ffmpeg_encoders(exe: str) -> set[str]:
    """Names of the encoders this ffmpeg build has."""
    out = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True)
    names: set[str] = set()
    for line in out.stdout.splitlines():
        m = re.match(r"^\s*[VASFXBD.]{6}\s+(\S+)\s", line)
        if m:
            names.add(m.group(1))
    return names


def run_ffmpeg(exe: str, args: list[str], stdin_chunks: Iterable[bytes] | None = None) -> None:
    """Run ffmpeg with `args` (the output file last), streaming `stdin_chunks` into its
    stdin. The encoders run on one thread: x264's frame threads make its output
    depend on timing (measured with the bundled ffmpeg: of 6 encodes of one input run
    side by side, 2 differed from the rest; single-threaded, 8 of 8 were the same), and
    a fixture that is not the same bytes on every build moves the golden reports and
    the decoder's damage counts.

    Raises:
        RuntimeError: if ffmpeg exits non-zero (with the tail of its log).
    """
    *options, output = args
    cmd = [exe, "-hide_banner", "-nostats", "-loglevel", "error", "-y", *options]
    cmd += ["-threads", "1", output]
    env = {**os.environ, "SVT_LOG": "1"}  # keep SVT-AV1's banner quiet
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if stdin_chunks is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        try:
            if stdin_chunks is not None:
                assert proc.stdin is not None
                with contextlib.suppress(BrokenPipeError):
                    for chunk in stdin_chunks:
                        proc.stdin.write(chunk)
                proc.stdin.close()
        finally:
            rc = proc.wait()
        if rc != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"ffmpeg failed ({rc}): {' '.join(cmd)}\n{tail}")


def encode_frames(
    exe: str,
    frames: Iterable[np.ndarray],
    size: tuple[int, int],
    out: Path,
    codec_args: list[str],
    *,
    fps: int | str = FPS,
    input_args: Iterable[str] = (),
) -> None:
    """Encode (h, w, 3) uint8 RGB `frames` of `size` (w, h) into `out` at `fps` (a
    number, or a ratio such as "24000/1001")."""
    w, h = size
    args = [
        *input_args,
        *("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-"),
        *("-an", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"),
        *codec_args,
        str(out),
    ]
    run_ffmpeg(exe, args, (np.ascontiguousarray(f, dtype=np.uint8).tobytes() for f in frames))


def count_decodable(exe: str, path: Path) -> int:
    """Frames the bundled ffmpeg decodes from `path` (0 if it cannot open it)."""
    cmd = [exe, "-hide_banner", "-nostats", "-v", "quiet", "-progress", "pipe:1"]
    cmd += ["-err_detect", "ignore_err", "-i", str(path), "-map", "0:v:0?", "-f", "null", "-"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    frames = re.findall(r"^frame=(\d+)", out.stdout, flags=re.M)
    return int(frames[-1]) if frames else 0


# --------------------------------------------------------------------------- drawing


def _grid(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return xx, yy


def _disc(img: np.ndarray, cx: float, cy: float, r: float, colour: tuple[int, int, int]) -> None:
    h, w = img.shape[:2]
    yy, xx = np.ogrid[0:h, 0:w]
    img[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = colour


def stamped_scene(i: int, size: tuple[int, int] = STAMPED_SIZE) -> np.ndarray:
    """A frame that changes every frame (moving gradient and shapes) with a stamp."""
    w, h = size
    xx, yy = _grid(size)
    img = np.empty((h, w, 3), np.uint8)
    img[..., 0] = ((xx * 200 / w + i * 5) % 256).astype(np.uint8)
    img[..., 1] = ((yy * 200 / h + i * 3) % 256).astype(np.uint8)
    img[..., 2] = (128 + 100 * np.sin((xx + yy) / 23.0 + i * 0.3)).astype(np.uint8)
    _disc(img, (i * 7) % w, h * 0.6 + 40 * math.sin(i / 9), 26, (250, 60, 10))
    x0 = int((w - 60) * (0.5 + 0.5 * math.sin(i / 13)))
    img[int(h * 0.35) : int(h * 0.35) + 40, x0 : x0 + 60] = (20, 220, 90)
    stamps.draw_stamp(img, i)
    return img


def _value_noise(size: tuple[int, int], cell: int, seed: int) -> np.ndarray:
    """(h, w) float32 in 0..1: smooth random texture, tileable by wrap-around."""
    import cv2

    w, h = size
    rng = np.random.default_rng(seed)
    small = rng.random((h // cell + 2, w // cell + 2)).astype(np.float32)
    big = cv2.resize(small, ((w // cell + 2) * cell, (h // cell + 2) * cell), cv2.INTER_CUBIC)
    return np.clip(big, 0, 1)


def shot_frame(kind: str, t: int, size: tuple[int, int] = SHOT_SIZE) -> np.ndarray:
    """A frame of one of four very different scenes; `t` moves the content inside it."""
    w, h = size
    xx, yy = _grid(size)
    img = np.empty((h, w, 3), np.uint8)
    if kind == "stripes":  # red/orange horizontal stripes scrolling down, dark
        s = 0.5 + 0.5 * np.sin((yy - t) * 2 * np.pi / 16)
        img[..., 0] = (90 + 150 * s).astype(np.uint8)
        img[..., 1] = (20 + 80 * s).astype(np.uint8)
        img[..., 2] = 10
        _disc(img, w * (0.5 + 0.35 * math.sin(t / 10)), h * 0.5, 14, (255, 230, 40))
    elif kind == "checker":  # blue/cyan checkerboard sliding right
        c = ((((xx - t) // 24) + (yy // 24)) % 2).astype(np.float32)
        img[..., 0] = (10 + 30 * c).astype(np.uint8)
        img[..., 1] = (60 + 160 * c).astype(np.uint8)
        img[..., 2] = (200 + 55 * c).astype(np.uint8)
        x0 = int((w - 30) * (0.5 + 0.5 * math.sin(t / 9)))
        img[h // 3 : h // 3 + 30, x0 : x0 + 30] = (255, 255, 255)
    elif kind == "noise":  # green blotchy texture panning diagonally, bright
        n = _value_noise((w + 128, h + 128), 12, SEED)
        n = np.roll(n, (t, 2 * t), axis=(0, 1))[:h, :w]
        img[..., 0] = (40 * n).astype(np.uint8)
        img[..., 1] = (110 + 145 * n).astype(np.uint8)
        img[..., 2] = (30 + 40 * n).astype(np.uint8)
    elif kind == "rings":  # yellow/magenta rings pulsing around a moving centre
        cx, cy = w / 2 + 30 * math.sin(t / 12), h / 2 + 15 * math.cos(t / 14)
        r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        s = 0.5 + 0.5 * np.sin(r / 6 - t * 0.15)
        img[..., 0] = (200 + 55 * s).astype(np.uint8)
        img[..., 1] = (40 + 180 * (1 - s)).astype(np.uint8)
        img[..., 2] = (180 * s).astype(np.uint8)
    elif kind == "shapes":  # abstract shapes drifting over a purple-grey gradient
        img[..., 0] = (60 + 60 * xx / w).astype(np.uint8)
        img[..., 1] = (50 + 30 * yy / h).astype(np.uint8)
        img[..., 2] = (90 + 60 * (1 - xx / w)).astype(np.uint8)
        _disc(
            img,
            w * (0.5 + 0.4 * math.sin(t / 12)),
            h * 0.3 + 20 * math.sin(t / 8),
            18,
            (240, 200, 30),
        )
        _disc(img, w * (0.5 + 0.4 * math.cos(t / 7)), h * 0.7, 11, (30, 200, 230))
        x0 = int(w / 2 + w / 3 * math.sin(t / 11))
        img[h // 2 - 12 : h // 2 + 12, max(0, x0 - 30) : x0 + 30] = (230, 70, 140)
        edge = w * (0.5 + 0.3 * math.sin(t / 15))
        img[(yy > h - 40 + 20 * np.sin(xx / 17 + t / 5)) & (xx > edge)] = (250, 250, 250)
    else:
        raise ValueError(f"unknown scene kind {kind!r}")
    return img


def _blend(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    out = (1 - alpha) * a.astype(np.float32) + alpha * b.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- specs


@dataclass
class Fixture:
    """One file to produce: its manifest entry (ground truth) and how to build it."""

    name: str
    entry: dict[str, Any]
    build: Callable[[str, Path], None]
    needs: tuple[str, ...] = ()  # encoders the build needs
    recipe: list[str] = field(default_factory=list)  # encoder args, part of the spec hash


def _entry(name: str, **kw: Any) -> dict[str, Any]:
    """A manifest entry with every key present, defaults filled in."""
    e: dict[str, Any] = {
        "name": name,
        "group": "stamped",
        "container": name.rsplit(".", 1)[-1],
        "codec": None,
        "pix_fmt": "yuv420p",
        "fps": float(FPS),
        "n_frames": None,
        "width": None,
        "height": None,
        "display_width": None,
        "display_height": None,
        "duration_s": None,
        "gop": GOP,
        "bframes": 0,
        "stamped": False,
        "vfr": False,
        "pts_s": None,
        "rotation_ccw_deg": 0,
        "cuts": [],
        "shots": [],
        "dissolves": [],
        "glitch_frames": [],
        "glitches": [],
        "has_faces": False,
        "expect": "ok",
        "readable": True,
        "n_frames_decodable": None,
        "generated": False,
        "skip_reason": None,
        "notes": "",
    }
    for k, v in kw.items():
        if k not in e:
            raise KeyError(f"unknown manifest key {k!r}")
        e[k] = v
    if e["width"] is not None and e["display_width"] is None:
        rotated = e["rotation_ccw_deg"] % 180 == 90
        e["display_width"] = e["height"] if rotated else e["width"]
        e["display_height"] = e["width"] if rotated else e["height"]
    if e["n_frames"] and e["duration_s"] is None and e["fps"]:
        e["duration_s"] = round(e["n_frames"] / e["fps"], 6)
    return e


def _x264(bframes: int = 3, crf: int = 23, gop: int = GOP) -> list[str]:
    return [
        *("-c:v", "libx264", "-preset", "fast", "-crf", str(crf), "-bf", str(bframes)),
        *("-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"),
        *("-pix_fmt", "yuv420p"),
    ]


H264_MP4 = [*_x264(), "-movflags", "+faststart"]

STAMPED_CODECS: list[tuple[str, str, list[str], tuple[str, ...], int]] = [
    # name, codec, encoder args, encoders needed, B-frames
    ("stamped_h264.mp4", "h264", H264_MP4, ("libx264",), 3),
    ("stamped_h264.mov", "h264", _x264(), ("libx264",), 3),
    ("stamped_h264.mkv", "h264", _x264(), ("libx264",), 3),
    (
        "stamped_vp9.webm",
        "vp9",
        [
            *("-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-g", str(GOP)),
            *("-deadline", "good", "-cpu-used", "5", "-row-mt", "1", "-pix_fmt", "yuv420p"),
        ],
        ("libvpx-vp9",),
        0,
    ),
    (
        "stamped_mpeg4.avi",
        "mpeg4",
        ["-c:v", "mpeg4", "-q:v", "5", "-g", str(GOP), "-bf", "2", "-pix_fmt", "yuv420p"],
        ("mpeg4",),
        2,
    ),
    (
        "stamped_hevc.mp4",
        "hevc",
        [
            *("-c:v", "libx265", "-preset", "fast", "-crf", "26", "-bf", "3", "-g", str(GOP)),
            *("-x265-params", f"keyint={GOP}:min-keyint={GOP}:scenecut=0:log-level=error"),
            *("-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-movflags", "+faststart"),
        ],
        ("libx265",),
        3,
    ),
]


def _av1_recipe(encoders: set[str]) -> tuple[list[str], tuple[str, ...]]:
    if "libsvtav1" in encoders:
        args = ["-c:v", "libsvtav1", "-preset", "10", "-crf", "35", "-g", str(GOP)]
        return [*args, "-pix_fmt", "yuv420p"], ("libsvtav1",)
    args = ["-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-crf", "35"]
    return [*args, "-b:v", "0", "-g", str(GOP), "-pix_fmt", "yuv420p"], ("libaom-av1",)


def vfr_pts_ms(n: int = 80) -> list[int]:
    """Presentation times (ms): 30 frames at 25 fps, 30 alternating 40/80 ms, then 10 fps."""
    pts: list[int] = []
    for i in range(n):
        if i < 30:
            pts.append(40 * i)
        elif i < 60:
            k = i - 30
            pts.append(1200 + (k // 2) * 120 + (k % 2) * 40)
        else:
            pts.append(3000 + (i - 60) * 100)
    return pts


def _vfr_setpts_expr() -> str:
    """setpts expression (time base 1/1000) that gives exactly `vfr_pts_ms()`."""
    ms = "if(lt(N,30),N*40,if(lt(N,60),1200+floor((N-30)/2)*120+mod(N-30,2)*40,3000+(N-60)*100))"
    return f"floor({ms}/(TB*1000)+0.5)"


def _frames(fn: Callable[[int], np.ndarray], n: int) -> Iterator[np.ndarray]:
    return (fn(i) for i in range(n))


def _simple(
    frames: Callable[[], Iterable[np.ndarray]],
    size: tuple[int, int],
    args: list[str],
    input_args: tuple[str, ...] = (),
    fps: int | str = FPS,
) -> Callable[[str, Path], None]:
    def build(exe: str, out: Path) -> None:
        encode_frames(exe, frames(), size, out, args, fps=fps, input_args=input_args)

    return build


def _shots_cuts() -> tuple[list[np.ndarray], dict[str, Any]]:
    kinds, cuts, n = ["stripes", "checker", "noise", "rings"], [30, 75, 110], 150
    bounds = [0, *cuts, n]
    frames = [
        shot_frame(kinds[s], i - bounds[s])
        for s in range(4)
        for i in range(bounds[s], bounds[s + 1])
    ]
    shots = [[bounds[s], bounds[s + 1] - 1] for s in range(4)]
    return frames, {"cuts": cuts, "shots": shots, "n_frames": n}


def _shots_flash() -> tuple[list[np.ndarray], dict[str, Any]]:
    n = 100
    frames = [shot_frame("shapes", i) for i in range(n)]
    w, h = SHOT_SIZE
    for i in (40, 60, 61):
        frames[i] = np.full((h, w, 3), 255, np.uint8)
    side = math.sqrt(0.4)
    bw, bh = round(w * side), round(h * side)
    x0, y0 = (w - bw) // 2, (h - bh) // 2
    frames[80] = frames[80].copy()
    frames[80][y0 : y0 + bh, x0 : x0 + bw] = (255, 0, 255)
    glitches = [
        {"frames": [40], "kind": "white_flash"},
        {"frames": [60, 61], "kind": "white_flash"},
        {
            "frames": [80],
            "kind": "colour_block",
            "area_fraction": round(bw * bh / (w * h), 4),
            "box_xyxy": [x0, y0, x0 + bw, y0 + bh],
            "rgb": [255, 0, 255],
        },
    ]
    return frames, {
        "n_frames": n,
        "shots": [[0, n - 1]],
        "glitch_frames": [40, 60, 61, 80],
        "glitches": glitches,
    }


def _shots_dissolve() -> tuple[list[np.ndarray], dict[str, Any]]:
    d0, d1, cut, n = 40, 45, 80, 110
    frames: list[np.ndarray] = []
    for i in range(n):
        if i < d0:
            frames.append(shot_frame("stripes", i))
        elif i <= d1:
            alpha = (i - d0 + 1) / (d1 - d0 + 2)
            frames.append(_blend(shot_frame("stripes", i), shot_frame("checker", i - d0), alpha))
        elif i < cut:
            frames.append(shot_frame("checker", i - d0))
        else:
            frames.append(shot_frame("rings", i - cut))
    centre = (d0 + d1) / 2
    shots = [[0, math.floor(centre)], [math.floor(centre) + 1, cut - 1], [cut, n - 1]]
    dissolves = [
        {
            "start": d0,
            "end": d1,
            "centre": centre,
            "alpha": [round((k + 1) / (d1 - d0 + 2), 4) for k in range(d1 - d0 + 1)],
        }
    ]
    return frames, {"n_frames": n, "cuts": [cut], "shots": shots, "dissolves": dissolves}


def _from_list(
    maker: Callable[[], tuple[list[np.ndarray], dict[str, Any]]],
) -> Callable[[], Iterable[np.ndarray]]:
    return lambda: maker()[0]


def _derived(
    make_base: Callable[[str, Path], None], damage: Callable[[bytes], bytes]
) -> Callable[[str, Path], None]:
    """Build a base clip in a temp file, then write `damage(bytes)` to the output."""

    def build(exe: str, out: Path) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp) / f"base{out.suffix}"
            make_base(exe, base)
            out.write_bytes(damage(base.read_bytes()))

    return build


def _cut(fraction: float) -> Callable[[bytes], bytes]:
    return lambda data: data[: int(len(data) * fraction)]


def _overwrite_head(n: int) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        junk = np.random.default_rng(SEED + 1).integers(0, 256, n, dtype=np.uint8).tobytes()
        return junk + data[n:]

    return damage


def _overwrite_middle(at: float, n: int) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        junk = np.random.default_rng(SEED + 2).integers(0, 256, n, dtype=np.uint8).tobytes()
        start = int(len(data) * at)
        return data[:start] + junk + data[start + n :]

    return damage


def _audio_only(exe: str, out: Path, codec_args: list[str]) -> None:
    rate, seconds = 44100, 2.0
    t = np.arange(int(rate * seconds)) / rate
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    args = ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "-", "-vn", "-map_metadata", "-1"]
    run_ffmpeg(exe, [*args, "-fflags", "+bitexact", *codec_args, str(out)], [pcm])


def fixtures(encoders: set[str]) -> list[Fixture]:
    """Every file the script produces, in build order."""
    out: list[Fixture] = []
    sw, sh = STAMPED_SIZE

    def stamped() -> Iterator[np.ndarray]:
        return _frames(stamped_scene, STAMPED_FRAMES)

    common = {"width": sw, "height": sh, "n_frames": STAMPED_FRAMES, "stamped": True}

    for name, codec, args, needs, bf in STAMPED_CODECS:
        out.append(
            Fixture(
                name,
                _entry(name, codec=codec, bframes=bf, **common),
                _simple(stamped, STAMPED_SIZE, args),
                needs,
                args,
            )
        )
    av1_args, av1_needs = _av1_recipe(encoders)
    out.append(
        Fixture(
            "stamped_av1.mkv",
            _entry("stamped_av1.mkv", codec="av1", notes=av1_needs[0], **common),
            _simple(stamped, STAMPED_SIZE, av1_args),
            av1_needs,
            av1_args,
        )
    )

    # VFR: frames are fed at 25 fps, then setpts rewrites their times (time base 1 ms).
    pts = vfr_pts_ms()
    n_vfr = len(pts)
    dur = (pts[-1] + 100) / 1000
    vfr_args = [
        "-vf",
        f"settb=1/1000,setpts='{_vfr_setpts_expr()}'",
        "-fps_mode",
        "passthrough",
        "-enc_time_base:v",
        "1:1000",
        *_x264(),
    ]
    out.append(
        Fixture(
            "stamped_vfr.mkv",
            _entry(
                "stamped_vfr.mkv",
                codec="h264",
                bframes=3,
                width=sw,
                height=sh,
                stamped=True,
                n_frames=n_vfr,
                vfr=True,
                pts_s=[p / 1000 for p in pts],
                duration_s=dur,
                fps=round(n_vfr / dur, 6),
                notes="30 frames at 25 fps, 30 frames alternating 40/80 ms gaps, 20 at 10 fps; "
                "last frame lasts 100 ms",
            ),
            _simple(lambda: _frames(stamped_scene, n_vfr), STAMPED_SIZE, vfr_args),
            ("libx264",),
            vfr_args,
        )
    )

    rot_in = ("-noautorotate", "-display_rotation", "90")
    out.append(
        Fixture(
            "stamped_rotated.mp4",
            _entry(
                "stamped_rotated.mp4",
                codec="h264",
                bframes=3,
                rotation_ccw_deg=90,
                **common,
                notes="coded upright 320x240 with the stamp on top; the display matrix says "
                "rotate 90 deg counter-clockwise, so a rotation-aware reader returns 240x320 "
                "frames with the stamp on the left edge (np.rot90(frame, -1) undoes it)",
            ),
            _simple(stamped, STAMPED_SIZE, H264_MP4, rot_in),
            ("libx264",),
            [*rot_in, *H264_MP4],
        )
    )

    # Shot patterns (not stamped).
    w, h = SHOT_SIZE
    shot_args = [*_x264(bframes=3, gop=25), "-movflags", "+faststart"]
    for name, maker in [
        ("shots_cuts.mp4", _shots_cuts),
        ("shots_flash.mp4", _shots_flash),
        ("shots_dissolve.mp4", _shots_dissolve),
    ]:
        truth = maker()[1]
        out.append(
            Fixture(
                name,
                _entry(
                    name, group="shots", codec="h264", bframes=3, gop=25, width=w, height=h, **truth
                ),
                _simple(_from_list(maker), SHOT_SIZE, shot_args),
                ("libx264",),
                shot_args,
            )
        )
    out.append(
        Fixture(
            "no_faces.mp4",
            _entry(
                "no_faces.mp4",
                group="shots",
                codec="h264",
                bframes=3,
                gop=25,
                width=w,
                height=h,
                n_frames=75,
                shots=[[0, 74]],
                notes="moving abstract shapes, no faces",
            ),
            _simple(lambda: _frames(lambda i: shot_frame("shapes", i), 75), SHOT_SIZE, shot_args),
            ("libx264",),
            shot_args,
        )
    )

    # Broken / edge-case files.
    base_mp4 = _simple(stamped, STAMPED_SIZE, _x264())  # moov atom at the end
    base_fast = _simple(stamped, STAMPED_SIZE, H264_MP4)
    base_mkv = _simple(stamped, STAMPED_SIZE, _x264())
    broken = {"group": "broken", "readable": False}

    def _write(data: bytes) -> Callable[[str, Path], None]:
        return lambda _exe, path: path.write_bytes(data)

    out.append(
        Fixture(
            "empty.mp4",
            _entry("empty.mp4", expect="empty_file", gop=None, pix_fmt=None, fps=None, **broken),
            _write(b""),
        )
    )
    text = b"This is a plain text file, not a video.\n" * 20
    out.append(
        Fixture(
            "text.mp4",
            _entry("text.mp4", expect="not_a_video", gop=None, pix_fmt=None, fps=None, **broken),
            _write(text),
        )
    )
    if "aac" in encoders:
        aname, aargs = "audio_only.m4a", ["-c:a", "aac", "-b:a", "64k"]
    else:
        aname, aargs = "audio_only.mkv", ["-c:a", "libvorbis"]
    out.append(
        Fixture(
            aname,
            _entry(
                aname,
                codec=aargs[1],
                expect="no_video_stream",
                gop=None,
                pix_fmt=None,
                fps=None,
                notes="2 s 440 Hz sine",
                **broken,
            ),
            lambda exe, path: _audio_only(exe, path, aargs),
            (aargs[1],),
            aargs,
        )
    )
    out.append(
        Fixture(
            "truncated.mp4",
            _entry(
                "truncated.mp4",
                codec="h264",
                bframes=3,
                width=sw,
                height=sh,
                stamped=True,
                expect="truncated_unreadable",
                **broken,
                notes="stamped_h264 content, moov atom at the end, cut to 40% of its bytes",
            ),
            _derived(base_mp4, _cut(0.4)),
            ("libx264",),
            [*_x264(), "cut 0.4"],
        )
    )
    out.append(
        Fixture(
            "truncated_faststart.mp4",
            _entry(
                "truncated_faststart.mp4",
                codec="h264",
                bframes=3,
                expect="truncated_partial",
                **{**common, "n_frames": STAMPED_FRAMES},
                group="broken",
                notes="faststart (moov first), cut to 60% of its bytes: the header promises "
                "n_frames, later frames are missing",
            ),
            _derived(base_fast, _cut(0.6)),
            ("libx264",),
            [*H264_MP4, "cut 0.6"],
        )
    )
    out.append(
        Fixture(
            "corrupt_header.mp4",
            _entry(
                "corrupt_header.mp4",
                codec="h264",
                bframes=3,
                width=sw,
                height=sh,
                stamped=True,
                expect="corrupt_header",
                **broken,
                notes="moov at the end; first 64 bytes replaced by seeded random bytes",
            ),
            _derived(base_mp4, _overwrite_head(64)),
            ("libx264",),
            [*_x264(), "head 64"],
        )
    )
    out.append(
        Fixture(
            "corrupt_middle.mkv",
            _entry(
                "corrupt_middle.mkv",
                codec="h264",
                bframes=3,
                expect="corrupt_partial",
                group="broken",
                **common,
                notes="4096 bytes at 50% of the file replaced by seeded random bytes; decoding "
                "goes on past the damage, some frames are lost or smeared",
            ),
            _derived(base_mkv, _overwrite_middle(0.5, 4096)),
            ("libx264",),
            [*_x264(), "middle 0.5 4096"],
        )
    )
    out.append(
        Fixture(
            "one_frame.mp4",
            _entry(
                "one_frame.mp4",
                group="broken",
                codec="h264",
                width=sw,
                height=sh,
                n_frames=1,
                stamped=True,
                notes="a valid clip with a single frame (edge case, not an error)",
            ),
            _simple(lambda: _frames(stamped_scene, 1), STAMPED_SIZE, H264_MP4),
            ("libx264",),
            H264_MP4,
        )
    )
    return out


# --------------------------------------------------------------------------- on demand

# Clips that tests build when they run, into a temporary folder, with `build_on_demand`.
# They are not in the manifest, so neither `make fixtures` nor the golden reports (which
# audit every file in fixtures/generated) see them. Each damaged one is a valid clip
# with chosen bytes overwritten by seeded random bytes, the container left intact.

AVI_23976 = "mpeg4_bf2_23976.avi"
DAMAGED_SPS = "damaged_sps.mp4"
DAMAGED_FIRST_VP9 = "damaged_first_frame_vp9.webm"
DAMAGED_FIRST_MPEG4 = "damaged_first_frame_mpeg4.avi"
CONCEALED_H264 = "concealed_h264.mp4"
CONCEALED_FIRST_H264 = "concealed_first_frame_h264.mp4"
UNKNOWN_CODEC = "unknown_codec.avi"

CONCEALED_SAMPLE = 46  # a P-frame in the middle of stamped_h264.mp4 (GOP 15)
N_23976 = 270


def _junk(n: int, salt: int) -> bytes:
    return np.random.default_rng(SEED + salt).integers(0, 256, n, dtype=np.uint8).tobytes()


def _overwrite(data: bytes, at: int, n: int, salt: int) -> bytes:
    return data[:at] + _junk(n, salt) + data[at + n :]


def _mp4_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    """(type, payload start, end) of each box between `start` and `end`."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        yield kind.decode("latin-1"), pos + header, pos + size
        pos += size


def _mp4_box(data: bytes, path: list[str]) -> tuple[int, int]:
    """(payload start, end) of the first box at `path`, e.g. ["moov", "trak"]."""
    start, end = 0, len(data)
    for name in path:
        start, end = next((a, b) for kind, a, b in _mp4_boxes(data, start, end) if kind == name)
    return start, end


def mp4_samples(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every sample of an MP4's first track, in decode order."""
    stbl = _mp4_box(data, ["moov", "trak", "mdia", "minf", "stbl"])
    tables = {kind: a for kind, a, _ in _mp4_boxes(data, *stbl)}
    fixed, count = struct.unpack(">II", data[tables["stsz"] + 4 : tables["stsz"] + 12])
    at = tables["stsz"] + 12
    sizes = (
        [fixed] * count if fixed else list(struct.unpack(f">{count}I", data[at : at + 4 * count]))
    )
    n_chunks = struct.unpack(">I", data[tables["stco"] + 4 : tables["stco"] + 8])[0]
    at = tables["stco"] + 8
    chunks = struct.unpack(f">{n_chunks}I", data[at : at + 4 * n_chunks])
    n_runs = struct.unpack(">I", data[tables["stsc"] + 4 : tables["stsc"] + 8])[0]
    at = tables["stsc"] + 8
    runs = [struct.unpack(">III", data[at + 12 * i : at + 12 * i + 12]) for i in range(n_runs)]
    samples: list[tuple[int, int]] = []
    for number, offset in enumerate(chunks, 1):
        per_chunk = next(run[1] for run in reversed(runs) if run[0] <= number)
        for _ in range(per_chunk):
            size = sizes[len(samples)]
            samples.append((offset, size))
            offset += size
    return samples


def avi_frames(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of the payload of every video chunk ("00dc") of an AVI."""
    pos = data.index(b"movi") + 4
    frames: list[tuple[int, int]] = []
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if tag == b"idx1":
            break
        if tag == b"LIST":  # a "rec " list: its chunks follow its 12-byte header
            pos += 12
            continue
        if tag[2:] == b"dc":
            frames.append((pos + 8, size))
        pos += 8 + size + (size & 1)
    return frames


def webm_first_frame(data: bytes) -> int:
    """Offset of the first frame's data: inside the first SimpleBlock of the first
    Cluster, after the block's track number, timecode and flags."""
    block = data.index(b"\xa3", data.index(bytes.fromhex("1F43B675")))
    size_length = 9 - data[block + 1].bit_length()  # EBML variable-length size
    return block + 1 + size_length + 4  # track number (1 byte), timecode (2), flags (1)


def _damage_sps(data: bytes) -> bytes:
    """Overwrite the SPS in the avcC box (the codec header), all but its NAL header."""
    payload = data.index(b"avcC") + 4
    sps_length = struct.unpack(">H", data[payload + 6 : payload + 8])[0]
    return _overwrite(data, payload + 9, sps_length - 1, 11)


def _damage_first_vp9(data: bytes) -> bytes:
    """Overwrite the first keyframe's header and the data after it."""
    return _overwrite(data, webm_first_frame(data), 1500, 12)


def _damage_first_mpeg4(data: bytes) -> bytes:
    """Overwrite the first VOP's data after its first 40 bytes."""
    offset, _ = avi_frames(data)[0]
    return _overwrite(data, offset + 40, 1500, 13)


def _damage_slice(data: bytes) -> bytes:
    """Overwrite one P-frame's slice data in the middle of the clip, past its length
    prefix and slice header: FFmpeg conceals it and delivers every frame."""
    offset, size = mp4_samples(data)[CONCEALED_SAMPLE]
    return _overwrite(data, offset + 40, size - 40, 14)


def _damage_first_slice(data: bytes) -> bytes:
    """Overwrite the first keyframe's slice data past its first 800 bytes (x264's SEI
    and the slice header): FFmpeg conceals it, and OpenCV decodes that frame while it
    opens the clip."""
    offset, size = mp4_samples(data)[0]
    return _overwrite(data, offset + 800, size - 800, 15)


def _unknown_fourcc(data: bytes) -> bytes:
    """Replace the stream's FourCC (stream header and format) with one no decoder has."""
    return data.replace(b"FMP4", b"QQQQ")


def on_demand_fixtures() -> list[Fixture]:
    """The clips `build_on_demand` can build."""
    stamped = {"width": STAMPED_SIZE[0], "height": STAMPED_SIZE[1], "stamped": True}
    mpeg4_args = STAMPED_CODECS[4][2]
    base_mp4 = _simple(lambda: _frames(stamped_scene, STAMPED_FRAMES), STAMPED_SIZE, H264_MP4)
    base_vp9 = _simple(
        lambda: _frames(stamped_scene, STAMPED_FRAMES), STAMPED_SIZE, STAMPED_CODECS[3][2]
    )
    base_avi = _simple(lambda: _frames(stamped_scene, STAMPED_FRAMES), STAMPED_SIZE, mpeg4_args)
    damaged = {"group": "on_demand", "n_frames": STAMPED_FRAMES, **stamped}
    return [
        Fixture(
            AVI_23976,
            _entry(
                AVI_23976,
                group="on_demand",
                codec="mpeg4",
                bframes=2,
                fps=24000 / 1001,
                n_frames=N_23976,
                **stamped,
                notes="MPEG-4 Part 2 with B-frames in AVI at 23.976 fps: OpenCV gives the last "
                "frame no time (POS_MSEC 0), decord gives the first ones a negative one",
            ),
            _simple(
                lambda: _frames(stamped_scene, N_23976), STAMPED_SIZE, mpeg4_args, fps="24000/1001"
            ),
            ("mpeg4",),
        ),
        Fixture(
            DAMAGED_SPS,
            _entry(
                DAMAGED_SPS,
                codec="h264",
                bframes=3,
                expect="damaged_data",
                readable=False,
                **damaged,
                notes="stamped_h264.mp4 with the SPS in its avcC box overwritten: no frame decodes",
            ),
            _derived(base_mp4, _damage_sps),
            ("libx264",),
        ),
        Fixture(
            DAMAGED_FIRST_VP9,
            _entry(
                DAMAGED_FIRST_VP9,
                codec="vp9",
                expect="damaged_data",
                readable=False,
                **damaged,
                notes="stamped_vp9.webm with its first keyframe's header overwritten",
            ),
            _derived(base_vp9, _damage_first_vp9),
            ("libvpx-vp9",),
        ),
        Fixture(
            DAMAGED_FIRST_MPEG4,
            _entry(
                DAMAGED_FIRST_MPEG4,
                codec="mpeg4",
                bframes=2,
                expect="damaged_data",
                readable=False,
                **damaged,
                notes="stamped_mpeg4.avi with its first VOP overwritten after 40 bytes",
            ),
            _derived(base_avi, _damage_first_mpeg4),
            ("mpeg4",),
        ),
        Fixture(
            CONCEALED_H264,
            _entry(
                CONCEALED_H264,
                codec="h264",
                bframes=3,
                expect="concealed_errors",
                **damaged,
                notes=f"stamped_h264.mp4 with the slice data of sample {CONCEALED_SAMPLE} "
                "overwritten: FFmpeg reports the errors, conceals them and delivers every frame",
            ),
            _derived(base_mp4, _damage_slice),
            ("libx264",),
        ),
        Fixture(
            CONCEALED_FIRST_H264,
            _entry(
                CONCEALED_FIRST_H264,
                codec="h264",
                bframes=3,
                expect="concealed_errors",
                **damaged,
                notes="stamped_h264.mp4 with the first keyframe's slice data overwritten past "
                "800 bytes: FFmpeg reports the errors, conceals them and delivers every frame",
            ),
            _derived(base_mp4, _damage_first_slice),
            ("libx264",),
        ),
        Fixture(
            UNKNOWN_CODEC,
            _entry(
                UNKNOWN_CODEC,
                codec="QQQQ",
                expect="unsupported_codec",
                readable=False,
                **damaged,
                notes="stamped_mpeg4.avi with its FourCC replaced by one no decoder knows",
            ),
            _derived(base_avi, _unknown_fourcc),
            ("mpeg4",),
        ),
    ]


def build_on_demand(outdir: Path, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Build the named on-demand clips into `outdir` (created if missing).

    Returns:
        Each clip's manifest entry (its ground truth), by name.

    Raises:
        KeyError: a name is not an on-demand clip.
        RuntimeError: ffmpeg failed, or lacks an encoder a clip needs.
    """
    exe = ffmpeg_exe()
    encoders = ffmpeg_encoders(exe)
    specs = {fx.name: fx for fx in on_demand_fixtures()}
    outdir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    for name in names:
        fx = specs[name]
        missing = [e for e in fx.needs if e not in encoders]
        if missing:
            raise RuntimeError(f"{name}: ffmpeg lacks {', '.join(missing)}")
        fx.build(exe, outdir / name)
        entries[name] = {**fx.entry, "generated": True}
    return entries


# --------------------------------------------------------------------------- manifest


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_hash() -> str:
    """Hash of the code that draws the frames (this script and tests/stamps.py)."""
    h = hashlib.sha256()
    for path in (Path(__file__), Path(stamps.__file__)):
        h.update(path.read_bytes())
    return h.hexdigest()


def spec_hash(fx: Fixture, ffmpeg: str, source: str) -> str:
    """Hash of everything that determines a fixture's bytes and ground truth."""
    truth = {k: v for k, v in fx.entry.items() if k not in ("generated", "skip_reason")}
    blob = json.dumps([source, ffmpeg, fx.recipe, fx.needs, truth], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_manifest(path: Path) -> dict[str, Any]:
    """The manifest at `path`, or an empty one if missing or unreadable."""
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def make_fixtures(
    outdir: Path, *, force: bool = False, only: set[str] | None = None, log: bool = True
) -> dict[str, Any]:
    """Build the fixtures into `outdir` and write its manifest.

    Args:
        outdir: directory to fill (created if missing).
        force: rebuild every file even if it matches the manifest.
        only: build just these file names (the manifest lists only them too).
        log: print one line per file to stderr.

    Returns:
        The manifest written to `outdir/manifest.json`.
    """
    t_start = time.monotonic()
    outdir.mkdir(parents=True, exist_ok=True)
    exe = ffmpeg_exe()
    version = ffmpeg_version(exe)
    encoders = ffmpeg_encoders(exe)
    source = source_hash()
    old_files: dict[str, Any] = load_manifest(outdir / MANIFEST).get("files", {})
    specs = fixtures(encoders)
    if only:
        unknown = only - {fx.name for fx in specs}
        if unknown:
            raise SystemExit(f"unknown fixture name(s): {', '.join(sorted(unknown))}")
        specs = [fx for fx in specs if fx.name in only]

    files: dict[str, Any] = {}
    for fx in specs:
        t0 = time.monotonic()
        entry = dict(fx.entry)
        entry["spec_hash"] = spec_hash(fx, version, source)
        path = outdir / fx.name
        missing = [e for e in fx.needs if e not in encoders]
        old = old_files.get(fx.name)
        if missing:
            entry.update(
                generated=False,
                skip_reason=f"ffmpeg lacks {', '.join(missing)}",
                size_bytes=None,
                sha256=None,
            )
            status = "skipped: " + entry["skip_reason"]
        elif (
            not force
            and isinstance(old, dict)
            and old.get("spec_hash") == entry["spec_hash"]
            and old.get("generated")
            and path.is_file()
            and path.stat().st_size == old.get("size_bytes")
            and sha256_file(path) == old.get("sha256")
        ):
            entry = old
            status = "up to date"
        else:
            tmp = path.with_name(f".{fx.name}.tmp{path.suffix}")
            try:
                fx.build(exe, tmp)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            entry.update(generated=True, size_bytes=path.stat().st_size, sha256=sha256_file(path))
            if entry["group"] == "broken":
                entry["n_frames_decodable"] = count_decodable(exe, path)
            status = f"built in {time.monotonic() - t0:.1f} s"
        files[fx.name] = entry
        if log:
            size = entry.get("size_bytes")
            print(
                f"{fx.name:26s} {size if size is not None else '-':>8} B  {status}", file=sys.stderr
            )

    manifest = {
        "format": "drift-audit-fixtures",
        "version": FORMAT_VERSION,
        "generator": "scripts/make_fixtures.py",
        "ffmpeg": version,
        "encoders": {
            e: e in encoders
            for e in ("libx264", "libx265", "libvpx-vp9", "mpeg4", "libsvtav1", "libaom-av1", "aac")
        },
        "stamp": {
            "module": "tests/stamps.py",
            "cells": stamps.N_CELLS,
            "index_bits": stamps.INDEX_BITS,
            "band_fraction": stamps.BAND_FRACTION,
        },
        "conventions": CONVENTIONS,
        "files": files,
    }
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    mpath = outdir / MANIFEST
    if not mpath.is_file() or mpath.read_text() != text:
        tmp = mpath.with_name(".manifest.json.tmp")
        tmp.write_text(text)
        os.replace(tmp, mpath)
    if log:
        print(
            f"{len(files)} fixtures in {outdir} ({time.monotonic() - t_start:.1f} s)",
            file=sys.stderr,
        )
    return manifest


# --------------------------------------------------------------------------- verify


def _decode_cv2(path: Path) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    while cap.isOpened():
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def _decode_av(path: Path) -> tuple[list[np.ndarray], list[float]]:
    import av

    frames: list[np.ndarray] = []
    times: list[float] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.time) if frame.time is not None else float("nan"))
    return frames, times


def _stamp_errors(frames: list[np.ndarray], expected: list[int]) -> list[str]:
    import cv2

    errors: list[str] = []
    for i, img in enumerate(frames):
        want = expected[i] if i < len(expected) else None
        got = stamps.read_stamp(img)
        half = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        got_half = stamps.read_stamp(half)
        if got != want or got_half != want:
            errors.append(f"frame {i}: want {want}, got {got} (50%: {got_half})")
    return errors


def verify(outdir: Path) -> bool:
    """Decode every stamped clip with OpenCV, PyAV and decord; print what matches.

    Returns:
        True when OpenCV and PyAV read every stamp of every stamped clip correctly.
    """
    manifest = load_manifest(outdir / MANIFEST)
    all_ok = True
    for name, e in manifest.get("files", {}).items():
        if not e.get("generated") or not e.get("stamped") or e.get("group") == "broken":
            continue
        path = outdir / name
        n = e["n_frames"]
        expected = list(range(n))
        k = (-e["rotation_ccw_deg"] // 90) % 4  # undo the display rotation
        lines: list[str] = []
        cv_frames = [np.rot90(f, k) if f.shape[0] != e["height"] else f for f in _decode_cv2(path)]
        cv_err = _stamp_errors(cv_frames, expected)
        if not cv_frames and e["codec"] == "av1":
            lines.append("  opencv: no frames (its FFmpeg build has no software AV1 decoder)")
        else:
            if len(cv_frames) != n:
                cv_err.insert(0, f"decoded {len(cv_frames)} frames, want {n}")
            lines.append(f"  opencv: {'ok' if not cv_err else '; '.join(cv_err[:3])}")
        try:
            av_frames, av_times = _decode_av(path)
            av_frames = [np.rot90(f, k) if f.shape[0] != e["height"] else f for f in av_frames]
            av_err = _stamp_errors(av_frames, expected)
            if len(av_frames) != n:
                av_err.insert(0, f"decoded {len(av_frames)} frames, want {n}")
            if e["pts_s"] is not None:
                bad = [
                    (i, t, p)
                    for i, (t, p) in enumerate(zip(av_times, e["pts_s"], strict=False))
                    if abs(t - p) > 1e-3
                ]
                if bad:
                    av_err.append(f"pts mismatch at {bad[:3]}")
            lines.append(f"  pyav:   {'ok' if not av_err else '; '.join(av_err[:3])}")
        except ImportError:
            av_err = []
            lines.append("  pyav:   not installed")
        all_ok = all_ok and not cv_err and not av_err
        try:
            import decord

            vr = decord.VideoReader(str(path))
            idx = list(range(0, n, 7))
            batch = vr.get_batch(idx).asnumpy()
            got = [
                stamps.read_stamp(np.rot90(f, k) if f.shape[0] != e["height"] else f) for f in batch
            ]
            wrong = [(i, g) for i, g in zip(idx, got, strict=True) if g != i]
            summary = "ok" if not wrong else f"{len(wrong)}/{len(idx)} wrong: {wrong[:6]}"
            lines.append(f"  decord: len={len(vr)} get_batch(range(0, {n}, 7)) {summary}")
        except ImportError:
            lines.append("  decord: not installed")
        except Exception as exc:  # decord raises its own error types
            lines.append(f"  decord: error {type(exc).__name__}: {str(exc)[:120]}")
        print(name, file=sys.stderr)
        print("\n".join(lines), file=sys.stderr)
    return all_ok


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--force", action="store_true", help="rebuild every file")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these files")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="decode the stamped clips with OpenCV, PyAV and decord afterwards",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-file log lines")
    args = parser.parse_args(argv)
    make_fixtures(
        args.outdir,
        force=args.force,
        only=set(args.only) if args.only else None,
        log=not args.quiet,
    )
    if args.verify and not verify(args.outdir):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
