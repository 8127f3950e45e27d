#!/usr/bin/env python3
"""`make bench`: drift-audit at default settings against the naive loop, side by side.

Builds a fixed benchmark set from ../shared/media (the real clip, plus 720p and
1080p clips filmed from the photos with camera motion and cuts; >= 60 s of video),
then times, each in its own fresh process so peak RSS is its own:
  (a) drift-audit at default settings (no cache);
  (b) the naive loop, with the stock libraries: every frame decoded with OpenCV,
      facenet-pytorch's MTCNN (its defaults) called once per frame on the full frame,
      every face embedded by dlib's own descriptor, the same clustering;
  (c) the incremental cache: a cold run, a warm re-run, and a re-run after one clip
      was replaced.
The throughput figures (short clips, 1080p crowds, lanes, the local executor against
Ray) are `scripts/bench_throughput.py`'s, which `make bench` runs next.
It prints realtime factors, per-stage wall time, faces embedded, peak RSS and the
speed-up of (a) over (b), and checks that (a) and (b) find the same characters. The
goal's figures (720p H.264) come from (a) run again on the 720p clips alone, against
(b)'s time on those clips (its per-clip times plus its model loading).

With --device cuda it measures only the GPU figures instead, on the 1080p clips:
drift-audit with torchcodec (NVDEC) and the models on the GPU against a pure-decode
loop of the same decoder (the decode ceiling), faces embedded per second, GPU memory
peak. --device cpu runs that code on the CPU (torchcodec's FFmpeg decoding).

Usage: python scripts/bench.py [--out DIR] [--json PATH] [--skip-naive] [--device D]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.media_clips import MEDIA, build_clip  # noqa: E402

F, G = MEDIA / "faces", MEDIA / "group"
BENCH_SET: list[tuple[str, tuple[int, int], list[tuple[Path, float]]]] = [
    (
        "a_720p.mp4",
        (1280, 720),
        [
            (G / "obama_biden_1.jpg", 3.0),
            (F / "alex_lacamoire/alex2.jpg", 2.5),
            (F / "obama/obama2.jpg", 2.5),
            (G / "obama_biden_2.jpg", 2.0),
        ],
    ),
    (
        "b_720p.mp4",
        (1280, 720),
        [
            (F / "biden/biden1.jpg", 3.0),
            (F / "obama/obama3.jpg", 3.0),
            (F / "alex_lacamoire/alex3.jpg", 2.0),
            (F / "obama/obama4.jpg", 2.0),
        ],
    ),
    (
        "c_720p_11s.mp4",
        (1280, 720),
        [
            (G / "obama_biden_2.jpg", 4.0),
            (F / "biden/biden2.jpg", 3.0),
            (F / "obama/obama1.jpg", 4.0),
        ],
    ),
    (
        "d_1080p.mp4",
        (1920, 1080),
        [
            (F / "obama/obama1.jpg", 3.5),
            (G / "obama_biden_1.jpg", 3.5),
            (F / "alex_lacamoire/alex1.png", 3.0),
        ],
    ),
    (
        "e_1080p.mp4",
        (1920, 1080),
        [
            (F / "biden/biden2.jpg", 3.0),
            (F / "obama/obama4.jpg", 3.0),
            (G / "obama_biden_2.jpg", 4.0),
        ],
    ),
]


def build_set(out: Path) -> list[Path]:
    clips = [MEDIA / "clips" / "hamilton_short.mp4"]
    for name, size, shots in BENCH_SET:
        clips.append(build_clip(out / name, shots, size, 25))
    return clips


def video_seconds(clips: list[Path]) -> float:
    import cv2

    total = 0.0
    for clip in clips:
        cap = cv2.VideoCapture(str(clip))
        total += cap.get(cv2.CAP_PROP_FRAME_COUNT) / cap.get(cv2.CAP_PROP_FPS)
        cap.release()
    return total


# ----------------------------------------------------------------------------- runners
def run_drift_audit(clips: list[str], cache_dir: str | None) -> dict[str, Any]:
    """(a): the library at default settings, models loaded outside the timed part
    only for the per-stage split; wall time includes model loading."""
    from drift_audit.config import AuditConfig
    from drift_audit.pipeline import audit
    from drift_audit.report.json import dumps
    from drift_audit.run.models import Models

    start = time.perf_counter()
    config = AuditConfig(
        use_cache=cache_dir is not None, cache_dir=Path(cache_dir) if cache_dir else None
    )
    models = Models(config)
    tick = time.perf_counter()
    models.detector, models.embedder  # noqa: B018
    load = time.perf_counter() - tick
    report = audit([Path(c) for c in clips], config, models=models)
    tick = time.perf_counter()
    dumps(report)
    report_s = time.perf_counter() - tick
    wall = time.perf_counter() - start
    stages = {"load models": load, **report.timings, "report": report_s}
    faces = sum(len(t.embeddings) for c in report.clips for t in c.tracks)
    return {
        "wall_s": wall,
        "stages": stages,
        "faces_embedded": faces,
        "characters": _signature(report),
        "cache_hits": report.timings.get("cache_hits", 0),
    }


def run_naive(clips: list[str]) -> dict[str, Any]:
    """(b): what practitioners write by hand, with the stock libraries: decode every
    frame with OpenCV, call facenet-pytorch's MTCNN (its defaults) once per frame, embed
    every face with dlib's own face descriptor, then the same clustering. Faces below
    drift-audit's floors (confidence 0.92, 32 px) are dropped, so both look for the
    same faces."""
    import cv2
    import dlib
    from facenet_pytorch import MTCNN

    from drift_audit.faces.crop import crop_face_box, crop_faces
    from drift_audit.identity.cluster import cluster
    from drift_audit.identity.embedders.dlib import DlibEmbedder, dlib_model_files
    from drift_audit.types import Faces

    start = time.perf_counter()
    stages = {"load models": 0.0, "decode": 0.0, "detect": 0.0, "embed": 0.0, "cluster": 0.0}
    tick = time.perf_counter()
    mtcnn = MTCNN(keep_all=True)
    predictor_path, resnet_path = dlib_model_files()
    predictor = dlib.shape_predictor(str(predictor_path))
    resnet = dlib.face_recognition_model_v1(str(resnet_path))
    rect = dlib.rectangle(*crop_face_box())  # the crop's face box, as DlibEmbedder
    metric = DlibEmbedder.similarity
    stages["load models"] = time.perf_counter() - tick
    vectors, owners = [], []  # owners: (clip, frame) of each face
    per_clip = []  # wall seconds of each clip's decode, detect and embed
    for k, clip in enumerate(clips):
        clip_start = time.perf_counter()
        cap = cv2.VideoCapture(clip)
        index = 0
        while True:
            tick = time.perf_counter()
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            stages["decode"] += time.perf_counter() - tick
            tick = time.perf_counter()
            boxes, probs, points = mtcnn.detect(rgb, landmarks=True)  # one frame per call
            stages["detect"] += time.perf_counter() - tick
            tick = time.perf_counter()
            if boxes is not None:
                boxes = np.asarray(boxes, np.float32)
                probs = np.asarray(probs, np.float32)
                points = np.asarray(points, np.float32).reshape(-1, 5, 2)
                side = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
                keep = (probs >= 0.92) & (side >= 32)
                faces = Faces(
                    np.full(int(keep.sum()), index), boxes[keep], probs[keep], points[keep]
                )
                for image in crop_faces(rgb, faces).images:
                    image = np.ascontiguousarray(image)
                    shape = predictor(image, rect)
                    vectors.append(np.asarray(resnet.compute_face_descriptor(image, shape)))
                    owners.append((k, index))
            stages["embed"] += time.perf_counter() - tick
            index += 1
        cap.release()
        per_clip.append(time.perf_counter() - clip_start)
    tick = time.perf_counter()
    emb = np.array(vectors, np.float32).reshape(-1, 128)
    same_frame = np.array([[a == b for b in owners] for a in owners], bool)
    np.fill_diagonal(same_frame, False)
    labels = cluster(metric(None, emb, emb), same_frame, DlibEmbedder.threshold)  # type: ignore[arg-type]
    stages["cluster"] = time.perf_counter() - tick
    chars = []
    for label in range(int(labels.max()) + 1 if len(labels) else 0):
        members = emb[labels == label]
        if len(members) >= 3:  # the naive loop's noise floor: a face seen in 3+ frames
            chars.append(members.mean(axis=0).tolist())
    return {
        "wall_s": time.perf_counter() - start,
        "stages": stages,
        "faces_embedded": len(emb),
        "characters": chars,
        "per_clip_s": per_clip,
    }


def _signature(report: Any) -> list[list[float]]:
    """Each character's mean embedding (track ids index the pipeline's sorted tracks)."""
    tracks = report_tracks(report)
    return [
        np.concatenate([tracks[i].embeddings for i in ch.track_ids]).mean(axis=0).tolist()
        for ch in report.characters
    ]


def report_tracks(report: Any) -> list[Any]:
    return sorted(
        (t for c in report.clips for t in c.tracks),
        key=lambda t: (t.clip, t.first_frame, float(t.faces.xyxy[0, 0])),
    )


def in_subprocess(kind: str, clips: list[str], cache_dir: str | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; returns its numbers with peak RSS."""
    code = (
        "import json, resource, sys; sys.path.insert(0, {!r}); from scripts import bench; "
        "r = bench.run_{}({!r}{}); "
        "r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
        "print('RESULT' + json.dumps(r))"
    ).format(str(REPO_ROOT), kind, clips, f", {cache_dir!r}" if kind == "drift_audit" else "")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])  # type: ignore[no-any-return]
    raise RuntimeError(f"{kind} failed:\n{out.stderr[-3000:]}")


def same_characters(
    a: list[list[float]], b: list[list[float]], threshold: float
) -> tuple[bool, str]:
    from drift_audit.identity.embedders.dlib import DlibEmbedder

    if not a or not b:
        return len(a) == len(b), f"{len(a)} vs {len(b)} characters"
    sim = DlibEmbedder.similarity(None, np.array(a, np.float32), np.array(b, np.float32))  # type: ignore[arg-type]
    matched_a = int(np.sum(sim.max(axis=1) >= threshold))
    matched_b = int(np.sum(sim.max(axis=0) >= threshold))
    ok = matched_a == len(a) and matched_b == len(b)
    return ok, (
        f"drift-audit {len(a)} characters, naive {len(b)}; "
        f"{matched_a}/{len(a)} and {matched_b}/{len(b)} have a counterpart"
    )


def run_decode_ceiling(clips: list[str], device: str) -> dict[str, Any]:
    """The decode ceiling: every frame of the clips through torchcodec on `device` and
    nothing else (frames stay where they were decoded)."""
    from torchcodec.decoders import VideoDecoder

    start, frames = time.perf_counter(), 0
    for clip in clips:
        decoder = VideoDecoder(clip, device=device, seek_mode="exact")
        n = int(decoder.metadata.num_frames or 0)
        for first in range(0, n, 32):
            try:
                frames += len(decoder.get_frames_in_range(first, min(n, first + 32)).pts_seconds)
            except RuntimeError:  # the header can promise a frame more than there is
                break
    return {"wall_s": time.perf_counter() - start, "frames": frames}


def run_on_device(clips: list[str], device: str) -> dict[str, Any]:
    """drift-audit with torchcodec decoding on `device` and the models there too."""
    import torch

    from drift_audit.config import AuditConfig
    from drift_audit.pipeline import audit
    from drift_audit.run.models import Models

    start = time.perf_counter()
    config = AuditConfig(use_cache=False, device=device, decoder="torchcodec")
    models = Models(config)
    models.detector, models.embedder  # noqa: B018
    report = audit([Path(c) for c in clips], config, models=models)
    wall = time.perf_counter() - start
    faces = sum(len(t.embeddings) for c in report.clips for t in c.tracks)
    frames = sum(c.frames_read for c in report.clips)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else 0.0
    errors = [c.error for c in report.clips if c.status != "ok"]
    return {
        "wall_s": wall,
        "stages": report.timings,
        "faces_embedded": faces,
        "frames": frames,
        "gpu_peak_mb": peak,
        "errors": errors,
    }


def device_section(args: argparse.Namespace, clips: list[Path]) -> None:
    """The GPU figures of issue 5, on the 1080p clips: realtime factor, faces embedded
    per second, decode fps against the pure-decode ceiling, GPU memory peak."""
    full_hd = [str(c) for c in clips if "_1080p" in c.name]
    seconds = video_seconds([Path(c) for c in full_hd])
    ceiling = in_subprocess_call("run_decode_ceiling", full_hd, args.device)
    ours = in_subprocess_call("run_on_device", full_hd, args.device)
    if ours["errors"]:
        sys.exit(f"bench: clips failed on {args.device}: {ours['errors']}")
    embed_s = ours["stages"].get("embed", 0.0) or float("nan")
    decode_fps = ceiling["frames"] / ceiling["wall_s"]
    our_fps = ours["frames"] / ours["wall_s"]
    print(f"1080p H.264, {len(full_hd)} clips, {seconds:.1f} s of video, on {args.device}:")
    print(
        f"  drift-audit  wall {ours['wall_s']:.1f} s, realtime x{seconds / ours['wall_s']:.1f}"
        f" (goal x100); {ours['faces_embedded']} faces embedded, "
        f"{ours['faces_embedded'] / embed_s:.0f} faces/s in the embed stage; "
        f"GPU memory peak {ours['gpu_peak_mb']:.0f} MB"
    )
    print(
        f"  decode: drift-audit {our_fps:.0f} frames/s against the pure-decode ceiling "
        f"{decode_fps:.0f} frames/s ({100 * our_fps / decode_fps:.0f}%, goal 50%)"
    )
    if args.json:
        args.json.write_text(json.dumps({"ceiling": ceiling, "drift_audit": ours}, indent=2))


def in_subprocess_call(function: str, clips: list[str], device: str) -> dict[str, Any]:
    """run_<x>(clips, device) in a fresh interpreter, so each gets its own GPU memory."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(REPO_ROOT)!r}); from scripts import bench; "
        f"print('RESULT' + json.dumps(bench.{function}({clips!r}, {device!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])  # type: ignore[no-any-return]
    raise RuntimeError(f"{function} failed:\n{out.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description="drift-audit benchmark")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".bench")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--device",
        help="only the GPU figures (cuda), with torchcodec and the models on this device; "
        "cpu runs the same code on the CPU",
    )
    parser.add_argument(
        "--identity-scale",
        metavar="N,N,...",
        help="only clustering at scale: synthetic tracks of these counts "
        "(scripts/identity_scale.py), one fresh process each",
    )
    args = parser.parse_args()
    if args.identity_scale:
        from scripts.identity_scale import main as identity_scale

        identity_scale([int(n) for n in args.identity_scale.split(",")])
        return
    if not MEDIA.is_dir():
        sys.exit(f"bench: {MEDIA} not found (the benchmark set is built from it)")
    clips = build_set(args.out)
    if args.device:
        device_section(args, clips)
        return
    seconds = video_seconds(clips)
    names = [str(c) for c in clips]
    print(
        f"benchmark set: {len(clips)} clips, {seconds:.1f} s of video "
        f"(1x 640x360, 3x 1280x720, 2x 1920x1080), {resource.getpagesize()} B pages"
    )

    results: dict[str, Any] = {"video_s": seconds, "clips": [c.name for c in clips]}
    results["drift_audit"] = a = in_subprocess("drift_audit", names)
    hd = [i for i, c in enumerate(clips) if "_720p" in c.name]  # the goal's 720p H.264 clips
    hd_seconds = video_seconds([clips[i] for i in hd])
    results["drift_audit_720p"] = a720 = in_subprocess("drift_audit", [names[i] for i in hd])
    if not args.skip_naive:
        results["naive"] = b = in_subprocess("naive", names)
        # The naive loop on the 720p clips alone: its model loading plus their clip times.
        b720 = b["stages"]["load models"] + sum(b["per_clip_s"][i] for i in hd)
        results["naive_720p_s"] = b720

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        cold = in_subprocess("drift_audit", names, str(cache))
        warm = in_subprocess("drift_audit", names, str(cache))
        changed = list(names)
        replaced = Path(tmp) / "replaced_720p.mp4"
        build_clip(
            replaced,
            [(F / "biden/biden1.jpg", 4.0), (F / "obama/obama2.jpg", 4.0)],
            (1280, 720),
            25,
        )
        changed[2] = str(replaced)
        one_new = in_subprocess("drift_audit", changed, str(cache))
    results["cache"] = {
        "cold_s": cold["wall_s"],
        "warm_s": warm["wall_s"],
        "one_replaced_s": one_new["wall_s"],
        "warm_hits": warm["cache_hits"],
        "one_replaced_hits": one_new["cache_hits"],
    }

    def row(name: str, r: dict[str, Any]) -> None:
        stages = "  ".join(f"{k} {v:.1f}s" for k, v in r["stages"].items() if k != "cache_hits")
        print(
            f"{name:<12} wall {r['wall_s']:7.1f} s  realtime x{seconds / r['wall_s']:5.2f}  "
            f"faces embedded {r['faces_embedded']:5d}  peak RSS {r['peak_rss_mb']:6.0f} MB"
        )
        print(f"{'':<12} {stages}")

    print()
    row("drift-audit", a)
    if not args.skip_naive:
        row("naive", b)
        print(f"speed-up of drift-audit over naive: x{b['wall_s'] / a['wall_s']:.1f}")
        ok, why = same_characters(a["characters"], b["characters"], 0.40)
        results["same_characters"] = ok
        print(f"same characters: {'yes' if ok else 'NO'} ({why})")
    print(
        f"720p H.264 only ({len(hd)} clips, {hd_seconds:.1f} s of video): drift-audit "
        f"{a720['wall_s']:.1f} s, realtime x{hd_seconds / a720['wall_s']:.2f} (goal x3)"
        + (
            ""
            if args.skip_naive
            else f"; naive {b720:.1f} s, realtime x{hd_seconds / b720:.2f}; "
            f"speed-up x{b720 / a720['wall_s']:.1f} (goal x10)"
        )
    )
    c = results["cache"]
    print(
        f"cache: cold {c['cold_s']:.1f} s, warm {c['warm_s']:.1f} s "
        f"(x{c['cold_s'] / c['warm_s']:.1f}, {int(c['warm_hits'])} hits), one clip replaced "
        f"{c['one_replaced_s']:.1f} s ({int(c['one_replaced_hits'])} hits)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
    shutil.rmtree(args.out / ".tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
