#!/usr/bin/env python3
"""Build the source matrix: one small fixture per generator export, shaped as each
generator's public documentation describes its downloads, with a real face from
../shared/media/faces so that detection and identity have something true to find.

Usage:
    python scripts/make_sources.py OUTDIR [--only NAME ...]

What each fixture copies (container, codec, size, aspect, frame rate, audio, phone
rotation tags) is in SOURCES below, and in OUTDIR/manifest.json with the display size
a rotation-aware reader must return. Videos last one second, so tests stay fast.

Provenance is not added here: generators sign their files with C2PA content
credentials, and `scripts/make_signed.py` signs a fixture offline (its `c2pa_preset`
in the manifest names the preset to sign it with). Never commit the outputs: tests
build them under a temporary folder, and the faces may not leave ../shared.

Public documentation the shapes come from (read 2026):
- Sora 2 (OpenAI, Sora app and API): MP4, H.264 video with AAC audio, 16:9 or 9:16, 720p
  (1280x720 / 720x1280) and 1080p for Pro (1920x1080 / 1080x1920), 30 fps; C2PA signed.
- Runway Gen-3 Alpha: MP4, H.264, 1280x768, 24 fps, no audio.
- X Imagine (Grok Imagine, xAI): MP4, H.264 with AAC audio, 720p, 24 fps.
- CapCut: export as MP4 or MOV, H.264 or HEVC (hvc1), 1080p 9:16 at 30 fps; phone
  footage keeps its rotation tag (a display matrix: coded landscape, shown portrait).
- Midjourney: PNG download, WebP in the web gallery; 1024x1024 at --ar 1:1.
- Adobe Firefly: JPEG or PNG download, 2048x2048 at 1:1; C2PA signed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts.make_fixtures import ffmpeg_exe, run_ffmpeg, sha256_file  # noqa: E402

FACES = REPO_ROOT.parent / "shared" / "media" / "faces"
MANIFEST = "manifest.json"
SECONDS = 1.0


@dataclass(frozen=True)
class Source:
    """One generator export.

    Attributes:
        name: the file name.
        generator: who makes such files.
        kind: "video" or "still".
        display: (w, h) as shown: what a rotation-aware decoder returns.
        codec: h264 / hevc (video), png / jpeg / webp (still).
        fps: frames per second (videos).
        audio: an AAC track beside the video.
        rotation_ccw_deg: the display matrix's rotation (0: none); the coded frames are
            the display turned back, so only a reader that honours it sees an upright face.
        face: the photo in ../shared/media/faces the frame is built around.
        c2pa_preset: the `scripts/make_signed.py` preset that signs it as its generator
            does ("" when the generator does not sign).
    """

    name: str
    generator: str
    kind: str
    display: tuple[int, int]
    codec: str
    fps: float = 0.0
    audio: bool = False
    rotation_ccw_deg: int = 0
    face: str = "obama/obama1.jpg"
    c2pa_preset: str = ""

    @property
    def coded(self) -> tuple[int, int]:
        w, h = self.display
        return (h, w) if self.rotation_ccw_deg % 180 == 90 else (w, h)

    @property
    def n_frames(self) -> int:
        return round(self.fps * SECONDS) if self.kind == "video" else 1


SOURCES = (
    Source("sora2_1080p_16x9.mp4", "Sora 2", "video", (1920, 1080), "h264", 30, True,
           c2pa_preset="sora"),
    Source("sora2_1080p_9x16.mp4", "Sora 2", "video", (1080, 1920), "h264", 30, True,
           face="obama/obama2.jpg", c2pa_preset="sora"),
    Source("sora2_720p_16x9.mp4", "Sora 2", "video", (1280, 720), "h264", 30, True,
           face="obama/obama3.jpg", c2pa_preset="sora"),
    Source("sora2_720p_9x16.mp4", "Sora 2", "video", (720, 1280), "h264", 30, True,
           face="obama/obama4.jpg", c2pa_preset="sora"),
    Source("runway_gen3_1280x768.mp4", "Runway Gen-3", "video", (1280, 768), "h264", 24,
           face="obama/obama2.jpg"),
    Source("x_imagine_720p.mp4", "X Imagine", "video", (1280, 720), "h264", 24, True,
           face="obama/obama3.jpg"),
    Source("capcut_h264_rot90.mp4", "CapCut", "video", (1080, 1920), "h264", 30, True, 90),
    Source("capcut_hevc_rot270.mp4", "CapCut", "video", (1080, 1920), "hevc", 30, True, 270,
           face="obama/obama2.jpg"),
    Source("capcut_h264_rot270.mov", "CapCut", "video", (1080, 1920), "h264", 30, True, 270,
           face="obama/obama3.jpg"),
    Source("capcut_hevc_rot90.mov", "CapCut", "video", (1080, 1920), "hevc", 30, True, 90,
           face="obama/obama4.jpg"),
    Source("midjourney_1024.png", "Midjourney", "still", (1024, 1024), "png",
           face="obama/obama2.jpg"),
    Source("midjourney_1024.webp", "Midjourney", "still", (1024, 1024), "webp",
           face="obama/obama3.jpg"),
    Source("firefly_2048.jpg", "Adobe Firefly", "still", (2048, 2048), "jpeg",
           face="obama/obama4.jpg", c2pa_preset="firefly"),
    Source("firefly_2048.png", "Adobe Firefly", "still", (2048, 2048), "png",
           c2pa_preset="firefly"),
)  # fmt: skip


def frames(source: Source) -> Iterator[np.ndarray]:
    """(h, w, 3) uint8 RGB frames as displayed: the face photo on a soft background,
    slowly zooming (a generated clip moves); the caller turns them to coded frames."""
    import cv2

    photo = cv2.imread(str(FACES / source.face), cv2.IMREAD_COLOR)
    if photo is None:
        raise SystemExit(f"{FACES / source.face}: missing (needs ../shared/media)")
    photo = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)
    w, h = source.display
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(source.n_frames):
        t = i / max(1, source.n_frames - 1)
        frame = np.empty((h, w, 3), np.uint8)
        frame[..., 0] = (60 + 80 * xx / w + 20 * t).astype(np.uint8)
        frame[..., 1] = (70 + 60 * yy / h).astype(np.uint8)
        frame[..., 2] = (110 + 50 * (1 - xx / w)).astype(np.uint8)
        # the photo fills 70 % of the short side, zooming 6 % over the clip
        side = 0.7 * min(w, h) * (1 + 0.06 * t)
        scale = side / max(photo.shape[:2])
        pw, ph = round(photo.shape[1] * scale), round(photo.shape[0] * scale)
        small = cv2.resize(photo, (pw, ph), interpolation=cv2.INTER_AREA)
        x0, y0 = (w - pw) // 2 + round(0.02 * w * t), (h - ph) // 2
        frame[y0 : y0 + ph, x0 : x0 + pw] = small
        yield frame


def to_coded(frame: np.ndarray, rotation_ccw_deg: int) -> np.ndarray:
    """The coded frame whose display, turned `rotation_ccw_deg` counter-clockwise by
    the display matrix, is `frame`."""
    return np.ascontiguousarray(np.rot90(frame, -(rotation_ccw_deg // 90)))


def _video_args(source: Source) -> list[str]:
    container = Path(source.name).suffix
    if source.codec == "h264":
        codec = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high"]
        codec += ["-bf", "2", "-g", str(round(source.fps))]
    else:  # HEVC as phones and CapCut write it, tagged hvc1 for QuickTime
        codec = ["-c:v", "libx265", "-preset", "veryfast", "-crf", "26", "-tag:v", "hvc1"]
        codec += ["-x265-params", "log-level=error"]
    if container == ".mov" and source.codec == "h264":
        codec += ["-tag:v", "avc1"]
    audio = ["-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "2"] if source.audio else []
    return [*codec, "-pix_fmt", "yuv420p", *audio, "-movflags", "+faststart", "-shortest"]


def build(source: Source, out: Path, exe: str) -> None:
    """Write one fixture to `out`."""
    if source.kind == "still":
        _still(source, out)
        return
    w, h = source.coded
    video_in = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}"]
    video_in += ["-r", f"{source.fps:g}"]
    if source.rotation_ccw_deg:
        # -noautorotate: else ffmpeg turns the frames upright and drops the tag
        video_in = ["-noautorotate", "-display_rotation", str(source.rotation_ccw_deg), *video_in]
    audio_in = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}:sample_rate=48000"]
    args = [*video_in, "-i", "-", *(audio_in if source.audio else []), "-map", "0:v"]
    if source.audio:
        args += ["-map", "1:a"]
    args += ["-map_metadata", "-1", *_video_args(source), str(out)]
    chunks = (to_coded(f, source.rotation_ccw_deg).tobytes() for f in frames(source))
    run_ffmpeg(exe, args, chunks)


def _still(source: Source, out: Path) -> None:
    import cv2

    [frame] = list(frames(source))
    bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    params = {
        "png": [cv2.IMWRITE_PNG_COMPRESSION, 6],
        "jpeg": [cv2.IMWRITE_JPEG_QUALITY, 92],
        "webp": [cv2.IMWRITE_WEBP_QUALITY, 90],
    }[source.codec]
    ok, data = cv2.imencode(out.suffix, bgr, params)
    if not ok:
        raise RuntimeError(f"{out}: OpenCV cannot encode {source.codec}")
    out.write_bytes(data.tobytes())


def recipe(source: Source) -> str:
    """What a fixture's bytes depend on: this script, the face photo, the ffmpeg."""
    import hashlib

    parts = [Path(__file__).read_bytes(), (FACES / source.face).read_bytes()]
    parts.append(ffmpeg_exe().encode())
    return hashlib.sha256(b"\0".join([json.dumps(asdict(source)).encode(), *parts])).hexdigest()


def make_sources(outdir: Path, only: set[str] | None = None) -> dict[str, Any]:
    """Build the fixtures into `outdir` and write its manifest; returns the manifest.
    A file whose recipe and bytes match the manifest already is kept as it is."""
    outdir.mkdir(parents=True, exist_ok=True)
    exe = ffmpeg_exe()
    try:
        old = json.loads((outdir / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError):
        old = {}
    files: dict[str, Any] = {}
    for source in SOURCES:
        if only and source.name not in only:
            continue
        out = outdir / source.name
        made = old.get(source.name, {})
        if (
            made.get("recipe") == recipe(source)
            and out.is_file()
            and made.get("sha256") == sha256_file(out)
        ):
            files[source.name] = made
            continue
        with tempfile.TemporaryDirectory(dir=outdir) as tmp:
            part = Path(tmp) / source.name
            build(source, part, exe)
            part.replace(out)
        entry = asdict(source)
        entry.update(
            display=list(source.display),
            coded=list(source.coded),
            n_frames=source.n_frames,
            sha256=sha256_file(out),
            bytes=out.stat().st_size,
            recipe=recipe(source),
        )
        files[source.name] = entry
    manifest = {"format": 1, "seconds": SECONDS, "files": files}
    (outdir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these files")
    args = parser.parse_args(argv)
    names = {s.name for s in SOURCES}
    unknown = set(args.only or ()) - names
    if unknown:
        parser.error(f"unknown fixture(s): {', '.join(sorted(unknown))}")
    manifest = make_sources(args.outdir, set(args.only) if args.only else None)
    for name, entry in manifest["files"].items():
        print(f"{name}: {entry['bytes']} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
