#!/usr/bin/env python3
"""Check drift_audit.identity.embedders.dlib_net against dlib itself, on real photos, and time both.

For each photo in ../shared/media/faces/*/* the largest face found by dlib's frontal
face detector is landmarked with the 5-point shape predictor; its descriptor is then
computed (a) by dlib, `compute_face_descriptor(img, shape)`, and (b) by the torch port
on the chip from `dlib.get_face_chip(img, shape, 150, 0.25)`. Prints the element-wise
and Euclidean differences, then time per face, all on one thread, measured in
alternating rounds so that load from other processes hits every method alike:
  dlib  (img, shape)    per face, chip extraction included (what DlibEmbedder pays)
  dlib  32 chips        network only, one call on a list of 32 chips
  torch 32 chips        network only, float32, default and channels_last layouts
  chip extraction       dlib.get_face_chip per face (the part torch still needs dlib for)

Usage: python scripts/check_dlib_torch.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import dlib  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from drift_audit.identity.embedders.dlib import dlib_model_files  # noqa: E402
from drift_audit.identity.embedders.dlib_net import chips_to_tensor, load_dlib_resnet  # noqa: E402

FACES = REPO_ROOT.parent / "shared" / "media" / "faces"
BATCH = 32


def load_faces() -> tuple[list[str], list[np.ndarray], list[dlib.full_object_detection]]:
    """(names, RGB images, 5-point shapes) for every photo with a detected face."""
    predictor_path, _ = dlib_model_files()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(predictor_path))
    names, images, shapes = [], [], []
    photos = sorted(p for p in FACES.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    for path in photos:
        img = dlib.load_rgb_image(str(path))
        dets = detector(img, 1)
        if not dets:
            print(f"  no face found: {path.relative_to(FACES)}")
            continue
        box = max(dets, key=lambda r: r.area())
        names.append(str(path.relative_to(FACES)))
        images.append(img)
        shapes.append(predictor(img, box))
    return names, images, shapes


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median is shown)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    _, resnet_path = dlib_model_files()
    facerec = dlib.face_recognition_model_v1(str(resnet_path))
    model = load_dlib_resnet(resnet_path)
    model_cl = load_dlib_resnet(resnet_path).to(memory_format=torch.channels_last)

    names, images, shapes = load_faces()
    n = len(names)
    print(f"{n} photos with a face, {len({s.split('/')[0] for s in names})} people")

    ref = np.array(
        [facerec.compute_face_descriptor(im, sh) for im, sh in zip(images, shapes, strict=True)]
    )
    chips = [dlib.get_face_chip(im, sh, 150, 0.25) for im, sh in zip(images, shapes, strict=True)]
    x = chips_to_tensor(chips)
    with torch.inference_mode():
        outs = {
            "default": model(x).numpy().astype(np.float64),
            "channels_last": model_cl(x.contiguous(memory_format=torch.channels_last))
            .numpy()
            .astype(np.float64),
        }

    print("\ndlib compute_face_descriptor(img, shape) vs torch on dlib.get_face_chip:")
    for fmt, out in outs.items():
        diff = np.abs(out - ref)
        dist = np.linalg.norm(out - ref, axis=1)
        print(
            f"  {fmt:<14} |diff| max {diff.max():.3g}  mean {diff.mean():.3g}   "
            f"Euclidean max {dist.max():.3g}  mean {dist.mean():.3g}"
        )
    pair = np.linalg.norm(ref[:, None] - ref[None], axis=2)
    same = np.array([[a.split("/")[0] == b.split("/")[0] for b in names] for a in names])
    off = ~np.eye(n, dtype=bool)
    print(
        f"  for scale, dlib's own distances: same person {pair[same & off].min():.3f}-"
        f"{pair[same & off].max():.3f}, different people >= {pair[~same].min():.3f}"
    )

    batch_chips = [chips[i % n] for i in range(BATCH)]
    xb = chips_to_tensor(batch_chips)
    xb_cl = xb.contiguous(memory_format=torch.channels_last)

    def torch_default() -> None:
        with torch.inference_mode():
            model(chips_to_tensor(batch_chips))

    def torch_cl() -> None:
        with torch.inference_mode():
            model_cl(chips_to_tensor(batch_chips).contiguous(memory_format=torch.channels_last))

    runs: dict[str, tuple[Callable[[], object], int]] = {
        "dlib  (img, shape), per face": (
            lambda: [
                facerec.compute_face_descriptor(im, sh)
                for im, sh in zip(images, shapes, strict=True)
            ],
            n,
        ),
        "dlib  batch of 32 chips": (lambda: facerec.compute_face_descriptor(batch_chips), BATCH),
        "torch batch of 32, default": (torch_default, BATCH),
        "torch batch of 32, channels_last": (torch_cl, BATCH),
        "chip extraction (get_face_chip)": (
            lambda: [
                dlib.get_face_chip(im, sh, 150, 0.25) for im, sh in zip(images, shapes, strict=True)
            ],
            n,
        ),
    }
    for fn, _ in runs.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.rounds):
        for name, (fn, count) in runs.items():
            times[name].append(seconds(fn) / count)

    print(f"\ntime per face, 1 thread, median of {args.rounds} rounds (min-max):")
    for name, ts in times.items():
        print(
            f"  {name:<34} {1e3 * statistics.median(ts):7.2f} ms"
            f"  ({1e3 * min(ts):.2f}-{1e3 * max(ts):.2f})"
        )
    dlib_ms = statistics.median(times["dlib  batch of 32 chips"])
    for name in ("torch batch of 32, default", "torch batch of 32, channels_last"):
        speedup = dlib_ms / statistics.median(times[name])
        print(f"  speed-up of {name} over dlib's network: x{speedup:.1f}")

    # Sanity: the timed batch gives the same answers as the per-photo reference.
    with torch.inference_mode():
        dist = np.linalg.norm(model(xb).numpy()[:n] - ref, axis=1).max()
        dist_cl = np.linalg.norm(model_cl(xb_cl).numpy()[:n] - ref, axis=1).max()
    print(
        f"\nbatch-of-32 outputs vs dlib: Euclidean max {dist:.3g} (default), "
        f"{dist_cl:.3g} (channels_last)"
    )


if __name__ == "__main__":
    main()
