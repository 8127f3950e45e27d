"""The lanes' shot passes in a process of their own, forked at the start of the run,
before torch loads (`pipeline._scans_ahead`).

A shot pass is a Python loop over every frame, and each frame takes the GIL a few
dozen times between OpenCV calls. Beside a thread that holds the GIL for seconds
(importing torch: about 3.5 s of one core, at the start of every run) it ran 3-4x
slower (measured: a 1080p clip's decode 1.0 s alone, 3.5 s beside a pure-Python
loop), so the first clips were scanned while one core waited. Here the scans run in a
child process with a GIL of its own: they overlap torch's import, and later the face
passes, on the other core.

The child scans the clips in the lanes' order, at most `AHEAD` clips before the lanes
take them, and keeps the full-size frames the face pass will want as the in-process
scan does (`run.keep`). It hands each clip's `ClipResult` back through a pipe and the
kept frames through one shared anonymous mapping (one clip's frames at a time), which a
thread here copies out at once. The report is the same byte for byte: the same code
reads the same frames.

Like every OpenCV decode here, the child's uses one FFmpeg thread (`OpenCVSource.threads`).
What the child's decoder prints goes to the child's own stderr, so a clip's damage
count is its own (no `NativeGate` turn). If the child dies, the clips it did not hand
back are scanned here, as without it.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drift_audit import interrupts
from drift_audit.config import AuditConfig
from drift_audit.decode.base import DecodedFrame
from drift_audit.decode.native import NativeStderr
from drift_audit.run.keep import KEEP_BYTES, FrameKeeper
from drift_audit.run.scan import scan_shots
from drift_audit.types import ClipResult

if TYPE_CHECKING:
    from drift_audit.run.models import Models

AHEAD = 3
"""Clips the child may have scanned that no lane has taken yet: enough to scan through
torch's import on short clips, few enough to bound the frames held (<= 192 MB each)."""

Shape = tuple[int, float, int, tuple[int, ...]]
"""A kept frame in the shared mapping: its index, time, frames lost before it, shape."""

POLL_S = 0.1
"""How often the child, waiting for a lane or the mapping, looks whether to stop."""


@dataclass
class Kept:
    """The frames the child kept for a clip's face pass (`FrameKeeper.wanted`, computed
    there once the shots were known), copied out of the shared mapping."""

    frames: list[DecodedFrame]

    def wanted(self, result: ClipResult) -> list[DecodedFrame]:
        return self.frames


ENABLED = True
"""Tests that watch the scans in this process's threads turn it off."""


def usable(config: AuditConfig, models: Models) -> bool:
    """Whether the lanes' scans can run in a child: a fork (Linux), no GPU
    (`devices.surely_host`, asked first: it needs no torch), and a host run whose scans
    keep frames (OpenCV)."""
    from drift_audit.device import surely_host

    return (
        ENABLED
        and "fork" in multiprocessing.get_all_start_methods()
        and surely_host(config.device)
        and config.decoder in ("auto", "opencv")
        and not models.frames_on_device
    )


def start(
    tasks: Sequence[tuple[int, Path]], config: AuditConfig, models: Models
) -> ScanProcess | None:
    """The child scanning `tasks` in order, where it can be used (`usable`); else None."""
    return ScanProcess(tasks, config) if usable(config, models) else None


class ScanProcess:
    """The child that scans `tasks` in order; `take(index)` hands over each clip's scan."""

    def __init__(self, tasks: Sequence[tuple[int, Path]], config: AuditConfig) -> None:
        context = multiprocessing.get_context("fork")
        self._slot = mmap.mmap(-1, KEEP_BYTES)  # shared with the child, anonymous
        self._free = context.Semaphore(1)  # the mapping holds no clip's frames
        self._permits = context.Semaphore(AHEAD)
        self._stop = context.Event()
        receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child,
            args=(list(tasks), config, sending, self._slot, self._free, self._permits, self._stop),
            name="drift-audit-scans",
            daemon=True,
        )
        self._process.start()
        sending.close()
        self._conn = receiving
        self._done: dict[int, tuple[str, Any]] = {}
        self._cond = threading.Condition()
        self._ended = False
        self._receiver = threading.Thread(
            target=self._receive, name="drift-audit-scans-receiver", daemon=True
        )
        self._receiver.start()

    def take(self, index: int) -> tuple[ClipResult, Kept | None] | None:
        """Clip `index`'s scan, waiting for the child; None when the child ended without
        handing it back (the caller scans it). Raises what the scan raised there."""
        with self._cond:
            self._cond.wait_for(lambda: index in self._done or self._ended)
            entry = self._done.pop(index, None)
        if entry is None:
            return None
        self._permits.release()
        kind, payload = entry
        if kind == "error":
            raise payload
        result, frames = payload
        return result, (Kept(frames) if frames is not None else None)

    def _receive(self) -> None:
        """Reads the child's messages in order; frames are copied out of the mapping
        before the child may write the next clip's."""
        try:
            while True:
                kind, index, payload = self._conn.recv()
                if kind == "scanned":
                    result, shapes = payload
                    frames = self._copy_out(shapes) if shapes is not None else None
                    entry: tuple[str, Any] = ("scanned", (result, frames))
                else:
                    entry = ("error", pickle.loads(payload))
                with self._cond:
                    self._done[index] = entry
                    self._cond.notify_all()
        except (EOFError, OSError):
            pass  # the child ended (or was ended)
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _copy_out(self, shapes: list[Shape]) -> list[DecodedFrame]:
        frames, offset = [], 0
        try:
            for index, time_s, lost, shape in shapes:
                size = int(np.prod(shape))
                image = np.frombuffer(self._slot, np.uint8, size, offset).reshape(shape).copy()
                frames.append(DecodedFrame(index, time_s, image, lost))
                offset += size
        finally:
            self._free.release()
        return frames

    def close(self) -> None:
        """Stop the child (if it still runs) and wait for it and the receiver."""
        self._stop.set()
        for _ in range(AHEAD + 1):  # a child waiting for a lane wakes and sees the stop
            self._permits.release()
        self._free.release()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._receiver.join()
        self._conn.close()
        self._slot.close()


def _child(
    tasks: list[tuple[int, Path]],
    config: AuditConfig,
    conn: Any,
    slot: mmap.mmap,
    free: Any,
    permits: Any,
    stop: Any,
) -> None:
    """The child's loop: each clip scanned as `Lanes.scan_at_gate` scans it here."""
    parent = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to act on
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    interrupts.forget()
    NativeStderr.after_fork()
    try:
        for index, path in tasks:
            if not _acquire(permits, stop, parent):
                return
            try:
                keeper = FrameKeeper(config)
                result = scan_shots(
                    index, path, config, None, decoder="opencv", stop=stop, keeper=keeper
                )
                frames = keeper.wanted(result)
            except Exception as exc:  # the clip's error, raised in the lane that takes it
                conn.send(("error", index, _pickled(exc)))
                continue
            if frames is None:
                conn.send(("scanned", index, (result, None)))
                continue
            if not _acquire(free, stop, parent):
                return
            offset, shapes = 0, []
            for frame in frames:
                image = frame.image
                assert isinstance(image, np.ndarray)
                view = np.frombuffer(slot, np.uint8, image.size, offset).reshape(image.shape)
                view[...] = image
                shapes.append((frame.index, frame.time_s, frame.lost_before, image.shape))
                offset += image.size
            conn.send(("scanned", index, (result, shapes)))
    except (BrokenPipeError, EOFError, OSError):
        pass  # the parent went away
    finally:
        conn.close()


def _acquire(semaphore: Any, stop: Any, parent: int) -> bool:
    """Wait for `semaphore`; False when the run stops first, or the parent is gone (a
    SIGKILL leaves no one to set `stop`: the child must not wait on as an orphan)."""
    while not semaphore.acquire(timeout=POLL_S):
        if stop.is_set() or os.getppid() != parent:
            return False
    return not stop.is_set()


def _pickled(exc: Exception) -> bytes:
    """The exception for the parent to raise (InputError pickles); one that does not
    pickle becomes a RuntimeError with its message."""
    try:
        return pickle.dumps(exc)
    except Exception:
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
