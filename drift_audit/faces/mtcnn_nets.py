"""MTCNN's three networks with facenet-pytorch's weights, and torchvision's compiled
operators, loaded without importing either package.

The three small architectures are facenet-pytorch's (MIT licence), restated here so
that the package, whose import loads torchvision, need not be imported.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
from pathlib import Path
from typing import Any

import torch
from torch import nn

from drift_audit.errors import ModelError


@functools.cache
def vision_ops() -> None:
    """Registers torchvision's compiled NMS and RoIAlign (torch.ops.torchvision) from its
    extension library, without importing the torchvision package: that import pulls in
    torch._dynamo (1.1 s measured here, most of a run's model loading after torch)."""

    spec = importlib.util.find_spec("torchvision")
    folder = Path(next(iter(spec.submodule_search_locations or []), "")) if spec else None
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    candidates = folder.glob("_C*") if folder else []
    for library in sorted(p for p in candidates if p.name.endswith(suffixes)):
        try:
            torch.ops.load_library(str(library))
            torch.ops.torchvision.nms  # noqa: B018  (raises unless registered)
            torch.ops.torchvision.roi_align  # noqa: B018
        except (OSError, AttributeError, RuntimeError):
            continue
        return
    # Not found: the package registers the same operators, slowly.
    import torchvision.ops  # type: ignore[import-untyped]  # noqa: F401


class PNet(nn.Module):
    """Stage 1: proposals, fully convolutional over each pyramid level."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1, self.softmax4_1 = nn.Conv2d(32, 2, 1), nn.Softmax(dim=1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x: Any) -> tuple[Any, Any]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), self.softmax4_1(self.conv4_1(x))


class RNet(nn.Module):
    """Stage 2: scores and regresses 24 px crops of the proposals."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1, self.softmax5_1 = nn.Linear(128, 2), nn.Softmax(dim=1)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: Any) -> tuple[Any, Any]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x)).permute(0, 3, 2, 1).contiguous()
        x = self.prelu4(self.dense4(x.view(x.shape[0], -1)))
        return self.dense5_2(x), self.softmax5_1(self.dense5_1(x))


class ONet(nn.Module):
    """Stage 3: scores, regresses and places five landmarks on 48 px crops."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1, self.softmax6_1 = nn.Linear(256, 2), nn.Softmax(dim=1)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: Any) -> tuple[Any, Any, Any]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x)).permute(0, 3, 2, 1).contiguous()
        x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
        return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))


def networks() -> tuple[Any, Any, Any]:
    """MTCNN's P-, R- and O-nets with facenet-pytorch's weights: its files, found without
    importing it and loaded strictly (every tensor must fit), so a mismatch fails loudly.

    Raises:
        ModelError: facenet-pytorch is not installed, or a weights file does not load.
    """
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("facenet-pytorch is not installed: it carries MTCNN's weights")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    nets = (PNet(), RNet(), ONet())
    for net, name in zip(nets, ("pnet", "rnet", "onet"), strict=True):
        try:
            net.load_state_dict(torch.load(data / f"{name}.pt", map_location="cpu"))
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"{data / name}.pt: cannot load MTCNN's {name} ({exc})") from exc
    return nets
