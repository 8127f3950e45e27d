"""Where MTCNN's stages 2 and 3 cut their candidate crops from: the frames and their
mip levels, resized in the layout torch's CPU kernels are fast in."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch

from drift_audit.faces.mtcnn_nets import vision_ops

MIP_LEVELS = 5  # crops come from the frame at full, 1/2, ... 1/16 size


class Mips:
    """The frames at full, 1/2, 1/4 ... size, made and turned to float only when a crop
    needs them.

    Each box is cut from the level where it is one to two times the crop side, with
    2x2 bilinear samples per output pixel: an area average at a fixed cost per crop.
    roi_align's adaptive sampling on the full frame costs each box's whole area
    instead (measured: the largest cost of stages 2 and 3).
    """

    def __init__(self, images: Any) -> None:
        self.levels: list[Any] = [images]
        self.floats: dict[int, Any] = {}
        self.height, self.width = images.shape[2:]

    def level(self, k: int) -> Any:
        while len(self.levels) <= k:
            prev = self.levels[-1]
            size = ((prev.shape[2] + 1) // 2, (prev.shape[3] + 1) // 2)
            self.levels.append(resize(prev, size))
        if k not in self.floats:
            # NCHW: roi_align copies any other layout to it on every call.
            self.floats[k] = self.levels[k].contiguous().float()
        return self.floats[k]

    def exact(self, rois: Any, side: int) -> Any:
        """Like `crop`, each box area-resized from the full frame, one at a time (on the
        CPU from integral images, `area_crop`: the same floats, 2-4x faster)."""
        frame = self.levels[0]
        boxes = rois.long().tolist()
        if frame.device.type == "cpu" and frame.dtype == torch.uint8:
            crops = [area_crop(frame[i], x1, y1, x2, y2, side)[None] for i, x1, y1, x2, y2 in boxes]
        else:
            crops = [
                torch.nn.functional.interpolate(
                    frame[i : i + 1, :, y1:y2, x1:x2].float(), size=(side, side), mode="area"
                )
                for i, x1, y1, x2, y2 in boxes
            ]
        return torch.cat(crops).contiguous(memory_format=torch.channels_last)

    def crop(self, rois: Any, side: int) -> Any:
        """(n, 3, side, side) crops of `rois` (image, x1, y1, x2, y2 in pixel corners)."""
        vision_ops()
        extent = torch.maximum(rois[:, 3] - rois[:, 1], rois[:, 4] - rois[:, 2])
        level = (extent / side).clamp(min=1).log2().floor().long().clamp(max=MIP_LEVELS - 1)
        crops = torch.empty(len(rois), 3, side, side, dtype=rois.dtype, device=rois.device)
        for k in level.unique().tolist():
            pick = (level == k).nonzero()[:, 0]
            image = self.level(k)
            scaled = rois[pick].clone()
            scaled[:, 1:] *= torch.tensor(
                [image.shape[3] / self.width, image.shape[2] / self.height] * 2,
                dtype=rois.dtype,
                device=rois.device,
            )
            crops[pick] = torch.ops.torchvision.roi_align(image, scaled, 1.0, side, side, 2, True)
        return crops.contiguous(memory_format=torch.channels_last)


def area_crop(image: Any, x1: int, y1: int, x2: int, y2: int, side: int) -> Any:
    """`image[:, y1:y2, x1:x2]` ((3, H, W) uint8 on the CPU) resized to (3, side, side)
    float32 as torch's "area" interpolation does it, bit for bit: output pixel (i, j)
    averages input rows floor(i*h/side) .. ceil((i+1)*h/side) - 1, columns likewise.
    Each bin's sum comes exact (integers) from an integral image and is divided, as
    torch's kernel does, by the bin's height and then by its width.

    Why: torch's adaptive average pooling walks every input pixel of the box in
    scalar code; O-net's crops of large faces cost it 1-5 ms each (measured, one
    thread), the integral image 0.3-0.8 ms.
    """
    hwc = image.permute(1, 2, 0).numpy()[y1:y2, x1:x2]
    if hwc.strides[-1] != 1 or hwc.strides[-2] != 3:  # not a channels-last frame
        hwc = np.ascontiguousarray(hwc)
    sums = cv2.integral(hwc)  # (h + 1, w + 1, 3) int32, a zero row and column first
    r0, r1 = _bins(y2 - y1, side)
    c0, c1 = _bins(x2 - x1, side)
    rows = np.take(sums, r1, 0) - np.take(sums, r0, 0)
    total = (np.take(rows, c1, 1) - np.take(rows, c0, 1)).astype(np.float32)
    mean = total / (r1 - r0).astype(np.float32)[:, None, None]
    mean /= (c1 - c0).astype(np.float32)[None, :, None]
    return torch.from_numpy(mean).permute(2, 0, 1)


def _bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive pooling's bins of `size` pixels into `out`: first and last-plus-one."""
    i = np.arange(out)
    return (i * size) // out, -(-(i + 1) * size // out)


def resize(images: Any, size: tuple[int, int]) -> Any:
    """Antialiased bilinear resize of (b, 3, h, w) images, uint8 or float, same dtype."""
    return torch.nn.functional.interpolate(images, size=size, mode="bilinear", antialias=True)
