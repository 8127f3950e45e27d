"""MTCNN's three-stage cascade, batched end to end on one torch device.

facenet-pytorch's `detect_face` crops every candidate box in a Python loop and
resizes each crop on its own ("area" interpolation, one call per box). On the CPU
that loop and the image pyramid were 35% of detection time, and on a GPU the loop
is a host round-trip per box. Here the same networks and weights (facenet-pytorch's
P-, R- and O-net, restated in `networks`) run on:
  - a pyramid built level from level with antialiased bilinear resizing, in uint8
    and channels-last layout on the CPU;
  - R-net's candidate crops cut from mip levels in one `roi_align` call, O-net's
    (few, and they place the landmarks) as exact area crops;
  - torchvision's compiled NMS, on the device.
`refine` runs stages 2 and 3 alone around boxes tracked a moment ago.
The frames come in as a uint8 tensor on the device and only the final boxes, scores
and landmarks leave it. Equivalence with facenet-pytorch's own `MTCNN.detect` on
real photos is a test (`tests/test_mtcnn.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drift_audit.faces.mtcnn_nets import networks, vision_ops

PYRAMID_FACTOR = 0.709  # facenet-pytorch's and the MTCNN paper's


STAGE_BATCH = 512  # crops per R-net / O-net call (bounds GPU memory)


MIP_LEVELS = 5  # crops come from the frame at full, 1/2, ... 1/16 size


REFINE_GROWTH = 1.3  # a tracked box is also tried this much larger (see `refine`)


@dataclass
class Detections:
    """Faces found in a batch of frames, as numpy arrays on the host."""

    image: np.ndarray  # (n,) index of the frame in the batch
    boxes: np.ndarray  # (n, 4) x1 y1 x2 y2, frame pixels
    scores: np.ndarray  # (n,)
    landmarks: np.ndarray  # (n, 5, 2) eyes, nose, mouth corners


class Cascade:
    """P-net proposals over a pyramid, R-net and O-net refinement, all batched.

    Args:
        device: torch device string.
        thresholds: the stage score thresholds (P, R, O).
        half: run the three networks (and crops) in float16.
        float_pyramid: resize in floating point; None: on every device but the CPU,
            whose uint8 resize is the fast one (GPU resizes take floats).
    """

    def __init__(
        self,
        device: str = "cpu",
        thresholds: tuple[float, float, float] = (0.7, 0.8, 0.9),
        half: bool = False,
        float_pyramid: bool | None = None,
    ) -> None:
        import torch

        self.torch = torch
        vision_ops()
        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self.thresholds = thresholds
        self.float_pyramid = self.device.type != "cpu" if float_pyramid is None else float_pyramid
        nets = networks()
        self.pnet, self.rnet, self.onet = (
            net.to(self.device, self.dtype, memory_format=torch.channels_last).eval()
            for net in nets
        )

    def scales(self, height: int, width: int, first: float) -> list[float]:
        """Pyramid scales from `first` down, while the short side still holds a 12 px cell."""
        scales, scale = [], first
        while min(height, width) * scale >= 12:
            scales.append(scale)
            scale *= PYRAMID_FACTOR
        return scales

    def detect(self, frames: Any, first_scale: float) -> Detections:
        """Faces in `frames`, a (b, H, W, 3) uint8 tensor on the device.

        `first_scale` is the pyramid's largest level relative to the frame: 12 divided by
        the smallest face side wanted, in frame pixels.
        """
        torch = self.torch
        with torch.inference_mode():
            images, mips = self._images(frames)
            candidates = self._propose(images, first_scale)
            boxes, inds = candidates[:, :5], candidates[:, 9].long()
            if len(boxes):
                boxes = _rerec(_regress(boxes, candidates[:, 5:9], plus_one=False))
            return self._stages(mips, boxes, inds)

    def refine(self, frames: Any, boxes: Any, image: Any) -> Detections:
        """Faces near known boxes, without the pyramid: stages 2 and 3 only.

        Tracking uses this between full detections: each box of a face seen a moment
        ago goes in as it is and enlarged by REFINE_GROWTH (the face may have moved),
        and R-net and O-net re-find and re-place it, as they do P-net's proposals.

        Args:
            frames: (b, H, W, 3) uint8 tensor on the device.
            boxes: (m, 4) float x1 y1 x2 y2 in frame pixels.
            image: (m,) int index into `frames` of each box.
        """
        torch = self.torch
        with torch.inference_mode():
            _, mips = self._images(frames)
            boxes = torch.as_tensor(boxes, dtype=torch.float32, device=self.device)
            inds = torch.as_tensor(image, dtype=torch.long, device=self.device)
            centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) / 2
            grown = torch.cat([centre - REFINE_GROWTH * half, centre + REFINE_GROWTH * half], 1)
            rows = torch.cat([boxes, grown])
            rows = torch.cat([rows, torch.ones(len(rows), 1, device=self.device)], 1)
            # A few boxes: both stages take exact crops, and no mip level is built.
            return self._stages(mips, _rerec(rows), torch.cat([inds, inds]), exact=True)

    def _images(self, frames: Any) -> tuple[Any, _Mips]:
        """(b, H, W, 3) uint8 frames as (b, 3, H, W) images, and their mip levels.

        A channels-last view: no copy, and the layout in which torch's CPU kernels
        resize uint8 (10x faster than float, measured) and run MTCNN's max-pooling
        (2-4x faster than NCHW).
        """
        images = frames.permute(0, 3, 1, 2)
        if self.float_pyramid:
            images = images.float()
        return images, _Mips(images)

    def _stages(self, mips: _Mips, boxes: Any, inds: Any, exact: bool = False) -> Detections:
        """Stages 2 and 3 on square candidate rows (x1 y1 x2 y2 score)."""
        torch = self.torch
        landmarks = torch.zeros(0, 5, 2, device=self.device)
        if len(boxes):
            boxes, inds, _ = self._refine(self.rnet, mips, boxes, inds, 24, 1, exact)
        if len(boxes):
            boxes, inds, landmarks = self._refine(self.onet, mips, boxes, inds, 48, 2, True)
        return Detections(
            inds.cpu().numpy().astype(np.int64),
            boxes[:, :4].cpu().numpy(),
            boxes[:, 4].cpu().numpy(),
            landmarks.cpu().numpy().reshape(-1, 5, 2),
        )

    def _propose(self, images: Any, first_scale: float) -> Any:
        """Stage 1: (m, 10) rows x1 y1 x2 y2 score, 4 regressions, image index."""
        torch = self.torch
        height, width = images.shape[2:]
        found = []
        level = images
        for scale in self.scales(height, width, first_scale):
            size = (int(height * scale + 1), int(width * scale + 1))
            # Each level from the previous one: the resize costs shrink with the pyramid.
            level = _resize(level, size)
            reg, probs = self.pnet(((level.float() - 127.5) * 0.0078125).to(self.dtype))
            rows = _cells(reg.float(), probs[:, 1].float(), scale, self.thresholds[0])
            if len(rows):
                keep = batched_nms(rows[:, :4], rows[:, 4], rows[:, 9].long(), 0.5)
                found.append(rows[keep])
        if not found:
            return torch.zeros(0, 10, device=self.device)
        rows = torch.cat(found)
        keep = batched_nms(rows[:, :4], rows[:, 4], rows[:, 9].long(), 0.7)
        return rows[keep]

    def _refine(
        self,
        net: Any,
        mips: _Mips,
        boxes: Any,
        inds: Any,
        side: int,
        stage: int,
        exact: bool,
    ) -> tuple[Any, Any, Any]:
        """Stages 2 and 3: crop every box at `side` px, score, regress, suppress."""
        torch = self.torch
        height, width = mips.height, mips.width
        # facenet-pytorch crops the box clipped to the frame, pixels x1 - 1 .. x2 - 1
        # (1-based box), and stretches it to side x side; the same region, averaged by
        # roi_align (aligned: these are pixel-corner coordinates).
        x1 = boxes[:, 0].trunc().clamp(min=1) - 1
        y1 = boxes[:, 1].trunc().clamp(min=1) - 1
        x2 = boxes[:, 2].trunc().clamp(max=width)
        y2 = boxes[:, 3].trunc().clamp(max=height)
        valid = (x2 > x1) & (y2 > y1)
        boxes, inds = boxes[valid], inds[valid]
        rois = torch.stack([inds.float(), x1[valid], y1[valid], x2[valid], y2[valid]], 1)
        # R-net sees ~100 boxes a frame: mip crops. O-net sees ~10 and places the
        # landmarks, which the attribute regions hang on: exact area crops, as
        # facenet-pytorch cuts them (mip crops moved a chin region enough to change
        # a beard measure by 7 of its 20-unit threshold).
        cut = mips.exact if exact else mips.crop
        crops = ((cut(rois, side) - 127.5) * 0.0078125).to(self.dtype)
        outs = [net(crops[i : i + STAGE_BATCH]) for i in range(0, len(crops), STAGE_BATCH)]
        out = [torch.cat(parts).float() for parts in zip(*outs, strict=True)]
        reg, score = out[0], out[-1][:, 1]
        passed = score > self.thresholds[stage]
        boxes = torch.cat([boxes[passed, :4], score[passed, None]], 1)
        inds, reg = inds[passed], reg[passed]
        if stage == 1:
            keep = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
            return _rerec(_regress(boxes[keep], reg[keep])), inds[keep], None
        points = out[1][passed]  # (m, 10): 5 x then 5 y, relative to the box
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        xs = w * points[:, :5] + boxes[:, :1] - 1
        ys = h * points[:, 5:] + boxes[:, 1:2] - 1
        landmarks = torch.stack([xs, ys], 2)
        boxes = _regress(boxes, reg)
        keep = _nms_min(boxes[:, :4], boxes[:, 4], inds, 0.7)
        return boxes[keep], inds[keep], landmarks[keep]


class _Mips:
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
            self.levels.append(_resize(prev, size))
        if k not in self.floats:
            # NCHW: roi_align copies any other layout to it on every call.
            self.floats[k] = self.levels[k].contiguous().float()
        return self.floats[k]

    def exact(self, rois: Any, side: int) -> Any:
        """Like `crop`, each box area-resized from the full frame, one at a time."""
        import torch

        frame = self.levels[0]
        crops = [
            torch.nn.functional.interpolate(
                frame[i : i + 1, :, y1:y2, x1:x2].float(), size=(side, side), mode="area"
            )
            for i, x1, y1, x2, y2 in rois.long().tolist()
        ]
        return torch.cat(crops).contiguous(memory_format=torch.channels_last)

    def crop(self, rois: Any, side: int) -> Any:
        """(n, 3, side, side) crops of `rois` (image, x1, y1, x2, y2 in pixel corners)."""
        import torch

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


def _resize(images: Any, size: tuple[int, int]) -> Any:
    """Antialiased bilinear resize of (b, 3, h, w) images, uint8 or float, same dtype."""
    import torch

    return torch.nn.functional.interpolate(images, size=size, mode="bilinear", antialias=True)


def _cells(reg: Any, probs: Any, scale: float, threshold: float) -> Any:
    """P-net cells above threshold as (m, 10) candidate rows in frame pixels."""
    import torch

    mask = probs >= threshold
    where = mask.nonzero()  # (m, 3): image, y, x
    score = probs[mask]
    offsets = reg.permute(1, 0, 2, 3)[:, mask].permute(1, 0)
    xy = where[:, 1:].to(reg.dtype).flip(1)
    q1 = ((2 * xy + 1) / scale).floor()
    q2 = ((2 * xy + 12) / scale).floor()
    return torch.cat([q1, q2, score[:, None], offsets, where[:, :1].to(reg.dtype)], 1)


def _regress(boxes: Any, reg: Any, plus_one: bool = True) -> Any:
    """Apply box regression offsets. facenet-pytorch measures the box as x2 - x1 after
    stage 1 and as x2 - x1 + 1 (its `bbreg`) after stages 2 and 3; both are kept."""
    boxes = boxes.clone()
    w = boxes[:, 2] - boxes[:, 0] + int(plus_one)
    h = boxes[:, 3] - boxes[:, 1] + int(plus_one)
    boxes[:, 0] += reg[:, 0] * w
    boxes[:, 1] += reg[:, 1] * h
    boxes[:, 2] += reg[:, 2] * w
    boxes[:, 3] += reg[:, 3] * h
    return boxes


def _rerec(boxes: Any) -> Any:
    """Square each box about its centre on its longer side."""
    boxes = boxes.clone()
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = w.maximum(h)
    boxes[:, 0] += w * 0.5 - side * 0.5
    boxes[:, 1] += h * 0.5 - side * 0.5
    boxes[:, 2] = boxes[:, 0] + side
    boxes[:, 3] = boxes[:, 1] + side
    return boxes


def _nms_min(boxes: Any, scores: Any, inds: Any, threshold: float) -> Any:
    """Greedy NMS with overlap = intersection / smaller area, per image (MTCNN's last
    stage). Few boxes reach it, so the full overlap matrix is cheap."""
    import torch

    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    lt = torch.maximum(boxes[:, None, :2], boxes[None, :, :2])
    rb = torch.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    wh = (rb - lt + 1).clamp(min=0)
    overlap = wh[..., 0] * wh[..., 1] / torch.minimum(area[:, None], area[None, :])
    overlap = (overlap > threshold) & (inds[:, None] == inds[None, :])
    order = torch.argsort(scores, descending=True, stable=True).tolist()
    suppressed = np.zeros(len(boxes), bool)
    clash = overlap.cpu().numpy()
    keep = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= clash[i]
    return torch.as_tensor(keep, dtype=torch.long, device=boxes.device)


def batched_nms(boxes: Any, scores: Any, groups: Any, threshold: float) -> Any:
    """Indices of the boxes NMS keeps, independently per group, best first (the
    coordinate-offset trick of torchvision.ops.batched_nms, on its compiled NMS)."""
    import torch

    vision_ops()
    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    offsets = groups.to(boxes) * (boxes.max() + 1)
    return torch.ops.torchvision.nms(boxes + offsets[:, None], scores, threshold)
