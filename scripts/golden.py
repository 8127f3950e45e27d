#!/usr/bin/env python3
"""Golden JSON reports: save the reports of fixed cases, or check that the code still
writes them byte for byte.

A refactor must not change what drift-audit reports. Before moving code, save the
reports (`--save`); after, `--check` runs the same cases fresh (a temporary cache
folder, never the user's) and compares the bytes.

On another kind of CPU the bytes can differ in the last digits of the numbers: the
networks' float arithmetic is not the same on every instruction set (measured: a
2.6 GHz Xeon with AVX-512 moved a face box by 0.1 px, similarities by up to 0.004, a
clothing colour by 0.02 CIELAB units against the reports saved on the machines
before it). A report that is not the same bytes still passes when everything but its
floats is the same (keys, order, strings, whole numbers, the exit code) and every
float is within FLOAT_TOLERANCE of the saved one, the decimals printed in messages
included (a similarity of 0.2049 or 0.2051 is "0.20" or "0.21" in a finding's message,
measured on an AMD EPYC against the Xeon's reports); `--check` says which cases passed
so ("close").

Cases: the synthetic fixtures (`make fixtures`), one run per group the tests use and
one over every readable fixture, and, when ../shared/media is there, the clips
`scripts/media_clips.py` builds from its photos plus the real Hamilton clip.

Usage:
    python scripts/golden.py --save DIR     # write DIR/<case>.json
    python scripts/golden.py --check DIR    # exit 1 and name the cases that differ
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

MEDIA = REPO_ROOT.parent / "shared" / "media"
FIXTURES = REPO_ROOT / "fixtures" / "generated"

FLOAT_TOLERANCE = (0.05, 0.01)
"""(absolute, relative): a float passes within either of the saved one."""


def cases(media_dir: Path) -> dict[str, list[str]]:
    """case name -> drift-audit arguments (paths relative to the repository root)."""
    fx = "fixtures/generated/"
    out = {
        "fixtures_shots": [
            fx + n for n in ("shots_cuts.mp4", "shots_flash.mp4", "shots_dissolve.mp4")
        ]
        + [fx + "no_faces.mp4"],
        "fixtures_all": [fx],
    }
    for name in sorted(p.name for p in FIXTURES.iterdir() if p.suffix != ".json"):
        out["fixture_" + name.replace(".", "_")] = [fx + name]
    if MEDIA.is_dir():
        rel = os.path.relpath(media_dir, REPO_ROOT)
        for name in ("consistent", "swap"):
            out[f"media_{name}"] = [f"{rel}/{name}/"]
        out["media_swap_cast"] = [
            f"{rel}/swap/",
            "--cast",
            f"obama={os.path.relpath(MEDIA, REPO_ROOT)}/faces/obama/obama1.jpg",
        ]
        hamilton = os.path.relpath(MEDIA / "clips" / "hamilton_short.mp4", REPO_ROOT)
        out["media_hamilton"] = [hamilton]
        out["media_hamilton_cast"] = [
            hamilton,
            "--cast",
            f"miranda={os.path.relpath(MEDIA, REPO_ROOT)}/faces/lin_manuel_miranda/lmm1.png",
        ]
    return out


def close(want: str, text: str) -> bool:
    """Whether two JSON reports differ only in floats, each within FLOAT_TOLERANCE."""
    try:
        return _close(json.loads(want), json.loads(text))
    except ValueError:
        return False


DECIMAL = re.compile(r"(-?\d+\.\d+)")
"""A decimal number printed in a string; whole numbers (clip and frame numbers) are text."""


def _close(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        absolute, relative = FLOAT_TOLERANCE
        return abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))
    if isinstance(a, str) and isinstance(b, str) and a != b:
        # split() with a group alternates text and numbers: text even, numbers odd
        x, y = DECIMAL.split(a), DECIMAL.split(b)
        return len(x) == len(y) and all(
            p == q if i % 2 == 0 else _close(float(p), float(q))
            for i, (p, q) in enumerate(zip(x, y, strict=True))
        )
    return type(a) is type(b) and a == b


def run_case(args: list[str], out: Path, cache: Path) -> int:
    from drift_audit.cli import main

    code = 0
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main([*args, "--json", str(out), "-q", "--cache-dir", str(cache)])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path)
    mode.add_argument("--check", type=Path)
    args = parser.parse_args()
    os.chdir(REPO_ROOT)
    with tempfile.TemporaryDirectory(prefix="drift-audit-golden-") as tmp:
        media_dir = Path(tmp) / "media"
        if MEDIA.is_dir():
            from scripts.media_clips import build_set

            for name in ("consistent", "swap"):
                build_set(name, media_dir)
        differ = []
        for name, case in cases(media_dir).items():
            target = (args.save or Path(tmp)) / f"{name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            code = run_case(case, target, Path(tmp) / f"cache-{name}")
            text = target.read_text() if target.exists() else ""
            text = text.replace(os.path.relpath(media_dir, REPO_ROOT), "MEDIA")
            if args.save:
                target.write_text(text)
                (args.save / f"{name}.code").write_text(f"{code}\n")
                print(f"saved {name} (exit {code})")
            else:
                want = (args.check / f"{name}.json").read_text()
                want_code = int((args.check / f"{name}.code").read_text())
                if want_code != code or not (want == text or close(want, text)):
                    verdict = "DIFFERS"
                    differ.append(name)
                else:
                    verdict = "same   " if want == text else "close  "
                print(f"{verdict} {name} (exit {code})")
    if differ:
        print(f"{len(differ)} case(s) differ: {', '.join(differ)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
