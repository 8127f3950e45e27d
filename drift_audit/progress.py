"""Progress and timing hooks: how the pipeline says what it is doing and how long it took.

Modelled on pyannote-audio's `ProgressHook` and `TimingHook`: the pipeline calls a
progress hook as work advances (cli.py turns it into a progress bar, or nothing), and
times its stages with one `Timings` per clip instead of collecting seconds by hand.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

_STAGE = re.compile(r"clip (\d+)(?:: (\w+))?$")
_SHARE = {"shots": (0.0, 0.3), "faces": (0.3, 0.7)}  # (start, share) of a clip's work


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


def clock_text(seconds: float) -> str:
    """M:SS, or H:MM:SS from an hour."""
    s = max(0, round(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


class ProgressLine:
    """The progress hook's calls as one line of plain text, readable without colour:
    "clip 2 of 5 · faces · frame 120/300 [#####.......] 38% · ETA 0:21".

    A clip's shot pass counts as 30 % of its work and its face pass as 70 %; clips
    served from the cache report nothing, so the ETA assumes each clip not done yet
    still needs the average time (it can only come early).

    Args:
        n_clips: the clips of the run.
        clock: seconds, monotonic (a parameter for tests).
    """

    BAR = 12

    def __init__(self, n_clips: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.n_clips, self.clock = max(1, n_clips), clock
        self.start = clock()
        self.done: dict[int, float] = {}  # clip index -> fraction of its work done
        self.text = "starting"

    def update(self, stage: str, completed: int, total: int) -> str:
        """The line after the hook call `hook(stage, completed, total)`."""
        match = _STAGE.match(stage)
        if match is None:
            self.text = stage
            return self.text
        index, part = int(match[1]), match[2]
        first, share = _SHARE.get(part or "", (0.0, 0.0))
        frac = first + share * (min(completed / total, 1.0) if total > 0 else 0.0)
        self.done[index] = max(self.done.get(index, 0.0), frac)
        overall = min(sum(self.done.values()) / self.n_clips, 1.0)
        parts = [f"clip {index} of {self.n_clips}"]
        if part:
            parts.append(part)
        if total > 0:
            parts.append(f"frame {completed}/{total}")
        filled = round(overall * self.BAR)
        line = " · ".join(parts) + f" [{'#' * filled}{'.' * (self.BAR - filled)}] {overall:.0%}"
        elapsed = self.clock() - self.start
        if overall >= 0.02 and elapsed >= 2.0:
            line += f" · ETA {clock_text(elapsed * (1 - overall) / overall)}"
        self.text = line
        return line


class TerminalProgress:
    """A ProgressLine redrawn in place on a terminal, at most `hz` times a second, and
    erased by `close()` so that what is printed next starts on a clean line.

    Args:
        n_clips: the clips of the run.
        write: writes text to the terminal and flushes it.
        columns: the terminal's width, asked before each redraw.
    """

    def __init__(
        self,
        n_clips: int,
        write: Callable[[str], None],
        columns: Callable[[], int],
        hz: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.line = ProgressLine(n_clips, clock)
        self.write, self.columns, self.clock = write, columns, clock
        self.interval, self.last = 1.0 / hz, -1e9
        self.shown = False

    def __call__(self, stage: str, completed: int, total: int, /) -> None:
        text = self.line.update(stage, completed, total)
        now = self.clock()
        if now - self.last < self.interval and 0 < completed < total:
            return
        self.last = now
        self.write("\r" + text[: max(1, self.columns() - 1)] + "\x1b[K")
        self.shown = True

    def close(self) -> None:
        """Erase the line (only if one was drawn)."""
        if self.shown:
            self.write("\r\x1b[K")
            self.shown = False
