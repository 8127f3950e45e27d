"""Progress and timing hooks: how the pipeline says what it is doing and how long it took.

Modelled on pyannote-audio's `ProgressHook` and `TimingHook`: the pipeline calls a
progress hook as work advances (cli.py turns it into a progress bar, or nothing), and
times its stages with one `Timings` per clip instead of collecting seconds by hand.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class ProgressHook(Protocol):
    """hook(stage, completed, total): called as work advances; total 0 means unknown."""

    def __call__(self, stage: str, completed: int, total: int, /) -> None: ...


def no_progress(stage: str, completed: int, total: int, /) -> None:
    """The hook of a run nobody watches."""


class Timings:
    """Seconds spent per stage, summed over every time the stage ran.

    `with timings.stage("embed"): ...` adds the block's wall time to "embed".
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        tick = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - tick)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def merge(self, other: dict[str, float]) -> None:
        for name, seconds in other.items():
            self.add(name, seconds)
