#!/usr/bin/env python3
"""Peak RSS of an audit does not grow with clip length: a 10 s 720p clip against the
same footage repeated to 10 minutes (joined with ffmpeg's concat demuxer, no
re-encode), each audited in a fresh process at default settings.

Usage: python scripts/memory_check.py [--minutes 10] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.make_fixtures import ffmpeg_exe  # noqa: E402
from scripts.media_clips import MEDIA, build_clip  # noqa: E402


def measure(clip: Path) -> dict[str, float]:
    code = (
        "import json, resource, sys, time; from pathlib import Path; "
        "from drift_audit.config import AuditConfig; from drift_audit.pipeline import audit; "
        f"t = time.perf_counter(); r = audit([Path({str(clip)!r})], AuditConfig(use_cache=False)); "
        "print('RESULT' + json.dumps({'wall_s': time.perf_counter() - t, "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
        "'frames': r.clips[0].frames_read, 'tracks': len(r.clips[0].tracks), "
        "'shots': len(r.clips[0].shots), 'status': r.clips[0].status}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])  # type: ignore[no-any-return]
    raise RuntimeError(out.stderr[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".bench")
    args = parser.parse_args()
    faces, group = MEDIA / "faces", MEDIA / "group"
    short = build_clip(
        args.out / "mem_10s_720p.mp4",
        [
            (group / "obama_biden_1.jpg", 4.0),
            (faces / "alex_lacamoire/alex2.jpg", 3.0),
            (faces / "obama/obama2.jpg", 3.0),
        ],
        (1280, 720),
        25,
    )
    repeats = round(args.minutes * 60 / 10)
    long = args.out / f"mem_{args.minutes:g}min_720p.mp4"
    if not long.exists():
        listing = args.out / "concat.txt"
        listing.write_text("".join(f"file '{short.name}'\n" for _ in range(repeats)))
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                str(long),
            ],
            check=True,
        )
    for clip in (short, long):
        tick = time.perf_counter()
        result = measure(clip)
        print(
            f"{clip.name}: {result['frames']} frames, {result['shots']} shots, "
            f"{result['tracks']} tracks, audit {result['wall_s']:.1f} s, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB ({time.perf_counter() - tick:.0f} s)"
        )


if __name__ == "__main__":
    main()
