"""Clips in flight side by side in one process: the next clip's decode and detection run
beside this one's (`AuditConfig.lanes` threads, sharing one set of models).

Torch runs one thread per call here (`--threads`), and decoding, torch and most of
OpenCV release the GIL, so two lanes keep two cores busy without OpenMP's busy
waiting, which made two torch threads up to 10x slower on a loaded machine.

What FFmpeg prints names no clip, so a clip's damage count (pass 1) must see only its
own lines: a lane holds `native` while it scans a clip (its open and pass 1), and
through the face pass of a clip whose pass 1 reported damage. A clean clip decodes
again without a line, so its face pass runs beside anything. A clip that the scan
cannot read without decord waits until the lanes are done and is analysed alone: a live
decord reader makes torch work beside it leak (`run.clip.open_for_faces`).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from drift_audit import interrupts
from drift_audit.config import AuditConfig
from drift_audit.errors import InputError
from drift_audit.progress import ProgressHook
from drift_audit.run.clip import Scan, analyse_clip, keeper_for
from drift_audit.run.deadline import Deadline, Stopped
from drift_audit.run.engine import analyse_safely, run_here
from drift_audit.run.models import Models
from drift_audit.run.prefetch import scan_decoder
from drift_audit.run.scan import scan_shots
from drift_audit.types import ClipResult


class _Alone(BaseException):
    """This clip needs decord: analysed after the lanes, with nothing beside it."""


class Lanes:
    """The clips, handed out in order to `lanes` threads; results go to a queue that the
    calling thread drains (`run`)."""

    def __init__(
        self, tasks: list[tuple[int, Path]], config: AuditConfig, models: Models, hook: ProgressHook
    ) -> None:
        self.config, self.models, self.hook = config, models, hook
        self.todo = deque(tasks)
        self.alone: list[tuple[int, Path]] = []
        self.results: queue.Queue[ClipResult] = queue.Queue()
        self.native = threading.Lock()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self._lock = threading.Lock()

    def lane(self) -> None:
        """One lane's loop: the next clip in order, until none is left or the run stops."""
        while not self.stop.is_set():
            with self._lock:
                if not self.todo:
                    return
                index, path = self.todo.popleft()
            try:
                self.results.put(self.analyse(index, path))
            except _Alone:
                with self._lock:
                    self.alone.append((index, path))
            except Stopped:
                return
            except BaseException as exc:  # fatal for the run: handed to the caller
                with self._lock:
                    self.failure = self.failure or exc
                self.stop.set()
                return

    def analyse(self, index: int, path: Path) -> ClipResult:
        config, models = self.config, self.models
        deadline = Deadline(str(path), config.clip_timeout_s, self.stop)
        self.hook(f"clip {index}", 0, 0)
        held = contextlib.ExitStack()

        def scanned() -> Scan:
            keeper = keeper_for(config, models)
            with self.native:
                try:
                    result = scan_shots(
                        index, path, config, models.device, self.hook, deadline,
                        decoder=scan_decoder(config, models.device), keeper=keeper,
                    )  # fmt: skip
                except InputError:
                    if config.decoder != "auto":
                        raise
                    raise _Alone from None
            return result, keeper

        def damaged(result: ClipResult) -> None:
            if result.decode_errors:  # its face pass may print damage again
                held.enter_context(self.native)

        def analyse(i: int, p: Path, h: ProgressHook) -> ClipResult:
            return analyse_clip(i, p, config, models, h, scanned, damaged, deadline)

        with held:
            return analyse_safely(analyse, index, path, self.hook)


def run_in_lanes(
    tasks: list[tuple[int, Path]],
    config: AuditConfig,
    models: Models,
    on_result: Callable[[ClipResult], None],
    hook: ProgressHook,
) -> None:
    """Analyse `tasks` in `config.lanes` threads of this process; each result goes to
    `on_result`, called in this thread. Every lane has ended before this returns,
    whatever ends the run (a signal, a model that cannot load)."""
    models.load()  # here: two lanes must not both build them
    lanes = Lanes(tasks, config, models, hook)
    with _running(lanes, min(config.lanes, len(tasks))) as threads:
        while any(t.is_alive() for t in threads) or not lanes.results.empty():
            with contextlib.suppress(queue.Empty):
                on_result(lanes.results.get(timeout=0.1))
            interrupts.check()
    if lanes.failure is not None:
        raise lanes.failure
    if lanes.alone:
        run_here(sorted(lanes.alone), config, models, on_result, hook)


@contextlib.contextmanager
def _running(lanes: Lanes, n: int) -> Iterator[list[threading.Thread]]:
    """The lane threads, started; on the way out the run is stopped and they are joined."""
    threads = [
        threading.Thread(target=lanes.lane, name=f"drift-audit-lane-{k}", daemon=True)
        for k in range(n)
    ]
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        if any(t.is_alive() for t in threads):
            lanes.stop.set()
        for thread in threads:
            thread.join()
