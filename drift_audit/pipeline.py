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
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drift_audit.config import AuditConfig
from drift_audit.errors import InputError
from drift_audit.identity.characters import WEAK_EVIDENCE, Metric, build_characters
from drift_audit.identity.cluster import link_generations
from drift_audit.identity.findings import findings
from drift_audit.types import ClipResult, EmbedderInfo, Report

if TYPE_CHECKING:
    from drift_audit.cache import ClipCache
from drift_audit.identity.cluster import cannot_link
from drift_audit.progress import ProgressHook, no_progress
from drift_audit.run.cast import embed_image
from drift_audit.run.clip import analyse_clip
from drift_audit.run.models import Models
from drift_audit.run.prefetch import ScanAhead


def audit(
    paths: list[Path | InputError],
    config: AuditConfig,
    hook: ProgressHook = no_progress,
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

    cache, keys = open_cache(tasks, config, models)
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
        from drift_audit.run.workers import run_in_workers

        run_in_workers(todo, config, config.jobs, done, hook)
    else:
        from drift_audit.run.engine import analyse_safely

        ahead: ScanAhead | None = None
        for k, (index, path) in enumerate(todo):
            hook(f"clip {index}", 0, 0)
            scanned = ahead.result if ahead else None
            ahead = ScanAhead(*todo[k + 1], config, models.device) if k + 1 < len(todo) else None

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
            from drift_audit.identity.cluster import cluster

            cents = np.stack([t.embedding_for(metric.centroid) for t in tracks])
            weak = np.array([float(t.crop_quality.max()) < WEAK_EVIDENCE for t in tracks])
            labels = cluster(
                metric.similarity(cents, cents),
                cannot_link(tracks),
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


def open_cache(
    tasks: list[tuple[int, Path]], config: AuditConfig, models: Models
) -> tuple[ClipCache | None, dict[int, str]]:
    """The cache and each readable clip's key (content hash + settings + weights)."""
    if not config.use_cache or not tasks:
        return None, {}
    from drift_audit.cache import ClipCache, cache_key, default_dir
    from drift_audit.files import sha256_of

    embedder = models.embedder
    keys: dict[int, str] = {}
    for index, path in tasks:
        try:
            keys[index] = cache_key(sha256_of(path), config, embedder.name, embedder.weights_sha256)
        except OSError:
            continue  # unreadable: the analysis reports why
    return ClipCache(config.cache_dir or default_dir()), keys
