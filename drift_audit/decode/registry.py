"""The frame source backends by name, and opening a clip with the first that reads it."""

from __future__ import annotations

import functools
import importlib.util
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from drift_audit.decode.base import FrameSource, check_readable
from drift_audit.decode.decord import DecordSource
from drift_audit.decode.native import NativeStderr
from drift_audit.decode.opencv import OpenCVSource
from drift_audit.device import on_gpu
from drift_audit.errors import ConfigError, InputError

if TYPE_CHECKING:
    import torch

BACKENDS: dict[str, type[FrameSource]] = {"decord": DecordSource, "opencv": OpenCVSource}


@functools.cache
def torchcodec_source() -> type[FrameSource] | None:
    """The torchcodec backend when its package is installed (the `[gpu]` extra) and
    loads (it needs the system FFmpeg libraries); None otherwise."""
    if importlib.util.find_spec("torchcodec") is None:
        return None
    try:
        with NativeStderr():
            import torchcodec.decoders  # noqa: F401
            from torchcodec._core import ops

            from drift_audit.decode.torchcodec import TorchcodecSource
    except Exception:
        return None
    # torchcodec imports without FFmpeg and fails only when a clip is opened.
    return TorchcodecSource if getattr(ops, "_FFMPEG_AVAILABLE", True) else None


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
    return (["torchcodec"] if gpu and torchcodec_source() else []) + order


def open_source(
    path: Path,
    decoder: str = "auto",
    device: torch.device | None = None,
    keep_on_device: bool = False,
) -> FrameSource:
    """Open a clip with the named backend, or with the first one that can read it.

    Args:
        device: where a GPU backend decodes (None: the CPU).
        keep_on_device: a backend that decodes on `device` hands frames over as tensors
            there (the GPU face pass); host backends ignore it.

    Raises:
        InputError: no backend can read the clip; the reason is the most specific one.
        ConfigError: the named backend is not installed.
    """
    check_readable(path)
    if decoder == "torchcodec" and torchcodec_source() is None:
        raise ConfigError(
            "--decoder torchcodec needs the gpu extra (pip install "
            "'drift-audit[gpu]') and the system FFmpeg libraries (libavcodec59 ...)"
        )
    if decoder not in ("auto", "torchcodec") and decoder not in BACKENDS:
        raise ConfigError(
            f"--decoder {decoder} is not available here (installed: {', '.join(BACKENDS)})"
        )
    alias_dir = _alias_dir(path)
    target = Path(alias_dir.name) / f"clip{path.suffix}" if alias_dir else path
    if alias_dir:
        os.symlink(os.path.abspath(path), target)
    errors: list[InputError] = []
    for name in backend_order(decoder, device):
        try:
            if name == "torchcodec":
                source = torchcodec_source()(target, device, keep_on_device)  # type: ignore[misc, call-arg]
            else:
                source = BACKENDS[name](target)
        except InputError as exc:
            errors.append(InputError(str(path), exc.reason))
            continue
        source.alias_dir = alias_dir
        source.info = replace(source.info, path=str(path))
        return source
    if alias_dir:
        alias_dir.cleanup()
    # The most specific reason wins: a named codec says more than "no video stream",
    # which says more than OpenCV's catch-all "not a readable video".
    codec = [e for e in errors if e.reason.startswith("unsupported codec")]
    named = [e for e in errors if not e.reason.startswith("not a readable video")]
    raise (codec or named or errors)[0]


def _alias_dir(path: Path) -> tempfile.TemporaryDirectory[str] | None:
    """A temporary folder for an ASCII-named link to `path` when its name is not valid
    UTF-8: decord refuses such names and OpenCV crashes on them."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return tempfile.TemporaryDirectory(prefix="drift-audit-")
    return None
