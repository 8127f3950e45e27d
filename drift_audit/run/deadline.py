"""A clip's time budget (`--clip-timeout`), checked at safe points of its analysis."""

from __future__ import annotations

import time

from drift_audit.errors import InputError


class Deadline:
    """Raises InputError from `check()` once `seconds` have passed (0: never)."""

    def __init__(self, path: str, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.start = time.monotonic()

    def check(self) -> None:
        if self.seconds and time.monotonic() - self.start > self.seconds:
            raise InputError(self.path, f"timed out after {self.seconds:g} s (--clip-timeout)")
