"""Faults injected into drift-audit for scripts/soak.py, in every process of a run
(the CLI and its spawned workers), chosen by the DRIFT_AUDIT_SOAK_FAULT variable.

soak.py puts this folder on PYTHONPATH, so Python imports this module at start-up;
it patches drift-audit's modules as they are imported and nothing else. Without the
variable it does nothing. It is never installed with the package.

Faults:
    face: the face pass of a clip whose path contains "fault" raises at its 11th
        frame, with the read-ahead thread still reading (a clip error, not a crash).
    model: a worker process's model loading raises RuntimeError (an internal error).
    model_hang: a worker process says `SOAK worker-loading PID` on stderr and sleeps,
        for soak.py to kill it as the OOM killer would.
    write_hang: the first fsync of a report file says `SOAK in-write` on stderr and
        sleeps, for soak.py to kill the run with SIGKILL halfway through the write.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

FAULT = os.environ.get("DRIFT_AUDIT_SOAK_FAULT", "")


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Runs `patch(module)` right after the module `name` is first executed."""

    def __init__(self, name: str, patch: Callable[[ModuleType], None]) -> None:
        self.name, self.patch = name, patch

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader: Any = spec.loader
        real = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            real(module)
            self.patch(module)

        loader.exec_module = exec_module
        return spec


def _in_worker() -> bool:
    import multiprocessing

    return multiprocessing.current_process().name != "MainProcess"


def _face(module: ModuleType) -> None:
    real = module.FacePass.run

    def run(self: Any, frames: Any) -> None:
        if "fault" not in self.result.path:
            return real(self, frames)
        for seen, _frame in enumerate(frames):  # the read-ahead thread is still reading
            if seen == 10:
                raise RuntimeError("soak: injected face-pass fault")
        return None

    module.FacePass.run = run


def _model(module: ModuleType) -> None:
    real = module.Models.load

    def load(self: Any) -> None:
        if _in_worker():
            if FAULT == "model":
                raise RuntimeError("soak: injected model-loading fault")
            sys.stderr.write(f"SOAK worker-loading {os.getpid()}\n")
            sys.stderr.flush()
            time.sleep(120)
        real(self)

    module.Models.load = load


def _write(module: ModuleType) -> None:
    real = module.os.fsync

    def fsync(fd: int) -> None:
        sys.stderr.write("SOAK in-write\n")
        sys.stderr.flush()
        time.sleep(120)
        real(fd)

    module.os = _OsWith(fsync)


class _OsWith:
    """The os module with fsync replaced, for drift_audit.files alone."""

    def __init__(self, fsync: Callable[[int], None]) -> None:
        self.fsync = fsync

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


_PATCHES = {
    "face": ("drift_audit.run.faces", _face),
    "model": ("drift_audit.run.models", _model),
    "model_hang": ("drift_audit.run.models", _model),
    "write_hang": ("drift_audit.files", _write),
}

if FAULT in _PATCHES:
    sys.meta_path.insert(0, _PatchAfterImport(*_PATCHES[FAULT]))
elif FAULT:
    raise SystemExit(f"sitecustomize: unknown DRIFT_AUDIT_SOAK_FAULT {FAULT!r}")
