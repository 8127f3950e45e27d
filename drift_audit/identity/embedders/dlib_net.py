"""dlib's face ResNet as a torch module, built from the network `dlib_format` reads."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from drift_audit.identity.embedders.dlib_format import (
    CHIP_SIZE,
    LEVELS,
    DlibFormatError,
    DlibLayer,
    DlibNet,
    expected_layout,
    read_dlib_net,
)


class Affine(nn.Module):
    """dlib's affine layer in CONV_MODE: per-channel x * gamma + beta."""

    gamma: torch.Tensor  # (1, C, 1, 1) buffers, declared for the type checker
    beta: torch.Tensor

    def __init__(self, gamma: np.ndarray, beta: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("gamma", torch.from_numpy(gamma).reshape(1, -1, 1, 1))
        self.register_buffer("beta", torch.from_numpy(beta).reshape(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.beta, x, self.gamma)


def _conv(layer: DlibLayer) -> nn.Conv2d:
    a, w = layer.attrs, layer.params["weight"]
    conv = nn.Conv2d(
        w.shape[1],
        a["filters"],
        (a["nr"], a["nc"]),
        stride=(a["stride_y"], a["stride_x"]),
        padding=(a["pad_y"], a["pad_x"]),
        bias=True,
    )
    conv.load_state_dict(
        {"weight": torch.from_numpy(w), "bias": torch.from_numpy(layer.params["bias"])}
    )
    return conv


def _affine(layer: DlibLayer) -> Affine:
    if layer.attrs["mode"] != 0:
        raise DlibFormatError("affine layer in FC_MODE where CONV_MODE was expected")
    return Affine(layer.params["gamma"], layer.params["beta"])


class Pool(NamedTuple):
    """A pooling layer's window, stride and padding, as (rows, columns) pairs."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


def _pool(layer: DlibLayer) -> Pool:
    a = layer.attrs
    return Pool((a["nr"], a["nc"]), (a["stride_y"], a["stride_x"]), (a["pad_y"], a["pad_x"]))


def add_zero_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's tt::add(dest, a, b) for tensors of different (C, H, W): the smaller one
    is zero-padded at the end of each dimension."""
    if a.shape == b.shape:
        return a + b
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def pad(t: torch.Tensor) -> torch.Tensor:
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))

    return pad(a) + pad(b)


class ResUnit(nn.Module):
    """ares / ares_down: relu(block(x) + shortcut(x)), shortcut = x or avg_pool(x)."""

    def __init__(self, layers: list[DlibLayer]) -> None:
        super().__init__()
        self.conv1, self.aff1 = _conv(layers[0]), _affine(layers[1])
        self.conv2, self.aff2 = _conv(layers[3]), _affine(layers[4])
        self.pool = _pool(layers[5]) if layers[5].kind == "avg_pool" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.aff2(self.conv2(F.relu(self.aff1(self.conv1(x)))))
        if self.pool is None:
            return F.relu(y + x)
        p = self.pool
        skip = F.avg_pool2d(x, p.kernel_size, p.stride, p.padding, count_include_pad=False)
        return F.relu(add_zero_padded(y, skip))


class DlibFaceResNet(nn.Module):
    """dlib_face_recognition_resnet_model_v1 as a torch module.

    forward() takes (N, 3, 150, 150) float RGB in 0..255 (dlib chip pixel values) and
    returns the (N, 128) descriptors, unnormalised, exactly as dlib returns them.
    """

    input_mean: torch.Tensor  # (1, 3, 1, 1) buffer, declared for the type checker

    def __init__(self, net: DlibNet) -> None:
        super().__init__()
        kinds, versions = expected_layout()
        got = [layer.kind for layer in net.layers]
        if got != kinds or net.wrapper_versions[:-1] != versions:
            raise DlibFormatError("the file's layers are not dlib's anet_type face network")
        if net.input_size != (CHIP_SIZE, CHIP_SIZE):
            raise DlibFormatError(f"input size {net.input_size}; expected 150x150")
        mean = torch.tensor(net.input_mean, dtype=torch.float32).reshape(1, 3, 1, 1)
        self.register_buffer("input_mean", mean)
        L = net.layers
        self.conv1, self.aff1 = _conv(L[0]), _affine(L[1])
        self.pool1 = _pool(L[3])
        units: list[nn.Module] = []
        i = 4
        for _, n_units, down in LEVELS:
            for u in range(n_units):
                n = 8 if down and u == 0 else 7
                units.append(ResUnit(L[i : i + n]))
                i += n
        self.units = nn.Sequential(*units)
        top_pool, fc = L[i], L[i + 1]
        if top_pool.attrs["nr"] != 0 or top_pool.attrs["nc"] != 0:
            raise DlibFormatError("expected avg_pool_everything before the fc layer")
        if "bias" in fc.params:
            raise DlibFormatError("expected fc_no_bias")
        self.fc = nn.Linear(fc.attrs["inputs"], fc.attrs["outputs"], bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.from_numpy(np.ascontiguousarray(fc.params["weight"].T)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.input_mean) / 256.0
        x = F.relu(self.aff1(self.conv1(x)))
        p = self.pool1
        x = F.max_pool2d(x, p.kernel_size, p.stride, p.padding)
        x = self.units(x)
        return self.fc(x.mean(dim=(2, 3)))


def load_dlib_resnet(path: str | Path) -> DlibFaceResNet:
    """Read `dlib_face_recognition_resnet_model_v1.dat` into an eval-mode torch module."""
    return DlibFaceResNet(read_dlib_net(path)).eval()


def chips_to_tensor(chips: np.ndarray | list[np.ndarray]) -> torch.Tensor:
    """(N, 150, 150, 3) uint8 RGB chips (dlib.get_face_chip) -> (N, 3, 150, 150) float32."""
    arr = np.ascontiguousarray(np.stack(list(chips)) if isinstance(chips, list) else chips)
    if arr.ndim != 4 or arr.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError(f"chips must be (N, 150, 150, 3); got {arr.shape}")
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float()
