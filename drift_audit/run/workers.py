"""Clips analysed in worker processes (`--jobs`, `--clip-timeout`)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from drift_audit.config import AuditConfig
from drift_audit.errors import DriftAuditError
from drift_audit.progress import ProgressHook
from drift_audit.run.engine import analyse_safely
from drift_audit.types import ClipResult


def _worker(conn: Connection, config: AuditConfig, threads: int) -> None:
    """Worker loop: receive (index, path), send progress and the ClipResult back."""
    import torch

    from drift_audit.run.clip import analyse_clip
    from drift_audit.run.models import Models

    torch.set_num_threads(threads)
    models = Models(config)
    try:
        models.detector, models.embedder  # load now: the clip's time budget starts after  # noqa: B018
    except DriftAuditError as exc:
        conn.send(("fatal", -1, str(exc)))
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


@dataclass
class _Slot:
    process: Any
    conn: Connection
    task: tuple[int, str] | None = None
    started: float = 0.0
    ready: bool = False


def run_in_workers(
    tasks: list[tuple[int, Path]],
    config: AuditConfig,
    jobs: int,
    on_result: Callable[[ClipResult], None],
    hook: ProgressHook,
) -> None:
    """Analyse `tasks` in `jobs` worker processes; each result goes to `on_result`.

    A clip that runs past config.clip_timeout_s is killed with its worker and
    reported as a clip error; a fresh worker takes the next clip.
    """
    ctx = mp.get_context("spawn")
    threads = config.threads
    pending = list(reversed(tasks))
    slots: list[_Slot] = []

    def start() -> _Slot:
        """A new worker; it says "ready" once its models are loaded."""
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_worker, args=(child, config, threads), daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def assign(slot: _Slot) -> None:
        """Give a ready worker the next clip; its time budget starts now."""
        if pending:
            index, path = pending.pop()
            slot.task, slot.started = (index, str(path)), time.monotonic()
            slot.conn.send(slot.task)
        else:
            slot.task = None

    def replace(slot: _Slot) -> None:
        """Kill a worker that crashed or overran; start a fresh one if clips remain."""
        slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        slot.task, slot.ready = None, False
        if pending:
            new = start()
            slot.process, slot.conn = new.process, new.conn
        else:
            slot.ready = True  # nothing left to do: an idle slot

    def fail(slot: _Slot, reason: str) -> None:
        """Report the worker's clip as a clip error and replace the worker."""
        assert slot.task is not None
        index, path = slot.task
        on_result(ClipResult(index, path, "error", f"{path}: {reason}"))
        replace(slot)

    def busy(slot: _Slot) -> bool:
        return slot.task is not None or not slot.ready

    try:
        slots.extend(start() for _ in range(min(jobs, len(tasks))))
        while pending or any(s.task is not None for s in slots):
            ready = wait([s.conn for s in slots if busy(s)], timeout=0.2)
            for slot in slots:
                if not slot.ready and slot.conn in ready:
                    message = slot.conn.recv()
                    if message[0] == "fatal":
                        raise DriftAuditError(message[2])
                    slot.ready = True
                    assign(slot)
                    continue
                if slot.task is None:
                    continue
                if slot.conn in ready:
                    try:
                        kind, _index, *rest = slot.conn.recv()
                    except EOFError:  # the worker died (segfault, OOM kill)
                        code = slot.process.exitcode
                        fail(slot, f"the decoder crashed (worker exit code {code})")
                        continue
                    if kind == "progress":
                        hook(*rest)
                    elif kind == "fatal":
                        raise DriftAuditError(rest[0])
                    else:
                        on_result(rest[0])
                        assign(slot)
                elif (
                    config.clip_timeout_s
                    and time.monotonic() - slot.started > config.clip_timeout_s
                ):
                    fail(slot, f"timed out after {config.clip_timeout_s:g} s (--clip-timeout)")
    finally:
        for slot in slots:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(None)
        for slot in slots:
            slot.process.join(2)
            if slot.process.is_alive():
                slot.process.kill()
