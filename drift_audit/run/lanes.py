"""Clips in flight side by side in one process: the next clip's decode and detection run
beside this one's (`AuditConfig.lanes` threads, sharing one set of models).

Once a lane's clip is scanned, the next clip's shot pass starts in a thread beside its
face pass (one clip ahead at most), and whichever lane is free first takes that clip:
the run's last clip is then scanned while the other lane still works, not after.

Torch runs one thread per call here (`--threads`), and decoding, torch and most of
OpenCV release the GIL, so two lanes keep two cores busy without OpenMP's busy
waiting, which made two torch threads up to 10x slower on a loaded machine.

What FFmpeg prints names no clip, so a clip's damage count (pass 1) must see only its
own lines (`NativeGate`): scans run side by side, and one that read damage while another
ran beside it is done again alone; a clip whose pass 1 reported damage holds the gate
alone through its face pass. A clean clip prints nothing, so its scan is right whatever
ran beside it, and it decodes again without a line, so its face pass runs beside
anything. A clip that the scan cannot read without decord waits until the lanes are
done and is analysed alone: a live decord reader makes torch work beside it leak
(`run.clip.open_for_faces`).
"""

from __future__ import annotations

import contextlib
import functools
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
from drift_audit.run.prefetch import InThread, scan_decoder
from drift_audit.run.scan import scan_shots
from drift_audit.run.scan_process import ScanProcess
from drift_audit.types import ClipResult


class _Alone(BaseException):
    """This clip needs decord: analysed after the lanes, with nothing beside it."""


class _Turn:
    """One scan's time at the gate; `beside`: another scan ran beside it at some point."""

    beside = False


class NativeGate:
    """Who decodes beside whom, as the decoder's stderr is one for the whole process.

    `shared()` turns run side by side (scans), each told whether another ran beside it;
    `alone()` waits for the running turns to end and keeps new ones out (a damaged
    clip's face pass, a scan done again). A waiting `alone()` goes before new turns.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._turns: set[_Turn] = set()
        self._alone = False
        self._waiting = 0  # alone() calls waiting

    @contextlib.contextmanager
    def shared(self) -> Iterator[_Turn]:
        turn = _Turn()
        with self._cond:
            self._cond.wait_for(lambda: not self._alone and not self._waiting)
            for other in self._turns:
                other.beside = turn.beside = True
            self._turns.add(turn)
        try:
            yield turn
        finally:
            with self._cond:
                self._turns.discard(turn)
                self._cond.notify_all()

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            try:
                self._cond.wait_for(lambda: not self._alone and not self._turns)
            finally:
                self._waiting -= 1
            self._alone = True
        try:
            yield
        finally:
            with self._cond:
                self._alone = False
                self._cond.notify_all()


class Lanes:
    """The clips, handed out in order to `lanes` threads; results go to a queue that the
    calling thread drains (`run`)."""

    def __init__(
        self,
        tasks: list[tuple[int, Path]],
        config: AuditConfig,
        models: Models,
        hook: ProgressHook,
        scans: ScanProcess | None = None,
    ) -> None:
        self.config, self.models, self.hook = config, models, hook
        self.scans = scans  # the shot passes' child process, if any
        self.todo = deque(tasks)
        self.alone: list[tuple[int, Path]] = []
        self.results: queue.Queue[ClipResult] = queue.Queue()
        self.gate = NativeGate()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.ahead: tuple[int, Path, InThread[Scan]] | None = None  # the next clip, scanning
        self._lock = threading.Lock()

    def lane(self) -> None:
        """One lane's loop: the clip scanned ahead if there is one, else the next clip in
        order, until none is left or the run stops."""
        while not self.stop.is_set():
            with self._lock:
                if self.ahead is not None:
                    index, path, ahead = self.ahead
                    self.ahead = None
                elif self.todo:
                    (index, path), ahead = self.todo.popleft(), None
                else:
                    return
            try:
                self.results.put(self.analyse(index, path, ahead))
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

    def analyse(self, index: int, path: Path, ahead: InThread[Scan] | None = None) -> ClipResult:
        """One clip, its shot pass done here or taken from `ahead`."""
        config = self.config
        deadline = Deadline(str(path), config.clip_timeout_s, self.stop)
        self.hook(f"clip {index}", 0, 0)
        held = contextlib.ExitStack()

        def scanned() -> Scan:
            return ahead.result() if ahead is not None else self.scan_at_gate(index, path, deadline)

        def on_scanned(result: ClipResult) -> None:
            if result.decode_errors:  # its face pass may print damage again
                held.enter_context(self.gate.alone())
            self._scan_next()

        def analyse(i: int, p: Path, h: ProgressHook) -> ClipResult:
            return analyse_clip(i, p, config, self.models, h, scanned, on_scanned, deadline)

        with held:
            return analyse_safely(analyse, index, path, self.hook)

    def _scan_next(self) -> None:
        """The next clip's shot pass, started now in a thread beside this clip's face
        pass (at most one ahead): whichever lane is free first takes it, so the run's
        last clip no longer scans while the other lane waits."""
        with self._lock:
            if self.scans is not None:
                return  # the child process scans ahead of the lanes
            if self.ahead is not None or not self.todo or self.stop.is_set():
                return
            index, path = self.todo.popleft()
            deadline = Deadline(str(path), self.config.clip_timeout_s, self.stop)
            work = functools.partial(self.scan_at_gate, index, path, deadline)
            self.ahead = (index, path, InThread(work, "drift-audit-scan-ahead"))

    def scan_at_gate(self, index: int, path: Path, deadline: Deadline) -> Scan:
        """One clip's pass 1, at the gate: done again alone when what it read of the
        decoder's stderr may be another clip's.

        Raises:
            _Alone: `--decoder auto` and the scan cannot read it (it needs decord).
        """
        config, models = self.config, self.models
        if self.scans is not None:
            try:
                handed = self.scans.take(index)
            except InputError:
                if config.decoder != "auto":
                    raise
                raise _Alone from None
            if handed is not None:
                frames = handed[0].frames_read
                self.hook(f"clip {index}: shots", frames, frames)
                return handed
            # The child ended without this clip (it died): scanned here, as without it.

        def scan() -> Scan:
            keeper = keeper_for(config, models)
            try:
                result = scan_shots(
                    index, path, config, models.decode_device, self.hook, deadline,
                    decoder=scan_decoder(config, models.decode_device), keeper=keeper,
                )  # fmt: skip
            except InputError:
                if config.decoder != "auto":
                    raise
                raise _Alone from None
            return result, keeper

        try:
            with self.gate.shared() as turn:
                done = scan()
        except (InputError, _Alone):
            if not turn.beside:
                raise
        else:
            if not (turn.beside and done[0].decode_errors):
                return done
        # What it read of the decoder's stderr may be another clip's: again, alone.
        with self.gate.alone():
            return scan()

    def close_ahead(self) -> None:
        """Stop and join a scan ahead that no lane took (the run is ending)."""
        with self._lock:
            ahead, self.ahead = self.ahead, None
        if ahead is not None:
            ahead[2].join()  # the run's stop event ends its scan early


def run_in_lanes(
    tasks: list[tuple[int, Path]],
    config: AuditConfig,
    models: Models,
    on_result: Callable[[ClipResult], None],
    hook: ProgressHook,
    scans: ScanProcess | None = None,
) -> None:
    """Analyse `tasks` in `config.lanes` threads of this process; each result goes to
    `on_result`, called in this thread. Every lane has ended before this returns,
    whatever ends the run (a signal, a model that cannot load). The lanes start while
    the models may still be loading (`Models.loading`): their shot passes need none.

    `scans`: the child already scanning `tasks` in this order (`scan_process.start`),
    which its owner closes; None: the lanes scan in their own threads.
    """
    lanes = Lanes(tasks, config, models, hook, scans)
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
        if any(t.is_alive() for t in threads) or lanes.ahead is not None:
            lanes.stop.set()
        for thread in threads:
            thread.join()
        lanes.close_ahead()
