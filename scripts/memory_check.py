#!/usr/bin/env python3
"""Peak RSS of an audit against clip length: a 30 s 720p clip against a 5-minute one,
each audited in a fresh process at default settings (no cache).

The long clip is footage with many shots and tracks, not one short clip repeated: a
new shot every 2-4.5 s, cycling through the photos of ../shared/media (each time with
another camera move), so it has as many shots and tracks per minute as the short one.
The short clip is the long one's first shots (its last one cut short). Both are built
once into OUT and reused.

Prints one verdict line (flat: the long clip peaks at most FLAT_PCT percent above the
short one) and writes the numbers to OUT/memory.json.

Usage: python scripts/memory_check.py [--minutes 5] [--short-seconds 30] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.media_clips import MEDIA, build_clip  # noqa: E402

SIZE, FPS = (1280, 720), 25
FLAT_PCT = 5.0  # what may still grow is per track: ~150 KB each (one face crop kept)
PHOTOS = [
    "group/obama_biden_1.jpg",
    "faces/alex_lacamoire/alex2.jpg",
    "faces/obama/obama2.jpg",
    "faces/biden/biden1.jpg",
    "group/obama_biden_2.jpg",
    "faces/lin_manuel_miranda/lmm1.png",
    "faces/obama/obama3.jpg",
    "faces/alex_lacamoire/alex1.png",
    "faces/biden/biden2.jpg",
    "faces/obama/obama1.jpg",
    "faces/alex_lacamoire/alex3.jpg",
    "faces/obama/obama4.jpg",
    "faces/obama/obama_small.jpg",
    "faces/obama/obama_partial_face.jpg",
]


def shot_list(seconds: float) -> list[tuple[Path, float]]:
    """(photo, seconds) shots filling `seconds`; a shorter length gives a prefix of a
    longer one's list, its last shot cut short (so its clip is the longer one's start)."""
    rng = np.random.default_rng(0)
    shots: list[tuple[Path, float]] = []
    total, k = 0.0, 0
    while total < seconds - 1e-6:
        if k % len(PHOTOS) == 0:
            order = rng.permutation(len(PHOTOS))
        length = min(float(rng.uniform(2.0, 4.5)), seconds - total)
        shots.append((MEDIA / PHOTOS[int(order[k % len(PHOTOS)])], round(length, 2)))
        total += length
        k += 1
    return shots


def measure(clip: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Audit `clip` in a fresh interpreter; its numbers with peak RSS (ru_maxrss)."""
    code = (
        "import json, resource, time; from pathlib import Path; "
        "from drift_audit.config import AuditConfig; from drift_audit.pipeline import audit; "
        f"t = time.perf_counter(); r = audit([Path({str(clip)!r})], AuditConfig(use_cache=False)); "
        "c = r.clips[0]; "
        "print('RESULT' + json.dumps({'wall_s': time.perf_counter() - t, "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
        "'frames': c.frames_read, 'tracks': len(c.tracks), 'shots': len(c.shots), "
        "'characters': len(r.characters), 'status': c.status}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        env=env,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT"):
            result: dict[str, Any] = json.loads(line[6:])
            if result["status"] != "ok":
                raise RuntimeError(f"{clip}: the audit failed")
            return result
    raise RuntimeError(out.stderr[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="the long clip (default 5)")
    parser.add_argument("--short-seconds", type=float, default=30.0, help="the short clip")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".bench")
    args = parser.parse_args()
    if not MEDIA.is_dir():
        sys.exit(f"memory_check: {MEDIA} not found (the clips are built from it)")
    long_s = args.minutes * 60
    if long_s <= args.short_seconds:
        sys.exit("memory_check: --minutes must be longer than --short-seconds")
    clips = {
        "short": build_clip(
            args.out / f"mem_{args.short_seconds:g}s_720p.mp4",
            shot_list(args.short_seconds),
            SIZE,
            FPS,
        ),
        "long": build_clip(
            args.out / f"mem_{args.minutes:g}min_720p.mp4", shot_list(long_s), SIZE, FPS
        ),
    }
    results: dict[str, Any] = {
        name: {"clip": clip.name, **measure(clip)} for name, clip in clips.items()
    }
    short, long = results["short"], results["long"]
    growth = long["peak_rss_mb"] - short["peak_rss_mb"]
    results["growth_mb"] = growth
    results["growth_pct"] = 100 * growth / short["peak_rss_mb"]
    results["flat"] = results["growth_pct"] <= FLAT_PCT
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.json").write_text(json.dumps(results, indent=2) + "\n")
    verdict = "flat" if results["growth_pct"] <= FLAT_PCT else f"GROWS (over {FLAT_PCT:g}%)"
    print(
        f"memory {verdict}: peak RSS {short['peak_rss_mb']:.0f} MB at {args.short_seconds:g} s "
        f"({short['frames']} frames, {short['tracks']} tracks), "
        f"{long['peak_rss_mb']:.0f} MB at {args.minutes:g} min "
        f"({long['frames']} frames, {long['shots']} shots, {long['tracks']} tracks, "
        f"audit {long['wall_s']:.0f} s): growth {growth:+.0f} MB ({results['growth_pct']:+.1f}%)"
    )


if __name__ == "__main__":
    main()
