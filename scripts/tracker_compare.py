"""drift-audit's tracker beside ByteTrack (roboflow supervision's), on the labelled
walking stories of `make eval`.

ByteTrack associates boxes by IoU with Kalman-predicted tracks and needs a detection
on every frame it tracks. drift-audit detects the whole frame once a second and
searches only around its tracks' predicted boxes in between (faces/track.py,
run/faces.py). This script runs both on the same sampled frames of the same clips and
scores them against the stories' truth boxes: tracks per person (fragments), identity
switches inside a track, and the seconds spent detecting.

    python scripts/eval.py --only walk_across crossing walk_toward_camera   # builds
    PYTHONPATH=/path/to/supervision-0.26 python scripts/tracker_compare.py

supervision 0.26 is the last release with `sv.ByteTrack` (0.27 moved it out); it is
not a dependency of drift-audit, so give it on PYTHONPATH or install it beside.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

STORIES = ("walk_across", "crossing", "walk_toward_camera")
SAMPLE_EVERY = 5  # 25 fps clips sampled at drift-audit's default 5 per second


def truth_boxes(truth: dict[str, Any], clip: int) -> dict[int, list[tuple[str, np.ndarray]]]:
    """frame -> [(identity, xyxy)] of every labelled face of one clip."""
    out: dict[int, list[tuple[str, np.ndarray]]] = {}
    for app in truth["appearances"]:
        if app["clip"] == clip and "frames" in app:
            for row in app["frames"]:
                out.setdefault(int(row[0]), []).append((app["identity"], np.array(row[1:])))
    return out


def who(frame: int, box: np.ndarray, boxes: dict[int, list[tuple[str, np.ndarray]]]) -> str | None:
    """The labelled identity whose box overlaps `box` best (IoU >= 0.3), if any."""
    from drift_audit.faces.track import iou

    best, name = 0.3, None
    for identity, truth in boxes.get(frame, []):
        value = float(iou(box[None], truth[None])[0, 0])
        if value >= best:
            best, name = value, identity
    return name


def score(tracks: list[list[tuple[int, np.ndarray]]], boxes: dict[int, Any]) -> dict[str, int]:
    """Tracks (each a list of (frame, box)) against the truth: fragments and switches."""
    per_identity: Counter[str] = Counter()
    switches = 0
    for track in tracks:
        names = [n for n in (who(f, b, boxes) for f, b in track) if n is not None]
        if len(track) < 2 or not names:
            continue
        per_identity[Counter(names).most_common(1)[0][0]] += 1
        switches += sum(1 for a, b in itertools.pairwise(names) if a != b)
    people = len({name for rows in boxes.values() for name, _ in rows})
    return {"people": people, "tracks": sum(per_identity.values()), "switches": switches}


def sampled_frames(path: Path) -> list[tuple[int, np.ndarray]]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if index % SAMPLE_EVERY == 0:
            frames.append((index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        index += 1
    return frames


def bytetrack(path: Path) -> tuple[list[list[tuple[int, np.ndarray]]], float]:
    """ByteTrack over a full MTCNN detection of every sampled frame."""
    import supervision as sv

    from drift_audit.faces.detect import MTCNNDetector

    detector = MTCNNDetector()
    tracker = sv.ByteTrack(frame_rate=25 // SAMPLE_EVERY, lost_track_buffer=30)
    tracks: dict[int, list[tuple[int, np.ndarray]]] = {}
    seconds = 0.0
    for index, rgb in sampled_frames(path):
        start = time.perf_counter()
        faces = detector.detect(rgb[None], np.array([index]))
        seconds += time.perf_counter() - start
        found = sv.Detections(
            xyxy=faces.xyxy.astype(np.float32),
            confidence=faces.score.astype(np.float32),
            class_id=np.zeros(len(faces), int),
        )
        found = tracker.update_with_detections(found)
        for box, tid in zip(found.xyxy, found.tracker_id, strict=True):
            tracks.setdefault(int(tid), []).append((index, box))
    return list(tracks.values()), seconds


def ours(path: Path) -> tuple[list[list[tuple[int, np.ndarray]]], float]:
    """drift-audit's face pass (full detection each second, predicted search between)."""
    from drift_audit.config import AuditConfig
    from drift_audit.run.clip import analyse_clip
    from drift_audit.run.models import Models

    config = AuditConfig(use_cache=False, embedder="dlib")
    models = Models(config)
    result = analyse_clip(1, path, config, models)
    tracks = [list(zip(t.faces.frame.tolist(), t.faces.xyxy, strict=True)) for t in result.tracks]
    seconds = sum(v for k, v in result.timings.items() if k.startswith("detect"))
    return tracks, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=Path, default=REPO_ROOT / ".eval" / "stories")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = []
    for story in STORIES:
        truth = json.loads((args.stories / story / "truth.json").read_text())
        for clip, name in enumerate(truth["clips"], start=1):
            boxes = truth_boxes(truth, clip)
            for method, run in (("drift-audit", ours), ("bytetrack", bytetrack)):
                tracks, seconds = run(args.stories / story / name)
                row = {"story": story, "clip": clip, "method": method} | score(tracks, boxes)
                rows.append(row | {"detect_s": round(seconds, 2)})
                print(json.dumps(rows[-1]), flush=True)
    for method in ("drift-audit", "bytetrack"):
        mine = [r for r in rows if r["method"] == method]
        people = sum(r["people"] for r in mine)
        print(
            f"{method}: {sum(r['tracks'] for r in mine)} tracks for {people} people, "
            f"{sum(r['switches'] for r in mine)} identity switches, "
            f"detection {sum(r['detect_s'] for r in mine):.1f} s"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
