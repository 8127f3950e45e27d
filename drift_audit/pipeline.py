"""Wires the stages together; the only module that knows their order.

Per clip: decode pass 1 (every frame, thumbnails) -> shots; decode pass 2 (sampled
frames) -> full-frame detection in batches when a shot starts and every redetect_s,
detection around the live tracks between -> track per shot, keeping the best crops
-> embed. In one process, pass 1 of the next clip runs in a thread beside pass 2.
Then, over all clips: cluster tracks into characters -> drift -> findings.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from drift_audit.attributes import measure_near
from drift_audit.config import AuditConfig
from drift_audit.decode import DecodedFrame, backend_order, open_source
from drift_audit.detect import Detector, crop_faces, face_quality
from drift_audit.drift import (
    WEAK_EVIDENCE,
    Metric,
    build_characters,
    findings,
    link_generations,
)
from drift_audit.embed import Embedder
from drift_audit.errors import InputError
from drift_audit.shots import ShotDetector, thumbnail
from drift_audit.track import Tracker
from drift_audit.types import ClipResult, EmbedderInfo, FaceCrops, Faces, Report, Shot, Track

if TYPE_CHECKING:
    from drift_audit.cache import ClipCache


SHOT_DECODE_SIDE = 160
"""Shot detection reads every frame, but only this big (long side, pixels)."""

ProgressHook = Callable[[str, int, int], None]
"""hook(stage, completed, total): called as work advances; total 0 means unknown."""


def _no_progress(stage: str, completed: int, total: int) -> None:
    pass


class Models:
    """The detector and embedder, built on first use and shared by every clip."""

    def __init__(
        self,
        config: AuditConfig,
        detector: Detector | None = None,
        embedder: Embedder | None = None,
        choice: str = "",
    ) -> None:
        self.config = config
        self._detector = detector
        self._embedder = embedder
        self.choice = choice or (f"{embedder.name}: given" if embedder else "")

    @property
    def device(self) -> str:
        from drift_audit.detect import resolve_device

        return resolve_device(self.config.device)

    def _threads(self) -> None:
        """Torch's CPU threads, set before either model (both run on torch) is built."""
        if self.device == "cpu":
            import torch

            torch.set_num_threads(self.config.threads)

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            from drift_audit.detect import MTCNNDetector

            c = self.config
            self._threads()
            self._detector = MTCNNDetector(
                c.min_face_px, c.detect_confidence, c.detect_max_side, self.device
            )
        return self._detector

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from drift_audit.embed import build_embedder

            c = self.config
            self._threads()
            self._embedder, self.choice = build_embedder(
                c.embedder, c.weights, self.device, c.embed_batch
            )
        return self._embedder


class _Deadline:
    def __init__(self, path: str, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.start = time.monotonic()

    def check(self) -> None:
        if self.seconds and time.monotonic() - self.start > self.seconds:
            raise InputError(self.path, f"timed out after {self.seconds:g} s (--clip-timeout)")


def _sampler(config: AuditConfig, shots: list[Shot]) -> Callable[[int, float], bool]:
    """Which frames go to the detector: one every 1/sample_fps seconds of presentation
    time, plus one early frame of every shot so that short shots are never skipped."""
    period = 1.0 / config.sample_fps
    starts = {s.start_frame + min(2, s.end_frame - s.start_frame) for s in shots}
    state = {"next": -1.0}

    def want(index: int, time_s: float) -> bool:
        if state["next"] < 0:
            state["next"] = time_s
        if time_s + 1e-6 >= state["next"]:
            state["next"] += period * max(1, int((time_s - state["next"]) / period) + 1)
            return True
        return index in starts

    return want


def scan_shots(
    index: int,
    path: Path,
    config: AuditConfig,
    device: str,
    hook: ProgressHook = _no_progress,
    deadline: _Deadline | None = None,
    decoder: str | None = None,
) -> ClipResult:
    """Pass 1: every frame at SHOT_DECODE_SIDE px -> shots, glitches, frame times.

    Raises InputError when the clip cannot be read.
    """
    result = ClipResult(index=index, path=str(path))
    tick = time.perf_counter()
    source = open_source(path, decoder or config.decoder, device)
    try:
        result.info = source.info
        detector = ShotDetector(config.shot_threshold, config.min_shot_frames)
        total = source.info.n_frames
        for frame in source.frames(lambda i, t: True, max_side=SHOT_DECODE_SIDE):
            assert frame.image is not None
            detector.push(frame.time_s, thumbnail(frame.image), frame.index)
            result.times[frame.index] = frame.time_s
            result.corrupt_frames += frame.lost_before
            if frame.index % 64 == 0:
                hook(f"clip {index}: shots", frame.index, total)
                if deadline:
                    deadline.check()
        result.frames_read = len(result.times)
        if result.frames_read == 0:
            raise InputError(str(path), "no decodable frames")
        result.frames_expected = max(source.info.n_frames, result.last_frame + 1)
        result.shots, result.glitches = detector.finish()
        result.timings["decode+shots"] = time.perf_counter() - tick
    finally:
        source.close()
    return result


def analyse_clip(
    index: int,
    path: Path,
    config: AuditConfig,
    models: Models,
    hook: ProgressHook = _no_progress,
    scanned: Callable[[], ClipResult] | None = None,
) -> ClipResult:
    """Shots, tracks and embeddings of one clip. Raises InputError when it cannot be read.

    Args:
        scanned: returns this clip's pass 1 (`scan_shots`), done ahead of time; None
            runs it here.
    """
    deadline = _Deadline(str(path), config.clip_timeout_s)
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
    sink = _EmbedSink(models.embedder, config.embed_batch)
    source = _open_for_faces(path, config, models.device, result)
    if _tensor_frames(source, models.device):
        source.tensors = True  # type: ignore[attr-defined]
    try:
        frames = _read_ahead(source.frames(_sampler(config, result.shots)), 2 * config.detect_batch)
        _detect_and_track(result, frames, config, models, hook, deadline, sink)
    finally:
        source.close()
    sink.flush()
    result.tracks = sink.tracks
    result.timings["embed"] = sink.seconds
    result.timings["decode+detect+track"] = time.perf_counter() - tick - sink.seconds
    return result


def _tensor_frames(source: object, device: str) -> bool:
    """Whether the face pass keeps decoded frames on the device: torchcodec on a GPU.
    Detection, tracking and face crops then work there; only the crops and the pixels
    around each face's attribute regions are copied to the host."""
    return device != "cpu" and hasattr(source, "tensors")


def _stack(images: list[object]) -> object:
    """Frames as one (b, H, W, 3) batch: numpy on the host, a tensor on the device."""
    if all(isinstance(im, np.ndarray) for im in images):
        return np.stack(images)  # type: ignore[arg-type]
    import torch

    return torch.stack(images)  # type: ignore[arg-type]


class _ScanAhead:
    """Runs the next clip's pass 1 in a background thread while this clip's faces are
    detected (on a GPU: a second NVDEC session beside the face pass's). Under
    `--decoder auto` it never reads with decord: a live decord reader makes the torch
    work beside it leak (see `_open_for_faces`); a clip only decord can open is
    scanned again in turn."""

    def __init__(self, index: int, path: Path, config: AuditConfig, device: str) -> None:
        import threading

        decoder = config.decoder
        if decoder == "auto":  # torchcodec on a GPU, else OpenCV: never decord here
            decoder = next(b for b in backend_order(decoder, device) if b != "decord")
        self._outcome: ClipResult | BaseException | None = None

        def run() -> None:
            try:
                self._outcome = scan_shots(index, path, config, device, decoder=decoder)
            except BaseException as exc:  # handed over in result()
                self._outcome = exc

        self._thread = threading.Thread(target=run, name="drift-audit-scan", daemon=True)
        self._thread.start()

    def result(self) -> ClipResult:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome


def _read_ahead(frames: Iterator[DecodedFrame], depth: int) -> Iterator[DecodedFrame]:
    """Decode in a background thread while the caller detects: decoders and torch
    release the GIL, so the two overlap on two cores. At most `depth` frames wait."""
    import queue
    import threading

    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for frame in frames:
                if stop.is_set():
                    break
                slots.put(frame)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)
        finally:
            slots.put(end)

    worker = threading.Thread(target=produce, name="drift-audit-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.1)
        worker.join()


def _open_for_faces(path: Path, config: AuditConfig, device: str, result: ClipResult):  # type: ignore[no-untyped-def]
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


class _EmbedSink:
    """Embeds finished tracks in batches as they arrive, then keeps only each track's
    best crop (for thumbnails): memory stays flat however long the clip is."""

    def __init__(self, embedder: Embedder, batch: int) -> None:
        self.embedder, self.batch = embedder, batch
        self.tracks: list[Track] = []
        self._waiting: list[Track] = []
        self.seconds = 0.0

    def add(self, tracks: list[Track]) -> None:
        self._waiting.extend(tracks)
        if sum(len(t.crops) for t in self._waiting) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self._waiting:
            return
        tick = time.perf_counter()
        crops = FaceCrops(
            np.concatenate([t.crops.images for t in self._waiting]),
            np.concatenate([t.crops.landmarks for t in self._waiting]),
        )
        vectors = self.embedder.embed(crops)  # (kept crops of the waiting tracks, dim)
        start = 0
        for track in self._waiting:
            k = len(track.crops)
            track.embeddings = vectors[start : start + k]
            track.crops = FaceCrops(track.crops.images[:1].copy(), track.crops.landmarks[:1].copy())
            track.crop_quality = track.crop_quality[:1].copy()
            start += k
        self.tracks.extend(self._waiting)
        self._waiting = []
        self.seconds += time.perf_counter() - tick


def _detect_and_track(
    result: ClipResult,
    frames: Iterator[DecodedFrame],
    config: AuditConfig,
    models: Models,
    hook: ProgressHook,
    deadline: _Deadline,
    sink: _EmbedSink,
) -> None:
    """Faces of the sampled frames, tracked per shot.

    A sampled frame gets a full-frame detection when its shot starts and then every
    `redetect_s` seconds; those are batched, `detect_batch` at a time. The frames in
    between are searched only around the shot's live tracks (`refine`), in order, each
    after the tracker has seen the frame before it.
    """
    starts = np.array([s.start_frame for s in result.shots], np.int64)
    samples = 0  # sampled frames in the current shot
    tracker: Tracker | None = None
    pending: list[tuple[DecodedFrame, bool]] = []  # (frame, gets a full detection)
    spent = dict.fromkeys(
        ("detect: full frames", "detect: around tracks", "crops+attributes+track"), 0.0
    )
    last_full = {"shot": -1, "time": -np.inf}

    def shot_of(frame: DecodedFrame) -> int:
        return result.shots[int(np.searchsorted(starts, frame.index, side="right")) - 1].index

    def is_full(frame: DecodedFrame) -> bool:
        shot = shot_of(frame)
        due = frame.time_s - last_full["time"] >= config.redetect_s - 1e-6
        if shot != last_full["shot"] or due:
            last_full.update(shot=shot, time=frame.time_s)
            return True
        return False

    def end_shot() -> None:
        if tracker is not None:
            # A lone detection in a shot that was sampled often is likely a false positive.
            sink.add([t for t in tracker.finish() if len(t.faces) >= 2 or samples <= 2])

    def flush() -> None:
        nonlocal tracker, samples
        if not pending:
            return
        full = [f for f, is_f in pending if is_f]
        tick = time.perf_counter()
        faces = (
            models.detector.detect(
                _stack([f.image for f in full]),  # type: ignore[arg-type]
                np.array([f.index for f in full]),
            )
            if full
            else Faces.empty()
        )
        spent["detect: full frames"] += time.perf_counter() - tick
        for f, is_f in pending:
            assert f.image is not None
            shot = shot_of(f)
            if tracker is None or tracker.shot != shot:
                end_shot()
                tracker, samples = Tracker(result.index, shot, config.faces_per_track), 0
            samples += 1
            tick = time.perf_counter()
            if is_f:
                mine = faces.select(faces.frame == f.index) if len(faces) else Faces.empty()
            else:
                mine = models.detector.refine(f.image, tracker.live_boxes(), f.index)
                spent["detect: around tracks"] += time.perf_counter() - tick
                tick = time.perf_counter()
            looks = np.array(
                [
                    measure_near(f.image, box, lm)  # (n, 4, 4) appearance attributes
                    for box, lm in zip(mine.xyxy, mine.landmarks, strict=True)
                ],
                np.float32,
            ).reshape(len(mine), 4, 4)
            tracker.step(mine, crop_faces(f.image, mine), face_quality(mine), looks)
            spent["crops+attributes+track"] += time.perf_counter() - tick
        hook(f"clip {result.index}: faces", pending[-1][0].index, result.frames_read)
        pending.clear()
        deadline.check()

    for frame in frames:
        if frame.image is None or frame.index > result.last_frame:
            continue
        if pending and pending[0][0].image.shape != frame.image.shape:  # type: ignore[union-attr]
            flush()
        full = is_full(frame)
        pending.append((frame, full))
        waiting = sum(1 for _, is_f in pending if is_f)
        # A frame between full detections waits only for full detections before it.
        if waiting >= config.detect_batch or waiting == 0:
            flush()
    flush()
    end_shot()
    result.timings.update(spent)


def embed_image(path: Path, models: Models) -> tuple[np.ndarray, np.ndarray]:
    """The embedding and the face crop of the largest face in an image (a cast reference).

    Raises:
        InputError: the image cannot be read or holds no face.
    """
    from drift_audit.decode import check_readable

    check_readable(path)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(str(path), "not a readable image")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    faces = models.detector.detect(rgb[None], np.zeros(1, np.int64))
    if len(faces) == 0:
        raise InputError(str(path), "no face found in the reference image")
    largest = faces.select(np.array([int(np.argmax(faces.size))]))
    crops = crop_faces(rgb, largest)
    return models.embedder.centroid(models.embedder.embed(crops)), crops.images[0]


def audit(
    paths: list[Path | InputError],
    config: AuditConfig,
    hook: ProgressHook = _no_progress,
    models: Models | None = None,
) -> Report:
    """Audit clips in story order.

    Args:
        paths: the clips, in story order. Unreadable ones, and InputErrors found while
            expanding the arguments, become `status: error` entries.
        config: the run's settings.
        hook: progress callback.
        models: detector and embedder to use (built from config when None).
    Returns:
        The report. Never raises for a bad clip; raises InputError for a bad cast image.
    """
    models = models or Models(config)
    timings: dict[str, float] = {}
    cast: dict[str, np.ndarray] = {}
    cast_images: dict[str, np.ndarray] = {}
    tick = time.perf_counter()
    for member in config.cast:
        cast[member.name], cast_images[member.name] = embed_image(member.image, models)
    timings["cast"] = time.perf_counter() - tick

    results: dict[int, ClipResult] = {}
    tasks: list[tuple[int, Path]] = []
    seen: dict[Path, int] = {}
    for index, path in enumerate(paths, start=1):
        if isinstance(path, InputError):
            results[index] = ClipResult(index, path.path, "error", str(path))
            continue
        key = path.resolve() if path.exists() else path
        if key in seen:
            results[index] = ClipResult(
                index, str(path), "error", f"{path}: same file as clip {seen[key]}; audited once"
            )
            continue
        seen[key] = index
        tasks.append((index, path))

    cache, keys = _open_cache(tasks, config, models)
    todo = []
    for index, path in tasks:
        hit = cache.load(keys[index], index, str(path)) if cache and index in keys else None
        if hit is not None:
            results[index] = hit
        else:
            todo.append((index, path))

    def done(result: ClipResult) -> None:
        results[result.index] = result
        if cache and result.status == "ok" and result.index in keys:
            cache.store(keys[result.index], result)

    if todo and (config.jobs > 1 or config.clip_timeout_s > 0):
        from drift_audit.engine import run_in_workers

        run_in_workers(todo, config, config.jobs, done, hook)
    else:
        from drift_audit.engine import analyse_safely

        ahead: _ScanAhead | None = None
        for k, (index, path) in enumerate(todo):
            hook(f"clip {index}", 0, 0)
            scanned = ahead.result if ahead else None
            ahead = _ScanAhead(*todo[k + 1], config, models.device) if k + 1 < len(todo) else None

            def analyse(
                i: int, p: Path, h: ProgressHook, scanned: Callable[[], ClipResult] | None = scanned
            ) -> ClipResult:
                return analyse_clip(i, p, config, models, h, scanned)

            done(analyse_safely(analyse, index, path, hook))
    if cache:
        timings["cache_hits"] = float(cache.hits)
    results = [results[i] for i in sorted(results)]
    ok = {r.index: r for r in results if r.status == "ok"}
    tracks = sorted(
        (t for r in ok.values() for t in r.tracks),
        key=lambda t: (t.clip, t.first_frame, float(t.faces.xyxy[0, 0])),
    )
    characters, found = [], []
    embedder_info = None
    if ok:
        embedder = models.embedder
        metric = Metric(
            embedder.similarity,
            embedder.centroid,
            config.threshold or embedder.threshold,
            embedder.uncertain_margin,
        )
        embedder_info = EmbedderInfo(
            embedder.name,
            embedder.weights_sha256,
            metric.threshold,
            metric.uncertain_margin,
            models.choice,
        )
        tick = time.perf_counter()
        labels = np.zeros(0, np.int64)
        if tracks:
            from drift_audit.cluster import cluster

            cents = np.stack([t.embedding_for(metric.centroid) for t in tracks])
            weak = np.array([float(t.crop_quality.max()) < WEAK_EVIDENCE for t in tracks])
            labels = cluster(
                metric.similarity(cents, cents),
                _cannot_link(tracks),
                metric.threshold,
                weak,
                2 * metric.uncertain_margin,
            )
            labels = link_generations(tracks, labels, metric)
        characters = build_characters(tracks, labels, ok, metric, cast, cast_images)
        found = findings(characters, tracks, ok, metric, cast)
        timings["cluster+drift"] = time.perf_counter() - tick
    for r in results:
        for stage, seconds in r.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    return Report(results, characters, found, embedder_info, config.fail_on, timings)


def _open_cache(
    tasks: list[tuple[int, Path]], config: AuditConfig, models: Models
) -> tuple[ClipCache | None, dict[int, str]]:
    """The cache and each readable clip's key (content hash + settings + weights)."""
    if not config.use_cache or not tasks:
        return None, {}
    from drift_audit.cache import ClipCache, cache_key, default_dir
    from drift_audit.embed import sha256_of

    embedder = models.embedder
    keys: dict[int, str] = {}
    for index, path in tasks:
        try:
            keys[index] = cache_key(sha256_of(path), config, embedder.name, embedder.weights_sha256)
        except OSError:
            continue  # unreadable: the analysis reports why
    return ClipCache(config.cache_dir or default_dir()), keys


def _cannot_link(tracks: list[Track]) -> np.ndarray:
    """(n, n) bool: True where two tracks share a frame of the same clip."""
    n = len(tracks)
    blocked = np.zeros((n, n), bool)
    frames = [set(t.faces.frame.tolist()) for t in tracks]
    for i in range(n):
        for j in range(i + 1, n):
            if tracks[i].clip == tracks[j].clip and frames[i] & frames[j]:
                blocked[i, j] = blocked[j, i] = True
    return blocked
