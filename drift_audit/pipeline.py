"""audit(): the order of the stages, and the only module that knows it.

inputs -> cached analyses -> the other clips analysed (`run/`: shots, faces, tracks,
embeddings; here or in worker processes) -> identity over all clips (`identity/`:
cluster tracks into characters, link generations, measure drift, findings) -> Report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drift_audit import provenance
from drift_audit.config import AuditConfig
from drift_audit.errors import InputError
from drift_audit.inputs import duplicate_clips
from drift_audit.progress import ProgressHook, Timings, no_progress
from drift_audit.run.models import Models
from drift_audit.types import ClipResult, EmbedderInfo, Report

if TYPE_CHECKING:
    from drift_audit.cache import ClipCache
    from drift_audit.identity.characters import Metric
    from drift_audit.run.scan_process import ScanProcess
    from drift_audit.types import Calibration, Character, Finding


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
        The report. Never raises for a bad clip.
    Raises:
        InputError: a cast image cannot be read or holds no face.
    """
    from drift_audit.run.cast import embed_cast

    models = models or Models(config)
    timings = Timings()
    results, tasks = _plan(paths)
    cache, keys, identities = _open_cache(tasks, config, models)
    todo = []
    for index, path in tasks:
        hit = cache.load(keys[index], index, str(path)) if cache and index in keys else None
        if hit is not None:
            results[index] = hit
        else:
            todo.append((index, path))

    def done(result: ClipResult) -> None:
        results[result.index] = result
        # A file replaced since it was hashed holds other content than its key says:
        # its analysis is reported but never stored under that key.
        if (
            cache
            and result.status == "ok"
            and result.index in keys
            and _identity(Path(result.path)) == identities[result.index]
        ):
            cache.store(keys[result.index], result)

    # The lanes' shot passes start in a child process first, a fork with no other thread
    # running; then torch and the models load in a thread, beside them.
    with _scans_ahead(todo, config, models) as scans, models.loading():
        with timings.stage("cast"):
            cast, cast_images = embed_cast(config.cast, models)
        _run_clips(todo, config, models, done, hook, scans)
    if cache:
        timings.add("cache_hits", float(cache.hits))
    clips = [results[i] for i in sorted(results)]
    # Outside the analysis: no cache key depends on provenance.
    provenance.attach(clips, hook, config.trust_anchors)
    ok = {r.index: r for r in clips if r.status == "ok"}
    characters: list[Character] = []
    found: list[Finding] = []
    embedder_info = None
    if ok:
        metric, embedder_info = _metric(config, models)
        with timings.stage("cluster+drift"):
            characters, found, calibration = _identify(ok, metric, cast, cast_images, config)
        embedder_info = replace(
            embedder_info, threshold=calibration.threshold, calibration=calibration
        )
    found += provenance.findings(clips, config.require_provenance)
    found += duplicate_clips(tasks)  # byte-identical copies under other names (inputs.py)
    for r in clips:
        timings.merge(r.timings)
    return Report(
        clips,
        characters,
        found,
        embedder_info,
        config.fail_on,
        timings.seconds,
        fail_on_kind=dict(config.fail_on_kind),
    )


def _plan(paths: list[Path | InputError]) -> tuple[dict[int, ClipResult], list[tuple[int, Path]]]:
    """(error entries by clip index, the clips to analyse). A path given twice is
    audited once; its second place says so."""
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
    return results, tasks


def _executor(todo: list[tuple[int, Path]], config: AuditConfig) -> str:
    """Where the clips the cache did not have are analysed: on Ray actors (`--executor
    ray`); in worker processes when clips run in parallel or under a time budget; else
    in this process, several clips side by side (`lanes`) or one at a time."""
    if config.executor == "ray":
        return "ray"
    if config.jobs > 1 or config.clip_timeout_s > 0:
        return "workers"
    return "lanes" if config.lanes > 1 and len(todo) > 1 else "here"


@contextlib.contextmanager
def _scans_ahead(
    todo: list[tuple[int, Path]], config: AuditConfig, models: Models
) -> Iterator[ScanProcess | None]:
    """The lanes' shot-pass child (`run.scan_process`), where they will run and can use
    one; stopped on the way out, whatever ends the run."""
    if _executor(todo, config) != "lanes":
        yield None
        return
    from drift_audit.run import scan_process

    scans = scan_process.start(todo, config, models)
    try:
        yield scans
    finally:
        if scans is not None:
            scans.close()


def _run_clips(
    todo: list[tuple[int, Path]],
    config: AuditConfig,
    models: Models,
    done: Callable[[ClipResult], None],
    hook: ProgressHook,
    scans: ScanProcess | None = None,
) -> None:
    """Analyse the clips the cache did not have, where `_executor` says; `scans`: the
    lanes' shot passes, already running."""
    where = _executor(todo, config)
    if not todo:
        return
    if where == "ray":
        from drift_audit.run.ray_executor import run_on_ray

        run_on_ray(todo, config, done, hook)
    elif where == "workers":
        from drift_audit.run.workers import run_in_workers

        run_in_workers(todo, config, config.jobs, done, hook)
    elif where == "lanes":
        from drift_audit.run.lanes import run_in_lanes

        run_in_lanes(todo, config, models, done, hook, scans)
    else:
        from drift_audit.run.engine import run_here

        run_here(todo, config, models, done, hook)


def _metric(config: AuditConfig, models: Models) -> tuple[Metric, EmbedderInfo]:
    """The embedder's similarity, centroid and thresholds, and how the report names them."""
    from drift_audit.identity.characters import Metric

    embedder = models.embedder
    metric = Metric(
        embedder.similarity,
        embedder.centroid,
        config.threshold or embedder.threshold,
        embedder.uncertain_margin,
        different_margin=embedder.different_margin,
    )
    info = EmbedderInfo(
        embedder.name,
        embedder.weights_sha256,
        metric.threshold,
        metric.uncertain_margin,
        models.choice,
        different_margin=metric.different_margin,
    )
    return metric, info


def _identify(
    ok: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
    cast_images: dict[str, np.ndarray],
    config: AuditConfig,
) -> tuple[list[Character], list[Finding], Calibration]:
    """Every clip's tracks -> the threshold in force -> characters across clips ->
    findings."""
    from drift_audit.identity.calibration import calibrate
    from drift_audit.identity.characters import WEAK_EVIDENCE, build_characters
    from drift_audit.identity.cluster import cannot_link_pairs, cluster_vectors, link_generations
    from drift_audit.identity.findings import findings

    tracks = sorted(
        (t for r in ok.values() for t in r.tracks),
        key=lambda t: (t.clip, t.first_frame, float(t.faces.xyxy[0, 0])),
    )
    refs = np.stack([cast[name] for name in sorted(cast)]) if cast else None
    labels = np.zeros(0, np.int64)
    fixed = config.threshold is not None
    cents = metric.centroids(tracks) if tracks else np.zeros((0, 0))  # (n_tracks, d)
    pairs = cannot_link_pairs(tracks)  # (k, 2): tracks that are two people
    calibration = calibrate(metric, cents, (pairs[:, 0], pairs[:, 1]), refs, fixed)
    metric = replace(metric, threshold=calibration.threshold, measured_threshold=metric.threshold)
    if tracks:
        weak = np.array([float(t.crop_quality.max()) < WEAK_EVIDENCE for t in tracks])
        labels = cluster_vectors(
            cents, metric.similarity, pairs, metric.threshold, weak, 2 * metric.uncertain_margin
        )
        labels = link_generations(tracks, labels, metric)
    characters = build_characters(tracks, labels, ok, metric, cast, cast_images)
    found = findings(characters, tracks, ok, metric, cast, config.extras_fail, config.script)
    return characters, found, calibration


def _open_cache(
    tasks: list[tuple[int, Path]], config: AuditConfig, models: Models
) -> tuple[ClipCache | None, dict[int, str], dict[int, tuple[int, int, int, int] | None]]:
    """The cache, each readable clip's key (content hash + settings + weights + code)
    and the identity of the file that was hashed (`cache.file_identity`)."""
    if not config.use_cache or not tasks:
        return None, {}, {}
    from drift_audit.cache import ClipCache, cache_key, default_dir
    from drift_audit.files import sha256_of

    name, weights_sha256 = models.embedder_identity()
    keys: dict[int, str] = {}
    identities: dict[int, tuple[int, int, int, int] | None] = {}
    for index, path in tasks:
        try:
            identities[index] = _identity(path)
            keys[index] = cache_key(sha256_of(path), config, name, weights_sha256)
        except OSError:
            continue  # unreadable: the analysis reports why
    cache = ClipCache(config.cache_dir or default_dir())
    cache.sweep()
    return cache, keys, identities


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    from drift_audit.cache import file_identity

    try:
        return file_identity(path)
    except OSError:
        return None
