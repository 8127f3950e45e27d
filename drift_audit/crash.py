"""An unexpected exception (a bug): one line on stderr, the traceback in a log file
that the line names, and exit code 3, never 1 (the findings code).

Standard library only: this runs when anything else may be what broke (the entry point
calls it when even the command line fails to import).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

EXIT_INTERNAL = 3  # cli_output.EXIT_INTERNAL; repeated so that nothing is imported

_PREFIX = "drift-audit-crash-"
KEEP_LOGS = 20
"""Crash logs kept in the log folder; older ones are removed when a new one is written."""


def log_dir() -> Path:
    """Where crash logs go: `logs/` in the analysis cache folder ($DRIFT_AUDIT_CACHE,
    else $XDG_CACHE_HOME/drift-audit, else ~/.cache/drift-audit: the rule of
    cache.default_dir, which imports numpy)."""
    env = os.environ.get("DRIFT_AUDIT_CACHE")
    if env:
        return Path(env) / "logs"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drift-audit" / "logs"


def report(exc: BaseException, argv: list[str] | None = None) -> int:
    """Say that drift-audit failed with a bug, in one line on stderr, and write the
    traceback to a new log file (in `log_dir()`, else the temporary folder).

    Returns:
        EXIT_INTERNAL, the exit code for the caller to exit with.
    """
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(summary) > 300:
        summary = summary[:297] + "..."
    where = _write_log(exc, sys.argv[1:] if argv is None else argv)
    line = f"drift-audit: internal error: {summary} ({where}; please report it)\n"
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is closed: the exit code still says what happened
    return EXIT_INTERNAL


def _write_log(exc: BaseException, argv: list[str]) -> str:
    """The log's path in words ("traceback in PATH"), or why none was written."""
    try:
        from drift_audit import __version__ as version
    except Exception:
        version = "?"
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "? (removed)"
    text = "".join(
        [
            f"drift-audit {version} internal error, {time.strftime('%Y-%m-%d %H:%M:%S')}\n",
            f"python {platform.python_version()} on {platform.platform()}\n",
            f"arguments: {argv!r}\n",
            f"working folder: {cwd}\n\n",
            *traceback.format_exception(exc),
        ]
    )
    name = f"{_PREFIX}{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    problems = []
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with open(path, "x", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(text)
        except OSError as err:
            problems.append(f"{folder}: {err.strerror or err}")
            continue
        _prune(folder)
        return f"traceback in {path}"
    return "no traceback log written: " + "; ".join(problems)


def _prune(folder: Path) -> None:
    try:
        logs = sorted(folder.glob(f"{_PREFIX}*.log"), key=lambda p: p.stat().st_mtime)
        for old in logs[:-KEEP_LOGS]:
            old.unlink()
    except OSError:
        pass  # another run pruned them first, or the folder is read-only now
