"""MTCNN's three-stage cascade, batched end to end on one torch device.

facenet-pytorch's `detect_face` crops every candidate box in a Python loop and
resizes each crop on its own ("area" interpolation, one call per box). On the CPU
that loop and the image pyramid were 35% of detection time, and on a GPU the loop
is a host round-trip per box. Here the same networks and weights (facenet-pytorch's
P-, R- and O-net, restated in mtcnn_nets.py) run on:
  - a pyramid built level from level with antialiased bilinear resizing, in uint8
    and channels-last layout on the CPU;
  - R-net's candidate crops cut from mip levels in one `roi_align` call, O-net's
    (few, and they place the landmarks) as exact area crops (mtcnn_crops.py);
  - torchvision's compiled NMS, on the device (mtcnn_boxes.py).
`refine` runs stages 2 and 3 alone around boxes tracked a moment ago.
The frames come in as a uint8 tensor on the device and only the final boxes, scores
and landmarks leave it. Equivalence with facenet-pytorch's own `MTCNN.detect` on
real photos is a test (`tests/test_mtcnn.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from drift_audit.device import on_gpu
from drift_audit.faces.mtcnn_boxes import batched_nms, cells, nms_min, regress, rerec
from drift_audit.faces.mtcnn_crops import Mips, resize
from drift_audit.faces.mtcnn_nets import networks, vision_ops

PYRAMID_FACTOR = 0.709  # facenet-pytorch's and the MTCNN paper's


STAGE_BATCH = 512  # crops per R-net / O-net call on a GPU (bounds GPU memory)


CPU_STAGE_ROWS = 64
"""On the CPU, R-net and O-net take this many crops per call when there are more than
SMALL_STAGE (full detections), the last call padded with blank crops to a multiple of
CPU_PAD_ROWS. Calls of every size (a batch's candidate count varies with the footage)
left freed buffers of every size in glibc's heap that later calls could not fit into:
a 5-minute 720p clip ended with ~300 MB more of it resident than a 30 s one (issue
10). With four shapes per network (16, 32, 48, 64 rows) the freed buffers are reused,
and a row's outputs do not depend on the rows beside it (tests/test_mtcnn.py)."""

CPU_PAD_ROWS = 16
"""The last call's rows are padded up to a multiple of this, not to CPU_STAGE_ROWS: a
full detection's O-net sees 4-50 crops, and padding 17 of them to 64 tripled its work
(measured: O-net's time grows with its rows, 6.5 ms for 8, 21 ms for 16, 82 ms for 64
on one thread of this 2-core machine under load)."""

SMALL_STAGE = 16  # `refine`'s calls (two rows per tracked face): few shapes, small buffers


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
        device: where the networks run.
        thresholds: the stage score thresholds (P, R, O).
        half: run the three networks (and crops) in float16.
        float_pyramid: resize in floating point; None: on a GPU, whose resizes take
            floats (the CPU's uint8 resize is the fast one).
    """

    def __init__(
        self,
        device: torch.device | str = "cpu",
        thresholds: tuple[float, float, float] = (0.7, 0.8, 0.9),
        half: bool = False,
        float_pyramid: bool | None = None,
    ) -> None:
        vision_ops()
        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self.thresholds = thresholds
        self.float_pyramid = on_gpu(self.device) if float_pyramid is None else float_pyramid
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
        with torch.inference_mode():
            images, mips = self._images(frames)
            candidates = self._propose(images, first_scale)
            boxes, inds = candidates[:, :5], candidates[:, 9].long()
            if len(boxes):
                boxes = rerec(regress(boxes, candidates[:, 5:9], plus_one=False))
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
        with torch.inference_mode():
            _, mips = self._images(frames)
            boxes = torch.as_tensor(boxes, dtype=torch.float32, device=self.device)
            inds = torch.as_tensor(image, dtype=torch.long, device=self.device)
            centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) / 2
            grown = torch.cat([centre - REFINE_GROWTH * half, centre + REFINE_GROWTH * half], 1)
            rows = torch.cat([boxes, grown])
            rows = torch.cat([rows, torch.ones(len(rows), 1, device=self.device)], 1)
            # A few boxes: both stages take exact crops, and no mip level is built.
            return self._stages(mips, rerec(rows), torch.cat([inds, inds]), exact=True)

    def _images(self, frames: Any) -> tuple[Any, Mips]:
        """(b, H, W, 3) uint8 frames as (b, 3, H, W) images, and their mip levels.

        A channels-last view: no copy, and the layout in which torch's CPU kernels
        resize uint8 (10x faster than float, measured) and run MTCNN's max-pooling
        (2-4x faster than NCHW).
        """
        images = frames.permute(0, 3, 1, 2)
        if self.float_pyramid:
            images = images.float()
        return images, Mips(images)

    def _stages(self, mips: Mips, boxes: Any, inds: Any, exact: bool = False) -> Detections:
        """Stages 2 and 3 on square candidate rows (x1 y1 x2 y2 score)."""
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
        height, width = images.shape[2:]
        found = []
        level = images
        for scale in self.scales(height, width, first_scale):
            size = (int(height * scale + 1), int(width * scale + 1))
            # Each level from the previous one: the resize costs shrink with the pyramid.
            level = resize(level, size)
            reg, probs = self.pnet(((level.float() - 127.5) * 0.0078125).to(self.dtype))
            rows = cells(reg.float(), probs[:, 1].float(), scale, self.thresholds[0])
            if len(rows):
                keep = batched_nms(rows[:, :4], rows[:, 4], rows[:, 9].long(), 0.5)
                found.append(rows[keep])
        if not found:
            return torch.zeros(0, 10, device=self.device)
        rows = torch.cat(found)
        keep = batched_nms(rows[:, :4], rows[:, 4], rows[:, 9].long(), 0.7)
        return rows[keep]

    def _run(self, net: Any, crops: Any) -> list[Any]:
        """`net`'s outputs (float32, one row per crop) over `crops`, in calls of
        STAGE_BATCH crops on a GPU and of CPU_STAGE_ROWS on the CPU (the last padded)."""
        n = len(crops)
        padded = not on_gpu(self.device) and n > SMALL_STAGE
        step = CPU_STAGE_ROWS if padded else STAGE_BATCH
        outs = []
        for i in range(0, n, step):
            part = crops[i : i + step]
            if padded and len(part) % CPU_PAD_ROWS:
                rows = -(-len(part) // CPU_PAD_ROWS) * CPU_PAD_ROWS
                blank = part.new_zeros((rows - len(part), *part.shape[1:]))
                part = torch.cat([part, blank])
            outs.append(net(part))
        rows = n - (len(outs) - 1) * step  # the last call's real rows
        outs[-1] = tuple(o[:rows] for o in outs[-1])
        return [torch.cat(parts).float() for parts in zip(*outs, strict=True)]

    def _refine(
        self,
        net: Any,
        mips: Mips,
        boxes: Any,
        inds: Any,
        side: int,
        stage: int,
        exact: bool,
    ) -> tuple[Any, Any, Any]:
        """Stages 2 and 3: crop every box at `side` px, score, regress, suppress."""
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
        if len(boxes) == 0:  # every box lay outside the frame: nothing to score
            empty = boxes.new_zeros((0, 5))
            return empty, inds, None if stage == 1 else boxes.new_zeros((0, 5, 2))
        rois = torch.stack([inds.float(), x1[valid], y1[valid], x2[valid], y2[valid]], 1)
        # R-net sees ~100 boxes a frame: mip crops. O-net sees ~10 and places the
        # landmarks, which the attribute regions hang on: exact area crops, as
        # facenet-pytorch cuts them (mip crops moved a chin region enough to change
        # a beard measure by 7 of its 20-unit threshold).
        cut = mips.exact if exact else mips.crop
        crops = ((cut(rois, side) - 127.5) * 0.0078125).to(self.dtype)
        out = self._run(net, crops)
        reg, score = out[0], out[-1][:, 1]
        passed = score > self.thresholds[stage]
        boxes = torch.cat([boxes[passed, :4], score[passed, None]], 1)
        inds, reg = inds[passed], reg[passed]
        if stage == 1:
            keep = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
            return rerec(regress(boxes[keep], reg[keep])), inds[keep], None
        points = out[1][passed]  # (m, 10): 5 x then 5 y, relative to the box
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        xs = w * points[:, :5] + boxes[:, :1] - 1
        ys = h * points[:, 5:] + boxes[:, 1:2] - 1
        landmarks = torch.stack([xs, ys], 2)
        boxes = regress(boxes, reg)
        keep = nms_min(boxes[:, :4], boxes[:, 4], inds, 0.7)
        return boxes[keep], inds[keep], landmarks[keep]
