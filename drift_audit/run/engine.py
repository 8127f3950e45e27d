"""Runs the per-clip analysis: in this process, in turn (`run_here`) or side by side
(`run.lanes`), or in worker processes (`run.workers`), or on a Ray cluster (`run.ray`).

Worker processes are used when clips run in parallel (`--jobs`) or under a time
budget (`--clip-timeout`): a decode stuck inside native code cannot be interrupted
from Python, but its process can be killed, which turns the clip into a clip error
and lets the run go on with a fresh worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from drift_audit import interrupts
from drift_audit.config import AuditConfig
from drift_audit.errors import DriftAuditError, InputError
from drift_audit.progress import ProgressHook
from drift_audit.types import ClipResult

if TYPE_CHECKING:
    from drift_audit.run.clip import Scan
    from drift_audit.run.models import Models

Analyse = Callable[[int, Path, ProgressHook], ClipResult]
Scanned = Callable[[], "Scan"]


def analyse_safely(analyse: Analyse, index: int, path: Path, hook: ProgressHook) -> ClipResult:
    """analyse(), with every per-clip failure turned into a clip error entry."""
    try:
        return analyse(index, path, hook)
    except InputError as exc:
        return ClipResult(index, str(path), "error", str(exc))
    except (DriftAuditError, MemoryError):
        raise
    except Exception as exc:  # a decoder bug on one clip must not lose the others
        reason = f"could not be analysed ({type(exc).__name__}: {str(exc)[:200]})"
        return ClipResult(index, str(path), "error", f"{path}: {reason}")


def run_here(
    tasks: list[tuple[int, Path]],
    config: AuditConfig,
    models: Models,
    on_result: Callable[[ClipResult], None],
    hook: ProgressHook,
) -> None:
    """Analyse `tasks` in turn in this process; each result goes to `on_result`.

    The next clip's shot pass runs in a background thread beside this clip's face
    pass (`ScanAhead`); that thread is stopped and joined before this returns, even
    when an interrupt or an error ends the run early.

    It starts once this clip's shot pass is done, and only when the decoder reported
    no damage there: FFmpeg's lines name no clip, so a scan beside a face pass that
    prints damage would count it as its own (the next clip is scanned in turn then).
    """
    from drift_audit.run.clip import analyse_clip, keeper_for
    from drift_audit.run.prefetch import ScanAhead

    ahead: ScanAhead | None = None
    try:
        for k, (index, path) in enumerate(tasks):
            interrupts.check()
            hook(f"clip {index}", 0, 0)
            mine, ahead = ahead, None
            scanned = mine.result if mine is not None else None
            following = tasks[k + 1] if k + 1 < len(tasks) else None

            def scan_next(
                result: ClipResult, following: tuple[int, Path] | None = following
            ) -> None:
                nonlocal ahead
                if following is not None and not result.decode_errors:
                    ahead = ScanAhead(
                        *following, config, models.decode_device, keeper_for(config, models)
                    )

            def analyse(
                i: int,
                p: Path,
                h: ProgressHook,
                scanned: Scanned | None = scanned,
                scan_next: Callable[[ClipResult], None] = scan_next,
            ) -> ClipResult:
                return analyse_clip(i, p, config, models, h, scanned, scan_next)

            on_result(analyse_safely(analyse, index, path, hook))
    finally:
        if ahead is not None:
            ahead.close()
