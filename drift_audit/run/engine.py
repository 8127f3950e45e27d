"""Runs the per-clip analysis: from the cache, in this process, or in worker processes.

Worker processes are used when clips run in parallel (`--jobs`) or under a time
budget (`--clip-timeout`): a decode stuck inside native code cannot be interrupted
from Python, but its process can be killed, which turns the clip into a clip error
and lets the run go on with a fresh worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drift_audit.errors import DriftAuditError, InputError
from drift_audit.progress import ProgressHook
from drift_audit.types import ClipResult

Analyse = Callable[[int, Path, ProgressHook], ClipResult]


def analyse_safely(analyse: Analyse, index: int, path: Path, hook: ProgressHook) -> ClipResult:
    """analyse(), with every per-clip failure turned into a clip error entry."""
    try:
        return analyse(index, path, hook)
    except InputError as exc:
        return ClipResult(index, str(path), "error", str(exc))
    except (DriftAuditError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # a decoder bug on one clip must not lose the others
        reason = f"could not be analysed ({type(exc).__name__}: {str(exc)[:200]})"
        return ClipResult(index, str(path), "error", f"{path}: {reason}")
