"""The frame source backends by name, and opening a clip with the first that reads it.

Like PySceneDetect's `scenedetect.backends`, the backends available are those whose
module imports here; unlike it, each is imported only when first asked for, so that
the names (config validation, the command line's choices) cost nothing to read.
"""

from __future__ import annotations

import functools
import importlib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from drift_audit.decode.base import FrameSource, check_readable
from drift_audit.decode.native import NativeStderr
from drift_audit.decode.still_files import DEFAULT_FPS, is_still
from drift_audit.device import on_gpu
from drift_audit.errors import ConfigError, InputError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Backend:
    """A frame source backend, imported on first use.

    Attributes:
        source: "module:Class" of its FrameSource subclass; every backend takes the
            same arguments, (path, device, keep_on_device).
        missing: the ConfigError's message when it is asked for by name and does not
            import here ("": the generic one, which lists the backends that do).
    """

    source: str
    missing: str = ""


BACKENDS: dict[str, Backend] = {
    "decord": Backend("drift_audit.decode.decord:DecordSource"),
    "opencv": Backend("drift_audit.decode.opencv:OpenCVSource"),
    "torchcodec": Backend(
        "drift_audit.decode.torchcodec:TorchcodecSource",
        "--decoder torchcodec needs the gpu extra (pip install 'drift-audit[gpu]') and "
        "the system FFmpeg libraries (libavcodec59 ...)",
    ),
}

DECODERS = ("auto", *BACKENDS)
"""Every `--decoder` choice, whether or not its backend imports here."""

STILLS = Backend("drift_audit.decode.stills:StillsSource")
"""Stills and image sequences (decode/stills.py): read by their own source whatever
`--decoder` says, which names a video backend."""


def backend(name: str) -> type[FrameSource] | None:
    """The named backend's FrameSource subclass, or None when it does not import here
    (its library is not installed, or cannot load its native parts)."""
    return _load(BACKENDS[name])


@functools.cache
def _load(spec: Backend) -> type[FrameSource] | None:
    module, _, cls = spec.source.partition(":")
    try:
        with NativeStderr():  # native libraries print while they load
            source: type[FrameSource] = getattr(importlib.import_module(module), cls)
    except Exception:  # ImportError, or a native library that fails to load
        return None
    return source


def available_backends() -> dict[str, type[FrameSource]]:
    """The backends that import here, by name (each imported now, if not yet)."""
    found = {name: backend(name) for name in BACKENDS}
    return {name: source for name, source in found.items() if source is not None}


def backend_order(decoder: str, device: torch.device | None) -> list[str]:
    """Backends to try, in order: the named one, or for `auto` torchcodec first on a
    CUDA device (NVDEC), then OpenCV, then decord.

    OpenCV before decord: a live decord reader makes torch work in the same process
    leak (README, "Known problems"), and the next clip's shot pass runs beside this
    clip's detection; so that every clip is read alike wherever it stands in the list,
    `auto` reads both passes with OpenCV (decord's 160 px shot pass was 1.5x faster on
    the bench set, with the same shots, but runs hidden behind detection anyway).
    """
    if decoder != "auto":
        return [decoder]
    order = ["opencv", "decord"]
    gpu = device is not None and on_gpu(device)
    return (["torchcodec"] if gpu and backend("torchcodec") else []) + order


def open_source(
    path: Path,
    decoder: str = "auto",
    device: torch.device | None = None,
    keep_on_device: bool = False,
    fps: float = DEFAULT_FPS,
) -> FrameSource:
    """Open a clip with the named backend, or with the first one that can read it. A
    still, or a folder (an image sequence), is read by the stills source instead.

    Args:
        device: where a GPU backend decodes (None: the CPU).
        keep_on_device: a backend that decodes on `device` hands frames over as tensors
            there (the GPU face pass); host backends ignore it.
        fps: the frame rate of a still or an image sequence (videos have their own).

    Raises:
        InputError: no backend can read the clip; the reason is the most specific one.
        ConfigError: the named backend is not installed.
    """
    if path.is_dir() or is_still(path):
        return _open_stills(path, device, fps)
    check_readable(path)
    if decoder != "auto" and (decoder not in BACKENDS or backend(decoder) is None):
        raise ConfigError(_missing(decoder))
    alias_dir = _alias_dir(path)
    target = Path(alias_dir.name) / f"clip{path.suffix}" if alias_dir else path
    if alias_dir:
        os.symlink(os.path.abspath(path), target)
    errors: list[InputError] = []
    for name in backend_order(decoder, device):
        source_class = backend(name)
        if source_class is None:  # `auto` passes over a backend that does not import
            continue
        try:
            source = source_class(target, device, keep_on_device)
        except InputError as exc:
            errors.append(InputError(str(path), exc.reason))
            continue
        source.alias_dir = alias_dir
        source.info = replace(source.info, path=str(path))
        return source
    if alias_dir:
        alias_dir.cleanup()
    raise _most_specific(errors) if errors else ConfigError(_missing(decoder))


def _open_stills(path: Path, device: torch.device | None, fps: float) -> FrameSource:
    if not path.is_dir():
        check_readable(path)
    source_class = _load(STILLS)
    if source_class is None:
        raise ConfigError("stills need OpenCV (opencv-python-headless), which does not import")
    return source_class(path, device, False, fps=fps)  # type: ignore[call-arg]


def _missing(decoder: str) -> str:
    spec = BACKENDS.get(decoder)
    if spec is not None and spec.missing:
        return spec.missing
    installed = ", ".join(available_backends())
    return f"--decoder {decoder} is not available here (installed: {installed})"


def _most_specific(errors: list[InputError]) -> InputError:
    """A named codec says more than "no video stream", which says more than OpenCV's
    catch-all "not a readable video"."""
    codec = [e for e in errors if e.reason.startswith("unsupported codec")]
    named = [e for e in errors if not e.reason.startswith("not a readable video")]
    return (codec or named or errors)[0]


def _alias_dir(path: Path) -> tempfile.TemporaryDirectory[str] | None:
    """A temporary folder for an ASCII-named link to `path` when its name is not valid
    UTF-8: decord refuses such names and OpenCV crashes on them."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return tempfile.TemporaryDirectory(prefix="drift-audit-")
    return None
