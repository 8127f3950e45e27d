"""MTCNN's box arithmetic, as facenet-pytorch does it, on tensors: P-net cells to
candidate boxes, regression, squaring, and the two kinds of non-maximum suppression."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from drift_audit.faces.mtcnn_nets import vision_ops


def cells(reg: Any, probs: Any, scale: float, threshold: float) -> Any:
    """P-net cells above threshold as (m, 10) candidate rows in frame pixels."""
    mask = probs >= threshold
    where = mask.nonzero()  # (m, 3): image, y, x
    score = probs[mask]
    offsets = reg.permute(1, 0, 2, 3)[:, mask].permute(1, 0)
    xy = where[:, 1:].to(reg.dtype).flip(1)
    q1 = ((2 * xy + 1) / scale).floor()
    q2 = ((2 * xy + 12) / scale).floor()
    return torch.cat([q1, q2, score[:, None], offsets, where[:, :1].to(reg.dtype)], 1)


def regress(boxes: Any, reg: Any, plus_one: bool = True) -> Any:
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


def rerec(boxes: Any) -> Any:
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


def nms_min(boxes: Any, scores: Any, inds: Any, threshold: float) -> Any:
    """Greedy NMS with overlap = intersection / smaller area, per image (MTCNN's last
    stage). Few boxes reach it, so the full overlap matrix is cheap."""
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
    vision_ops()
    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    offsets = groups.to(boxes) * (boxes.max() + 1)
    return torch.ops.torchvision.nms(boxes + offsets[:, None], scores, threshold)
