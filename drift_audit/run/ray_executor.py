"""Clips analysed on Ray actors (`--executor ray`, the `[ray]` extra).

Each actor loads the models once, as a worker process does (`run.workers`), and takes
one clip at a time; with `--device cuda` each asks for one GPU, so Ray places one
actor per GPU. Results come back to the driver, which caches, clusters and reports
exactly as with the local executor: the same ClipResults, the same bytes.

Per clip, as the worker processes do it: a clip that overruns `--clip-timeout` has its
actor killed and is a clip error; a fresh actor takes the next clip. An actor that
dies under a clip (a crashed decoder, a killed node) is replaced and the clip is tried
once more on the new one, then reported as an error. The actors are killed before this
returns, whatever ends the run, and a local cluster started here is stopped.

Ray is imported here only, when the run uses it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drift_audit import interrupts
from drift_audit.config import AuditConfig
from drift_audit.errors import ConfigError, DriftAuditError
from drift_audit.progress import ProgressHook, no_progress
from drift_audit.run.engine import analyse_safely
from drift_audit.run.workers import WorkerCrash
from drift_audit.types import ClipResult

TRIES = 2
"""Actors a clip may take down before it is reported as an error."""


class ClipWorker:
    """A Ray actor's state: the models, loaded once (or why they cannot be)."""

    def __init__(self, config: AuditConfig) -> None:
        from drift_audit.run.models import Models

        self.config = config
        self.problem: tuple[str, str] | None = None
        try:
            self.models = Models(config)
            self.models.load()
        except DriftAuditError as exc:
            self.problem = ("fatal", str(exc))
        except Exception as exc:  # a bug: the driver reports it as one
            self.problem = ("crash", f"{type(exc).__name__}: {exc}")

    def ready(self) -> tuple[str, str]:
        """("ready", ""), or ("fatal" | "crash", why the models did not load)."""
        return self.problem or ("ready", "")

    def analyse(self, index: int, path: str) -> tuple[str, ClipResult | str]:
        """("result", the clip's ClipResult), or ("fatal", why the run must stop)."""
        from drift_audit.run.clip import analyse_clip

        def analyse(i: int, p: Path, h: ProgressHook) -> ClipResult:
            return analyse_clip(i, p, self.config, self.models, h)

        try:
            return "result", analyse_safely(analyse, index, Path(path), no_progress)
        except DriftAuditError as exc:
            return "fatal", str(exc)


@dataclass
class _Slot:
    actor: Any
    ref: Any  # the pending call: ready() while loading, then analyse()
    loading: bool = True
    task: tuple[int, str, int] | None = None  # (index, path, tries so far)
    started: float = 0.0


class _RayPool:
    """Actors and the clips they are given, one at a time each."""

    def __init__(
        self,
        ray: Any,
        tasks: list[tuple[int, Path]],
        config: AuditConfig,
        on_result: Callable[[ClipResult], None],
        hook: ProgressHook,
    ) -> None:
        self.ray, self.config, self.on_result, self.hook = ray, config, on_result, hook
        self.pending = deque((index, str(path), 0) for index, path in tasks)
        self.total, self.finished = len(tasks), 0
        gpus = 1 if config.device == "cuda" else 0
        self.remote = ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=0)(ClipWorker)
        self.slots: list[_Slot] = []

    def start(self) -> _Slot:
        actor = self.remote.remote(self.config)
        return _Slot(actor, actor.ready.remote())

    def size(self) -> int:
        """Actors to run: --jobs when given, else one per CPU (GPU) of the cluster."""
        if self.config.jobs > 1:
            return min(self.config.jobs, self.total)
        resources = self.ray.cluster_resources()
        slots = resources.get("GPU" if self.config.device == "cuda" else "CPU", 1)
        return max(1, min(int(slots), self.total))

    def run(self) -> None:
        self.slots = [self.start() for _ in range(self.size())]
        timeout = self.config.clip_timeout_s
        while self.pending or any(s.task is not None for s in self.slots):
            interrupts.check()
            refs = [s.ref for s in self.slots if s.ref is not None]
            ready, _ = self.ray.wait(refs, num_returns=1, timeout=0.2) if refs else ([], [])
            for slot in list(self.slots):
                if slot.ref is not None and slot.ref in ready:
                    self.on_ready(slot) if slot.loading else self.on_done(slot)
                elif slot.task and timeout and time.monotonic() - slot.started > timeout:
                    self.fail(slot, f"timed out after {timeout:g} s (--clip-timeout)")

    def on_ready(self, slot: _Slot) -> None:
        """A new actor's answer: its models are loaded, or why they cannot be."""
        try:
            kind, why = self.ray.get(slot.ref)
        except self.ray.exceptions.RayError as exc:
            raise DriftAuditError(
                f"a Ray worker died while loading the models ({type(exc).__name__}); "
                "check the cluster's memory and that drift-audit is installed on its nodes"
            ) from None
        if kind == "fatal":
            raise DriftAuditError(why)
        if kind == "crash":
            raise WorkerCrash(f"a Ray worker could not load the models: {why}")
        slot.loading = False
        self.assign(slot)

    def assign(self, slot: _Slot) -> None:
        """Give a ready actor the next clip; its time budget starts now."""
        slot.task, slot.ref = None, None
        if self.pending:
            slot.task = self.pending.popleft()
            slot.started = time.monotonic()
            slot.ref = slot.actor.analyse.remote(slot.task[0], slot.task[1])

    def on_done(self, slot: _Slot) -> None:
        """A clip's answer, or the news that its actor died under it."""
        assert slot.task is not None
        index, path, tries = slot.task
        try:
            kind, payload = self.ray.get(slot.ref)
        except self.ray.exceptions.RayTaskError as exc:  # raised past analyse_safely
            cause = f"{type(exc.cause).__name__}: {str(exc.cause)[:200]}"
            self.report(
                ClipResult(index, path, "error", f"{path}: could not be analysed ({cause})")
            )
            self.replace(slot)
            return
        except self.ray.exceptions.RayError:  # the actor's process died
            if tries + 1 < TRIES:
                self.pending.appendleft((index, path, tries + 1))
                self.replace(slot)
            else:
                self.fail(slot, f"the decoder crashed (its Ray worker died {TRIES} times)")
            return
        if kind == "fatal":
            raise DriftAuditError(str(payload))
        assert isinstance(payload, ClipResult)
        self.report(payload)
        self.assign(slot)

    def report(self, result: ClipResult) -> None:
        self.finished += 1
        self.hook("ray: clips", self.finished, self.total)
        self.on_result(result)

    def fail(self, slot: _Slot, reason: str) -> None:
        """Report the actor's clip as a clip error and replace the actor."""
        assert slot.task is not None
        index, path, _ = slot.task
        self.report(ClipResult(index, path, "error", f"{path}: {reason}"))
        self.replace(slot)

    def replace(self, slot: _Slot) -> None:
        """Kill an actor that crashed or overran; start a fresh one if clips remain."""
        with contextlib.suppress(Exception):
            self.ray.kill(slot.actor, no_restart=True)
        self.slots.remove(slot)
        if self.pending:
            self.slots.append(self.start())

    def close(self) -> None:
        """Kill every actor: their running clips are cancelled with them."""
        for slot in self.slots:
            with contextlib.suppress(Exception):
                self.ray.kill(slot.actor, no_restart=True)
        self.slots = []


def run_on_ray(
    tasks: list[tuple[int, Path]],
    config: AuditConfig,
    on_result: Callable[[ClipResult], None],
    hook: ProgressHook,
) -> None:
    """Analyse `tasks` on Ray actors; each result goes to `on_result`, in this process.

    Raises:
        ConfigError: Ray is not installed, or the cluster cannot be reached.
        DriftAuditError: an actor cannot load the models, or died loading them.
    """
    ray = _connect(config)
    pool = _RayPool(ray, tasks, config, on_result, hook)
    try:
        pool.run()
    finally:
        pool.close()
        ray.shutdown()  # a local cluster started by _connect stops; a remote one stays


def _connect(config: AuditConfig) -> Any:
    """Ray, connected to --ray-address, or to a local cluster started now. Signals stay
    with drift-audit's handler (`interrupts`), whatever ray.init installs."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray: pip install 'drift-audit[ray]'") from None
    handlers = {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS}
    options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if config.ray_address is None:
        # Workers here import drift-audit from where this process does.
        package_root = str(Path(__file__).resolve().parents[2])
        options |= {
            "include_dashboard": False,
            "runtime_env": {"env_vars": {"PYTHONPATH": package_root}},
        }
    try:
        # "local": a cluster of this run's own. With no address, ray.init joins the
        # cluster that RAY_ADDRESS or the last `ray start` on this machine names
        # (/tmp/ray/ray_current_cluster), and a killed head leaves that file behind:
        # measured, a run waited minutes for a head that was gone.
        ray.init(address=config.ray_address or "local", **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = config.ray_address or "a local cluster"
        raise ConfigError(f"--ray-address {where}: cannot connect ({exc})") from None
    finally:
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
    return ray
