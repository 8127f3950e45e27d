"""The analysis of one clip: its shot pass, then its face pass, then its embeddings.

Pass 1 reads every frame and finds the shots (`run.scan`), keeping the full-size
frames pass 2 will want when the clip is short (`run.keep`); pass 2 detects and tracks
faces per shot in those frames (`run.faces`), or, for a longer clip, in the sampled
frames decoded again, a background thread decoding ahead (`run.prefetch`); finished
tracks are embedded in batches as they arrive (`run.sink`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from drift_audit.config import AuditConfig
from drift_audit.decode.registry import open_source
from drift_audit.errors import InputError
from drift_audit.progress import ProgressHook, Timings, no_progress
from drift_audit.run.deadline import Deadline
from drift_audit.run.faces import FacePass, sampler
from drift_audit.run.keep import FrameKeeper, Keeps
from drift_audit.run.prefetch import read_ahead
from drift_audit.run.scan import scan_shots
from drift_audit.run.sink import EmbedSink
from drift_audit.types import ClipResult

if TYPE_CHECKING:
    from drift_audit.decode.base import DecodedFrame, FrameSource
    from drift_audit.run.models import Models

Scan = tuple[ClipResult, Keeps | None]
"""A clip's pass 1 and what it kept for pass 2 (None: nothing)."""


def analyse_clip(
    index: int,
    path: Path,
    config: AuditConfig,
    models: Models,
    hook: ProgressHook = no_progress,
    scanned: Callable[[], Scan] | None = None,
    on_scanned: Callable[[ClipResult], None] | None = None,
    deadline: Deadline | None = None,
) -> ClipResult:
    """Shots, tracks and embeddings of one clip.

    Args:
        scanned: returns this clip's pass 1 (`scan_shots`), done ahead of time; None
            runs it here.
        on_scanned: called with pass 1's result before pass 2 starts.
        deadline: checked at safe points; default: one of `--clip-timeout` from now.
    Raises:
        InputError: the clip cannot be read, or it overran `--clip-timeout`.
    """
    deadline = deadline or Deadline(str(path), config.clip_timeout_s)
    result, keeper = _shots(index, path, config, models, hook, deadline, scanned)
    if on_scanned is not None:
        on_scanned(result)
    kept = keeper.wanted(result) if keeper and reuses_scan(config, models, result) else None
    timings = Timings()
    with timings.stage("decode+detect+track"):
        sink = EmbedSink(models.embedder, config.embed_batch, timings)
        faces = FacePass(result, config, models.detector, sink, hook, deadline, timings)
        if kept is not None:
            faces.run(kept)
        else:
            _decode_again(path, config, models, result, faces)
        sink.flush()
    result.tracks = sink.tracks
    # "decode+detect+track" is the pass without its embedding time.
    timings.add("decode+detect+track", -timings.seconds.get("embed", 0.0))
    result.timings.update(timings.seconds)
    return result


def _decode_again(
    path: Path, config: AuditConfig, models: Models, result: ClipResult, faces: FacePass
) -> None:
    """Pass 2 from a second decode of the clip, reading ahead in a thread."""
    source = open_for_faces(path, config, models, result)
    try:
        frames: Iterator[DecodedFrame] = source.frames(sampler(config, result.shots))
        # The read-ahead thread is stopped and joined before the source closes.
        with contextlib.closing(read_ahead(frames, 2 * config.detect_batch)) as ahead:
            faces.run(ahead)
    finally:
        source.close()


def reuses_scan(config: AuditConfig, models: Models, result: ClipResult) -> bool:
    """Whether pass 2 would read the clip with the backend pass 1 read it with, on the
    host: then the frames pass 1 kept are the very frames pass 2 would decode."""
    backend = result.info.backend if result.info else ""
    return (
        backend == "opencv"
        and config.decoder in ("auto", "opencv")
        and not (models.frames_on_device)
    )


def keeper_for(config: AuditConfig, models: Models) -> FrameKeeper | None:
    """A keeper for a shot pass whose frames pass 2 can use (host frames only)."""
    return None if models.frames_on_device else FrameKeeper(config)


def _shots(
    index: int,
    path: Path,
    config: AuditConfig,
    models: Models,
    hook: ProgressHook,
    deadline: Deadline,
    scanned: Callable[[], Scan] | None,
) -> Scan:
    """This clip's pass 1: the scan done ahead when there is one, else a scan here."""
    if scanned is not None:
        try:
            return scanned()
        except InputError:
            if config.decoder != "auto":
                raise
            # The scan ahead could not read it (never with decord): the usual order
            # (OpenCV, then decord) tries here, with no torch work running beside it.
    keeper = keeper_for(config, models)
    result = scan_shots(index, path, config, models.decode_device, hook, deadline, keeper=keeper)
    return result, keeper


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
