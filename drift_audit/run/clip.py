"""The analysis of one clip: its shot pass, then its face pass, then its embeddings.

Pass 1 reads every frame small and finds the shots (`run.scan`); pass 2 reads the
sampled frames in full, a background thread decoding ahead (`run.prefetch`), and
detects and tracks faces per shot (`run.faces`); finished tracks are embedded in
batches as they arrive (`run.sink`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from drift_audit.config import AuditConfig
from drift_audit.decode.registry import open_source
from drift_audit.errors import InputError
from drift_audit.progress import ProgressHook, Timings, no_progress
from drift_audit.run.deadline import Deadline
from drift_audit.run.faces import FacePass, sampler
from drift_audit.run.prefetch import read_ahead
from drift_audit.run.scan import scan_shots
from drift_audit.run.sink import EmbedSink
from drift_audit.types import ClipResult

if TYPE_CHECKING:
    from drift_audit.decode.base import FrameSource
    from drift_audit.run.models import Models


def analyse_clip(
    index: int,
    path: Path,
    config: AuditConfig,
    models: Models,
    hook: ProgressHook = no_progress,
    scanned: Callable[[], ClipResult] | None = None,
    on_scanned: Callable[[ClipResult], None] | None = None,
) -> ClipResult:
    """Shots, tracks and embeddings of one clip.

    Args:
        scanned: returns this clip's pass 1 (`scan_shots`), done ahead of time; None
            runs it here.
        on_scanned: called with pass 1's result before pass 2 starts.
    Raises:
        InputError: the clip cannot be read, or it overran `--clip-timeout`.
    """
    deadline = Deadline(str(path), config.clip_timeout_s)
    result = _shots(index, path, config, models, hook, deadline, scanned)
    if on_scanned is not None:
        on_scanned(result)
    timings = Timings()
    with timings.stage("decode+detect+track"):
        sink = EmbedSink(models.embedder, config.embed_batch, timings)
        faces = FacePass(result, config, models.detector, sink, hook, deadline, timings)
        source = open_for_faces(path, config, models, result)
        try:
            frames = source.frames(sampler(config, result.shots))
            # The read-ahead thread is stopped and joined before the source closes.
            with contextlib.closing(read_ahead(frames, 2 * config.detect_batch)) as ahead:
                faces.run(ahead)
        finally:
            source.close()
        sink.flush()
    result.tracks = sink.tracks
    # "decode+detect+track" is the pass without its embedding time.
    timings.add("decode+detect+track", -timings.seconds.get("embed", 0.0))
    result.timings.update(timings.seconds)
    return result


def _shots(
    index: int,
    path: Path,
    config: AuditConfig,
    models: Models,
    hook: ProgressHook,
    deadline: Deadline,
    scanned: Callable[[], ClipResult] | None,
) -> ClipResult:
    """This clip's pass 1: the scan done ahead when there is one, else a scan here."""
    if scanned is not None:
        try:
            return scanned()
        except InputError:
            if config.decoder != "auto":
                raise
            # The scan ahead could not read it (never with decord): the usual order
            # (OpenCV, then decord) tries here, with no torch work running beside it.
    return scan_shots(index, path, config, models.device, hook, deadline)


def open_for_faces(
    path: Path, config: AuditConfig, models: Models, result: ClipResult
) -> FrameSource:
    """The source for the face pass. With `--decoder auto`, a clip the shot pass read
    with decord is read here with OpenCV: while a decord VideoReader is alive, torch
    work in the same process grows its memory without bound (measured: +2 GB per 40
    720p frames through MTCNN with a reader open, flat with it closed or with an
    OpenCV reader open). Both read sequentially and give the same true indices."""
    assert result.info is not None
    if config.decoder == "auto" and result.info.backend in ("decord", "opencv"):
        try:
            source = open_source(path, "opencv", models.device, fps=config.sequence_fps)
        except InputError:
            pass
        else:
            if result.info.backend == "decord":
                result.info = replace(result.info, backend="decord+opencv")
            return source
    return open_source(
        path, config.decoder, models.device, models.frames_on_device, config.sequence_fps
    )
