"""Work ahead in background threads: the next clip's shot pass, and decoding the
sampled frames of this clip while the previous ones are detected."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from drift_audit.config import AuditConfig
from drift_audit.decode.base import DecodedFrame
from drift_audit.decode.registry import backend_order
from drift_audit.run.scan import scan_shots
from drift_audit.types import ClipResult


class ScanAhead:
    """Runs the next clip's pass 1 in a background thread while this clip's faces are
    detected (on a GPU: a second NVDEC session beside the face pass's). Under
    `--decoder auto` it never reads with decord: a live decord reader makes the torch
    work beside it leak (see `open_for_faces`); a clip only decord can open is
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


def read_ahead(frames: Iterator[DecodedFrame], depth: int) -> Iterator[DecodedFrame]:
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
