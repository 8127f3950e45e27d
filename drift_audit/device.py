"""Where the models run: the device resolved once, and what follows from it.

`resolve()` turns `--device` into a `torch.device` once per process; everything
downstream (frame sources, the detector, the embedders) receives that object and asks
only `on_gpu()` and `half_precision()` about it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from drift_audit.errors import ConfigError

if TYPE_CHECKING:
    import torch


def resolve(name: str) -> torch.device:
    """`--device` ("auto", "cpu", "cuda") -> a torch.device.

    Raises:
        ConfigError: "cuda" was asked for and torch sees no CUDA device.
    """
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


GPU_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")
"""Device files that a CUDA (or ROCm, or WSL's CUDA) GPU comes with: without any of
them torch cannot see one."""


def surely_host(name: str) -> bool:
    """Whether `--device name` resolves to the CPU, told without importing torch:
    "cpu", or "auto" on a machine with no GPU device file (`GPU_NODES`). False means
    only that `resolve` must be asked."""
    return name == "cpu" or (name == "auto" and not any(os.path.exists(n) for n in GPU_NODES))


def on_gpu(device: torch.device) -> bool:
    """Whether `device` is a GPU: the one question the pipeline asks of it."""
    return device.type == "cuda"


def half_precision(device: torch.device) -> bool:
    """Whether networks run in float16 on `device`: on a GPU only. On the CPU float16
    is slower, and tests run that path there to check it finds the same faces."""
    return on_gpu(device)


def set_threads(device: torch.device, threads: int) -> None:
    """Torch's CPU threads, set once per process before any model is built."""
    if not on_gpu(device):
        import torch

        torch.set_num_threads(threads)
