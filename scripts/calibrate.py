#!/usr/bin/env python3
"""Measure an embedder's same-person and different-person similarities on the real
photos in ../shared/media, through drift-audit's own detect -> crop -> embed path,
and print the threshold they support with its false-match / false-non-match rates.

Usage:
    python scripts/calibrate.py [--embedder dlib|facenet] [--weights PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from drift_audit.config import AuditConfig  # noqa: E402
from drift_audit.errors import DriftAuditError  # noqa: E402
from drift_audit.identity.embedders.registry import EMBEDDERS  # noqa: E402
from drift_audit.run.cast import embed_image  # noqa: E402
from drift_audit.run.clip import analyse_clip  # noqa: E402
from drift_audit.run.models import Models  # noqa: E402

MEDIA = REPO_ROOT.parent / "shared" / "media"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="dlib", choices=list(EMBEDDERS))
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not MEDIA.is_dir():
        sys.exit(f"{MEDIA} not found")
    config = AuditConfig(embedder=args.embedder, weights=args.weights, min_face_px=20)
    models = Models(config)
    try:
        embedder = models.embedder
    except DriftAuditError as exc:
        sys.exit(f"calibrate: {exc}")
    photos: list[tuple[str, str, np.ndarray]] = []
    for path in sorted((MEDIA / "faces").glob("*/*")):
        try:
            photos.append((path.parent.name, path.name, embed_image(path, models)[0]))
        except DriftAuditError as exc:
            print(f"skipped {exc}")
    same, diff = [], []
    for (pa, na, ea), (pb, nb, eb) in itertools.combinations(photos, 2):
        sim = float(embedder.similarity(ea[None], eb[None])[0, 0])
        (same if pa == pb else diff).append((sim, f"{pa}/{na}", f"{pb}/{nb}"))
    s = np.array([x[0] for x in same])
    d = np.array([x[0] for x in diff])
    threshold = embedder.threshold
    print(
        f"embedder {embedder.name}  sha256 {embedder.weights_sha256[:16]}…  "
        f"photos {len(photos)}  pairs same {len(s)} / different {len(d)}"
    )
    print(
        f"same-person similarity      min {s.min():.3f}  median {np.median(s):.3f}  "
        f"max {s.max():.3f}"
    )
    print(
        f"different-person similarity min {d.min():.3f}  median {np.median(d):.3f}  "
        f"max {d.max():.3f}"
    )
    print(
        f"gap: lowest same {s.min():.3f} vs highest different {d.max():.3f} "
        f"(midpoint {(s.min() + d.max()) / 2:.3f})"
    )
    print("worst same pair:      {:.3f} {} ~ {}".format(*min(same)))
    print("worst different pair: {:.3f} {} ~ {}".format(*max(diff)))
    print(
        f"threshold in use {threshold:.2f}: false non-match rate {np.mean(s < threshold):.3f} "
        f"({int(np.sum(s < threshold))}/{len(s)}), false match rate {np.mean(d >= threshold):.3f} "
        f"({int(np.sum(d >= threshold))}/{len(d)})"
    )
    rows = {
        "embedder": embedder.name,
        "threshold": threshold,
        "same": sorted(s.round(4).tolist()),
        "different": sorted(d.round(4).tolist()),
    }

    clip = MEDIA / "clips" / "hamilton_short.mp4"
    refs = {"miranda": "faces/lin_manuel_miranda/lmm1.png", "obama": "faces/obama/obama1.jpg"}
    ref_vecs = {k: embed_image(MEDIA / v, models)[0] for k, v in refs.items()}
    result = analyse_clip(1, clip, config, models)
    print(f"{clip.name}: shots {[(sh.start_frame, sh.end_frame) for sh in result.shots]}")
    for track in result.tracks:
        vec = embedder.centroid(track.embeddings)[None]
        sims = {
            k: round(float(embedder.similarity(vec, v[None])[0, 0]), 3) for k, v in ref_vecs.items()
        }
        box = track.faces.xyxy[0].round().astype(int).tolist()
        print(
            f"  shot {track.shot} frames {track.first_frame}-{track.last_frame} box {box} "
            f"best quality {track.crop_quality.max():.2f}  similarity {sims}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
