"""A clip's time budget (`--clip-timeout`), checked at safe points of its analysis."""

from __future__ import annotations

import threading
import time

from drift_audit.errors import InputError


class Stopped(BaseException):  # not an Exception: no clip-error handler turns it into one
    """The run is ending (another clip's fatal error, an interrupt): this clip's analysis
    stops at its next safe point, and is reported by no one."""


class Deadline:
    """Raises InputError from `check()` once `seconds` have passed (0: never), and
    Stopped once `stop` is set."""

    def __init__(self, path: str, seconds: float, stop: threading.Event | None = None) -> None:
        self.path, self.seconds, self.stop = path, seconds, stop
        self.start = time.monotonic()

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise Stopped(self.path)
        if self.seconds and time.monotonic() - self.start > self.seconds:
            raise InputError(self.path, f"timed out after {self.seconds:g} s (--clip-timeout)")
