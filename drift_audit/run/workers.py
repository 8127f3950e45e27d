"""Clips analysed in worker processes (`--jobs`, `--clip-timeout`)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from drift_audit import interrupts
from drift_audit.config import AuditConfig
from drift_audit.errors import DriftAuditError
from drift_audit.progress import ProgressHook
from drift_audit.run.engine import analyse_safely
from drift_audit.types import ClipResult


def _worker(conn: Connection, config: AuditConfig) -> None:
    """Worker loop: receive (index, path), send progress and the ClipResult back."""
    from drift_audit.run.clip import analyse_clip
    from drift_audit.run.models import Models

    interrupts.ignore_in_worker()
    try:
        models = Models(config)
        models.load()  # now: the first clip's time budget starts after
    except DriftAuditError as exc:
        conn.send(("fatal", -1, str(exc)))
        return
    except Exception as exc:  # a bug: the parent reports it as one, without a traceback
        conn.send(("crash", -1, f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", -1))
    while True:
        task = conn.recv()
        if task is None:
            return
        index, path = task

        def hook(stage: str, done: int, total: int, index: int = index) -> None:
            conn.send(("progress", index, stage, done, total))

        try:
            result = analyse_safely(
                lambda i, p, h: analyse_clip(i, p, config, models, h), index, Path(path), hook
            )
        except DriftAuditError as exc:  # a model that cannot load: the whole run stops
            conn.send(("fatal", index, str(exc)))
            return
        conn.send(("result", index, result))


class WorkerCrash(RuntimeError):
    """An unexpected exception in a worker outside any clip's analysis: a bug, which
    the command line reports as an internal error."""


@dataclass
class _Slot:
    process: Any
    conn: Connection
    task: tuple[int, str] | None = None
    started: float = 0.0
    ready: bool = False

    @property
    def busy(self) -> bool:
        return self.task is not None or not self.ready


def _death(process: Any) -> str:
    """How a worker process ended, in words: "killed by SIGKILL", "exit code 1"."""
    process.join(1)  # the exit code is known only once the process is reaped
    code = process.exitcode
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Pool:
    """`jobs` worker processes and the clips they are given, one at a time each."""

    def __init__(
        self,
        tasks: list[tuple[int, Path]],
        config: AuditConfig,
        on_result: Callable[[ClipResult], None],
        hook: ProgressHook,
    ) -> None:
        self.ctx = mp.get_context("spawn")
        self.config, self.on_result, self.hook = config, on_result, hook
        self.pending = list(reversed(tasks))
        self.slots: list[_Slot] = []

    def start(self) -> _Slot:
        """A new worker; it says "ready" once its models are loaded."""
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(target=_worker, args=(child, self.config), daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def assign(self, slot: _Slot) -> None:
        """Give a ready worker the next clip; its time budget starts now."""
        if self.pending:
            index, path = self.pending.pop()
            slot.task, slot.started = (index, str(path)), time.monotonic()
            slot.conn.send(slot.task)
        else:
            slot.task = None

    def replace(self, slot: _Slot) -> None:
        """Kill a worker that crashed or overran; start a fresh one if clips remain."""
        slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        slot.task, slot.ready = None, False
        if self.pending:
            new = self.start()
            slot.process, slot.conn = new.process, new.conn
        else:
            slot.ready = True  # nothing left to do: an idle slot

    def fail(self, slot: _Slot, reason: str) -> None:
        """Report the worker's clip as a clip error and replace the worker."""
        assert slot.task is not None
        index, path = slot.task
        self.on_result(ClipResult(index, path, "error", f"{path}: {reason}"))
        self.replace(slot)

    def on_ready(self, slot: _Slot) -> None:
        """A starting worker's first message: ready, or why its models cannot load."""
        try:
            message = slot.conn.recv()
        except EOFError:  # killed while loading (an OOM kill under a large --jobs)
            raise DriftAuditError(
                f"a worker process died while loading the models ({_death(slot.process)}); "
                "try fewer --jobs"
            ) from None
        if message[0] == "fatal":
            raise DriftAuditError(message[2])
        if message[0] == "crash":
            raise WorkerCrash(f"a worker process could not load the models: {message[2]}")
        slot.ready = True
        self.assign(slot)

    def on_message(self, slot: _Slot) -> None:
        """A busy worker's message: progress, its clip's result, or a fatal error."""
        try:
            kind, _index, *rest = slot.conn.recv()
        except EOFError:  # the worker died (segfault, OOM kill)
            self.fail(slot, f"the decoder crashed (worker {_death(slot.process)})")
            return
        if kind == "progress":
            self.hook(*rest)
        elif kind == "fatal":
            raise DriftAuditError(rest[0])
        else:
            self.on_result(rest[0])
            self.assign(slot)

    def run(self, jobs: int) -> None:
        timeout = self.config.clip_timeout_s
        self.slots.extend(self.start() for _ in range(min(jobs, len(self.pending))))
        while self.pending or any(s.task is not None for s in self.slots):
            interrupts.check()
            ready = wait([s.conn for s in self.slots if s.busy], timeout=0.2)
            for slot in self.slots:
                if not slot.ready and slot.conn in ready:
                    self.on_ready(slot)
                elif slot.task is not None and slot.conn in ready:
                    self.on_message(slot)
                elif (
                    slot.task is not None and timeout and time.monotonic() - slot.started > timeout
                ):
                    self.fail(slot, f"timed out after {timeout:g} s (--clip-timeout)")

    def close(self) -> None:
        """Ask every worker to stop, then kill the ones that do not within 2 s."""
        for slot in self.slots:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(None)
        for slot in self.slots:
            slot.process.join(2)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(5)


def run_in_workers(
    tasks: list[tuple[int, Path]],
    config: AuditConfig,
    jobs: int,
    on_result: Callable[[ClipResult], None],
    hook: ProgressHook,
) -> None:
    """Analyse `tasks` in `jobs` worker processes; each result goes to `on_result`.

    A clip that runs past config.clip_timeout_s is killed with its worker and
    reported as a clip error; a fresh worker takes the next clip. The workers are
    stopped before this returns, whatever ends the run.

    Raises:
        DriftAuditError: a worker cannot load the models, or died loading them.
    """
    pool = _Pool(tasks, config, on_result, hook)
    try:
        pool.run(jobs)
    finally:
        pool.close()
