"""Work ahead in background threads: the next clip's shot pass, and decoding this
clip's sampled frames while the ones before are detected.

Both threads end before their owner returns, whatever happens: each has a stop event
that its loop checks between frames, and is joined in a `finally`. A daemon thread left
inside native decoding code when the interpreter shuts down is killed with a forced
unwind, which aborts the process through OpenCV's `noexcept` GIL guard (issue 10).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from drift_audit.config import AuditConfig
from drift_audit.decode.base import DecodedFrame
from drift_audit.decode.registry import backend_order
from drift_audit.run.scan import scan_shots
from drift_audit.types import ClipResult

if TYPE_CHECKING:
    import torch

    from drift_audit.run.keep import FrameKeeper

T = TypeVar("T")


class InThread(Generic[T]):
    """`work()` in a thread of its own: `result()` waits for it and returns or raises
    what it did; `join()` waits for it. Whoever starts one ends it with either."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._outcome: T | BaseException | None = None

        def run() -> None:
            try:
                self._outcome = work()
            except BaseException as exc:  # handed over in result()
                self._outcome = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def result(self) -> T:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome  # type: ignore[return-value]

    def join(self) -> None:
        self._thread.join()


class ScanAhead:
    """Runs the next clip's pass 1 in a background thread while this clip's faces are
    detected (on a GPU: a second NVDEC session beside the face pass's). Under
    `--decoder auto` it never reads with decord: a live decord reader makes the torch
    work beside it leak (see `run.clip.open_for_faces`); a clip only decord can open
    is scanned again in turn.

    `result()` waits for the scan and returns it with `keeper` (which it fed); `close()`
    stops and joins it (always call one).
    """

    def __init__(
        self,
        index: int,
        path: Path,
        config: AuditConfig,
        device: torch.device | None,
        keeper: FrameKeeper | None = None,
    ) -> None:
        decoder = scan_decoder(config, device)
        self._stop = threading.Event()
        self._keeper = keeper
        self._scan = InThread(
            lambda: scan_shots(
                index, path, config, device, decoder=decoder, stop=self._stop, keeper=keeper
            ),
            "drift-audit-scan",
        )

    def result(self) -> tuple[ClipResult, FrameKeeper | None]:
        return self._scan.result(), self._keeper

    def close(self) -> None:
        """Stop the scan (within a few frames) and wait for its thread to end."""
        self._stop.set()
        self._scan.join()


def scan_decoder(config: AuditConfig, device: torch.device | None) -> str:
    """The decoder of a shot pass that runs beside torch work: under `--decoder auto`
    torchcodec on a GPU, else OpenCV, never decord."""
    if config.decoder != "auto":
        return config.decoder
    return next(b for b in backend_order(config.decoder, device) if b != "decord")


def read_ahead(frames: Iterator[DecodedFrame], depth: int) -> Generator[DecodedFrame, None, None]:
    """Decode in a background thread while the caller detects: decoders and torch
    release the GIL, so the two overlap on two cores. At most `depth` frames wait.

    Close the returned generator (`contextlib.closing`) before closing the frame
    source: closing stops the producer and joins it, so no decode call is still
    running when the source releases its decoder.
    """
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
            # The source's generator ends here, in this thread, not later in a GC.
            with contextlib.suppress(Exception):
                frames.close()  # type: ignore[attr-defined]
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
