#!/usr/bin/env python3
"""Clustering tracks into characters at scale, on synthetic tracks (issue 11, item 5).

N tracks of max(5, N / 200) characters, in clips of about 20 tracks, each clip a run
of shots in which one to three of its cast are seen at once (so their tracks share
frames: cannot-link). Each track's vector is its character's centre plus noise, scaled
so that similarities (dlib's 1 - Euclidean distance) look like the README's calibration
on real photos: same person median ~0.63, different people median ~0.19 with a tail
past the 0.40 threshold (look-alikes); about 15% of the tracks are weak (poor faces:
noisier, drawn towards the average face). The clustering is the pipeline's: dlib's
threshold and similarity, 2 x its uncertain margin for weak tracks.

Each size runs in a fresh process, so its peak RSS (ru_maxrss, the generation
included) is its own, and prints:
    identity N tracks: X s, peak RSS Y MB
X times the cannot-link pairs (from the tracks' frames) and `cluster_vectors`, the
similarities included. Each line is followed by the BCubed F1 against the synthetic
truth, the load average (the machine may be shared) and, up to --check tracks, the
plain loop's time and whether its labels and cannot-links are the same (the test
suite's reference: the code before issue 11, O(n^3)). main(sizes) does the same for
scripts/bench.py.

Usage: python scripts/identity_scale.py [SIZES] [--check N]
    SIZES: comma-separated, default 1000,10000,100000
    --check N: up to N tracks (default 1000), also run the plain loop and compare
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from drift_audit.identity.cluster import cannot_link_pairs, cluster_vectors  # noqa: E402
from drift_audit.identity.embedders.dlib import DlibEmbedder  # noqa: E402
from drift_audit.types import FaceCrops, Faces, Track  # noqa: E402

DIM = 128
TRACKS_PER_CLIP = 20
WEAK_SHARE = 0.15
STRIDE = 3  # frames between sampled frames


def dlib_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The dlib embedder's own similarity (it uses no state)."""
    return DlibEmbedder.similarity(None, a, b)  # type: ignore[arg-type]


def synthetic(n: int, seed: int = 0) -> tuple[list[Track], np.ndarray, np.ndarray, np.ndarray]:
    """n tracks in clip order: (tracks, (n, 128) float32 vectors, (n,) truth, (n,) weak)."""
    rng = np.random.default_rng(seed)
    k = max(5, n // 200)
    # Centres: anisotropic (face space is not a sphere), so distances between people
    # spread like real ones; popularity falls off, so a few characters carry a season.
    scale = 1.0 / np.sqrt(1.0 + np.arange(DIM) / 12.0)
    centres = rng.normal(size=(k, DIM)) * scale
    centres *= 0.52 / np.sqrt((scale**2).sum())  # |c1 - c2| ~ 0.76 at the median
    popularity = 1.0 / (1.0 + np.arange(k)) ** 0.5
    popularity /= popularity.sum()
    mean_face = centres.mean(axis=0)
    crops = FaceCrops.empty()
    tracks: list[Track] = []
    truth: list[int] = []
    clip = 0
    while len(tracks) < n:
        cast = rng.choice(k, size=min(k, int(rng.integers(2, 6))), replace=False, p=popularity)
        frame, shot, made = 0, 0, 0
        while made < TRACKS_PER_CLIP and len(tracks) < n:
            length = int(rng.integers(8, 40)) * STRIDE
            seen = rng.choice(cast, size=min(len(cast), int(rng.integers(1, 4))), replace=False)
            for who in seen.tolist():
                lo = frame + STRIDE * int(rng.integers(0, 4))
                hi = frame + length - STRIDE * int(rng.integers(0, 4))
                frames = np.arange(lo, hi + 1, STRIDE, dtype=np.int64)
                if len(frames) > 6 and rng.random() < 0.2:  # a short gap (the tracker's MAX_GAP)
                    cut = int(rng.integers(2, len(frames) - 3))
                    frames = np.delete(frames, [cut, cut + 1])
                m = len(frames)
                faces = Faces(
                    frames,
                    np.tile(np.array([0, 0, 80, 80], np.float32), (m, 1)),
                    np.ones(m, np.float32),
                    np.zeros((m, 5, 2), np.float32),
                )
                weak = rng.random() < WEAK_SHARE
                quality = rng.uniform(0.05, 0.3) if weak else rng.uniform(0.3, 1.0)
                tracks.append(Track(clip, shot, faces, crops, np.array([quality], np.float32)))
                truth.append(who)
                made += 1
                if len(tracks) == n:
                    break
            frame += length
            shot += 1
        clip += 1
    truth_arr = np.array(truth, np.int64)
    weak_arr = np.array([float(t.crop_quality[0]) < 0.3 for t in tracks])
    noise = rng.uniform(0.15, 0.35, n)  # per track: its faces' spread, averaged
    noise[weak_arr] = rng.uniform(0.25, 0.4, int(weak_arr.sum()))
    base = centres[truth_arr]
    base[weak_arr] = 0.6 * base[weak_arr] + 0.4 * mean_face  # poor faces look average
    vectors = base + rng.normal(size=(n, DIM)) * (noise / np.sqrt(DIM))[:, None]
    return tracks, vectors.astype(np.float32), truth_arr, weak_arr


def bcubed_f1(labels: np.ndarray, truth: np.ndarray) -> float:
    """BCubed F1 of a clustering against the true classes."""
    cells, cell_counts = np.unique(np.stack([labels, truth]), axis=1, return_counts=True)
    in_label = np.bincount(labels)[cells[0]]
    in_truth = np.bincount(truth)[cells[1]]
    precision = float((cell_counts**2 / in_label).sum()) / len(labels)
    recall = float((cell_counts**2 / in_truth).sum()) / len(labels)
    return 2 * precision * recall / (precision + recall)


def run_one(n: int, check: int) -> dict[str, Any]:
    """Generate, cluster and measure one size (in this process)."""
    tracks, vectors, truth, weak = synthetic(n)
    threshold, margin = DlibEmbedder.threshold, 2 * DlibEmbedder.uncertain_margin
    start = time.perf_counter()
    pairs = cannot_link_pairs(tracks)
    labels = cluster_vectors(vectors, dlib_similarity, pairs, threshold, weak, margin)
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {
        "n": n,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "characters": int(labels.max()) + 1,
        "true_characters": len(np.unique(truth)),
        "bcubed_f1": bcubed_f1(labels, truth),
        "cannot_link_pairs": len(pairs),
        "load": os.getloadavg()[0],
    }
    if n <= check:
        from tests.test_cluster import reference_cannot_link, reference_cluster

        tick = time.perf_counter()
        blocked = reference_cannot_link(tracks)
        out["old_cannot_link_seconds"] = time.perf_counter() - tick
        similarity = dlib_similarity(vectors, vectors)
        tick = time.perf_counter()
        want = reference_cluster(similarity, blocked, threshold, weak, margin)
        out["old_cluster_seconds"] = time.perf_counter() - tick
        out["same_cannot_link"] = bool(np.array_equal(np.argwhere(np.triu(blocked)), pairs))
        out["same_labels"] = bool(np.array_equal(want, labels))
    return out


def main(sizes: list[int], check: int = 1000) -> list[dict[str, Any]]:
    """Run each size in a fresh process, print its lines, return the measurements.

    Args:
        sizes: numbers of tracks.
        check: up to this size, also run the plain loop and compare.
    """
    results = []
    for n in sizes:
        command = [sys.executable, __file__, "--one", str(n), "--check", str(check)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"identity {n} tracks: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
        detail = (
            f"  {r['characters']} characters for {r['true_characters']} people, "
            f"BCubed F1 {r['bcubed_f1']:.3f}, {r['cannot_link_pairs']} cannot-link pairs, "
            f"load average {r['load']:.1f}"
        )
        if "same_labels" in r:
            detail += (
                f"; plain loop {r['old_cluster_seconds']:.1f} s "
                f"(+ {r['old_cannot_link_seconds']:.1f} s cannot-links), "
                f"same labels: {r['same_labels']}, same cannot-links: {r['same_cannot_link']}"
            )
        print(detail, flush=True)
        results.append(r)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="?", default="1000,10000,100000")
    parser.add_argument("--check", type=int, default=1000, metavar="N")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.check)))
    else:
        main([int(s) for s in args.sizes.split(",")], args.check)
