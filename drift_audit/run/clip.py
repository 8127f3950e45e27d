"""Wires the stages together; the only module that knows their order.

Per clip: decode pass 1 (every frame, thumbnails) -> shots; decode pass 2 (sampled
frames) -> full-frame detection in batches when a shot starts and every redetect_s,
detection around the live tracks between -> track per shot, keeping the best crops
-> embed. In one process, pass 1 of the next clip runs in a thread beside pass 2.
Then, over all clips: cluster tracks into characters -> drift -> findings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from drift_audit.config import AuditConfig
from drift_audit.decode.registry import open_source
from drift_audit.errors import InputError
from drift_audit.progress import ProgressHook, no_progress
from drift_audit.run.deadline import Deadline
from drift_audit.run.faces import detect_and_track, sampler
from drift_audit.run.models import Models
from drift_audit.run.prefetch import read_ahead
from drift_audit.run.scan import scan_shots
from drift_audit.run.sink import EmbedSink
from drift_audit.types import ClipResult


def analyse_clip(
    index: int,
    path: Path,
    config: AuditConfig,
    models: Models,
    hook: ProgressHook = no_progress,
    scanned: Callable[[], ClipResult] | None = None,
) -> ClipResult:
    """Shots, tracks and embeddings of one clip. Raises InputError when it cannot be read.

    Args:
        scanned: returns this clip's pass 1 (`scan_shots`), done ahead of time; None
            runs it here.
    """
    deadline = Deadline(str(path), config.clip_timeout_s)
    result = None
    if scanned is not None:
        try:
            result = scanned()
        except InputError:
            if config.decoder != "auto":
                raise
            # The scan ahead could not read it (never with decord): the usual order
            # (OpenCV, then decord) tries here, with no torch work running beside it.
    if result is None:
        result = scan_shots(index, path, config, models.device, hook, deadline)

    tick = time.perf_counter()
    sink = EmbedSink(models.embedder, config.embed_batch)
    source = open_for_faces(path, config, models.device, result)
    if tensor_frames(source, models.device):
        source.tensors = True  # type: ignore[attr-defined]
    try:
        frames = read_ahead(source.frames(sampler(config, result.shots)), 2 * config.detect_batch)
        detect_and_track(result, frames, config, models, hook, deadline, sink)
    finally:
        source.close()
    sink.flush()
    result.tracks = sink.tracks
    result.timings["embed"] = sink.seconds
    result.timings["decode+detect+track"] = time.perf_counter() - tick - sink.seconds
    return result


def tensor_frames(source: object, device: str) -> bool:
    """Whether the face pass keeps decoded frames on the device: torchcodec on a GPU.
    Detection, tracking and face crops then work there; only the crops and the pixels
    around each face's attribute regions are copied to the host."""
    return device != "cpu" and hasattr(source, "tensors")


def open_for_faces(path: Path, config: AuditConfig, device: str, result: ClipResult):  # type: ignore[no-untyped-def]
    """The source for the face pass. With `--decoder auto`, a clip the shot pass read
    with decord is read here with OpenCV: while a decord VideoReader is alive, torch
    work in the same process grows its memory without bound (measured: +2 GB per 40
    720p frames through MTCNN with a reader open, flat with it closed or with an
    OpenCV reader open). Both read sequentially and give the same true indices."""
    assert result.info is not None
    if config.decoder == "auto" and result.info.backend in ("decord", "opencv"):
        try:
            source = open_source(path, "opencv", device)
        except InputError:
            pass
        else:
            if result.info.backend == "decord":
                result.info = replace(result.info, backend="decord+opencv")
            return source
    return open_source(path, config.decoder, device)
