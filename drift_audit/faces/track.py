"""Faces -> tracks inside one shot, online: only the best crops of each live track
are kept, so memory does not grow with the clip.

Association is a linear assignment (scipy's Hungarian solver) on a cost that
mixes box overlap, centre distance and a colour descriptor of the face, so two
people crossing each other keep their tracks. Boxes are compared where each track
is predicted to be (constant velocity per box corner, as SORT's and ByteTrack's
Kalman filters predict), not where it was last seen: a face that moves half its
width between sampled frames, or grows as it walks toward the camera, is still
found around its predicted box between full detections and matched at the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from drift_audit.faces.attributes import aggregate
from drift_audit.types import FaceCrops, Faces, Track

MAX_COST = 0.75  # above this a face starts a new track


MAX_GAP = 3  # sampled frames a track may miss before it ends

VELOCITY_SMOOTHING = 0.5  # weight of the newest motion in a track's velocity

DUPLICATE_OVERLAP = 0.8  # intersection over the smaller box: one face found twice


def appearance(crops: FaceCrops) -> np.ndarray:
    """(n, 48) float32 L2-normalised colour descriptor of the central face region."""
    if len(crops) == 0:
        return np.zeros((0, 48), np.float32)
    c = crops.images.shape[1]
    inner = crops.images[:, c // 4 : 3 * c // 4, c // 4 : 3 * c // 4]
    small = np.stack([cv2.resize(im, (4, 4), interpolation=cv2.INTER_AREA) for im in inner])
    vec = small.reshape(len(crops), -1).astype(np.float32)
    vec -= vec.mean(axis=1, keepdims=True)
    return vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-6)


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) intersection areas of xyxy boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.prod(np.clip(rb - lt, 0, None), axis=2)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of xyxy boxes."""
    inter = _intersection(a, b)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


def without_duplicates(faces: Faces) -> np.ndarray:
    """(k,) int64 indices of the faces to keep, in order: of two boxes in one frame
    that overlap by DUPLICATE_OVERLAP of the smaller one, the less confident goes (a
    face found twice, e.g. once as itself and once with its hair, is one face)."""
    area = np.prod(faces.xyxy[:, 2:] - faces.xyxy[:, :2], axis=1)
    smaller = np.maximum(np.minimum(area[:, None], area[None, :]), 1e-6)
    clash = (_intersection(faces.xyxy, faces.xyxy) >= DUPLICATE_OVERLAP * smaller) & (
        faces.frame[:, None] == faces.frame[None, :]
    )
    keep: list[int] = []
    for i in np.argsort(-faces.score, kind="stable").tolist():
        if not clash[i, keep].any():
            keep.append(i)
    return np.array(sorted(keep), np.int64)


@dataclass
class _Live:
    parts: list[Faces]
    last_box: np.ndarray
    last_look: np.ndarray
    last_frame: int
    velocity: np.ndarray | None = None  # (4,) box corners' pixels per frame
    missed: int = 0
    crops: list[tuple[float, int, np.ndarray, np.ndarray]] = field(default_factory=list)
    # per face, its (4, 4) attributes: (the frame's (n, 4, 4) attributes, its row there)
    attributes: list[tuple[Any, int]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)  # per face: its quality

    def predicted(self, frame: int) -> np.ndarray:
        """(4,) float32: where the box should be at `frame`, moving as it last moved."""
        if self.velocity is None:
            return self.last_box
        box = self.last_box + self.velocity * float(frame - self.last_frame)
        # Never shrink a box below a quarter of its size or turn it inside out.
        centre, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2
        floor = (self.last_box[2:] - self.last_box[:2]) / 8
        half = np.maximum(half, floor)
        return np.concatenate([centre - half, centre + half]).astype(np.float32)


class Tracker:
    """Feed the detections of each sampled frame of one shot in order with `step`;
    `finish` ends the shot and returns its tracks.

    Args:
        clip, shot: copied into every Track.
        keep: how many of the best-quality crops each track keeps.
    """

    def __init__(self, clip: int, shot: int, keep: int = 5) -> None:
        self.clip, self.shot, self.keep = clip, shot, keep
        self._live: list[_Live] = []
        self._done: list[_Live] = []
        self._serial = 0
        self._attributes: Any = None
        self.lost = False  # a live track missed its face in the last step, the first time

    def step(
        self,
        faces: Faces,
        crops: FaceCrops,
        quality: np.ndarray,
        attributes: Any = None,
    ) -> None:
        """Add one sampled frame's detections.

        Args:
            attributes: (n, 4, 4) appearance measurements of the faces (attributes.py),
                aggregated per track by quality; indexed only in `finish`, so it may
                be a `run.faces.Measured`, still being measured.
        """
        self._attributes = attributes
        looks = appearance(crops)  # (n, 48)
        matched: set[int] = set()
        if self._live and len(faces):
            boxes = np.stack([t.predicted(int(faces.frame[0])) for t in self._live])
            prev_looks = np.stack([t.last_look for t in self._live])
            overlap = iou(boxes, faces.xyxy)
            centre_prev = (boxes[:, :2] + boxes[:, 2:]) / 2
            centre_now = (faces.xyxy[:, :2] + faces.xyxy[:, 2:]) / 2
            scale = np.maximum((boxes[:, 2:] - boxes[:, :2]).max(axis=1), 1.0)
            shift = np.linalg.norm(centre_prev[:, None] - centre_now[None], axis=2) / scale[:, None]
            look = 1.0 - prev_looks @ looks.T  # 0 same colours .. 2 opposite
            cost = (
                0.4 * (1.0 - overlap) + 0.3 * np.clip(shift, 0, 2) / 2 + 0.3 * np.clip(look, 0, 1)
            )
            cost[shift > 1.5] = np.inf
            finite = np.where(np.isfinite(cost), cost, 1e6)
            # Imported here: scipy.optimize costs 0.6 s of one core, which the lanes'
            # shot passes (whose child imports this module) never need.
            from scipy.optimize import linear_sum_assignment

            rows, cols = linear_sum_assignment(finite)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] <= MAX_COST:
                    self._extend(self._live[r], faces, crops, quality, looks, int(c))
                    matched.add(int(c))
                    self._live[r].missed = -1
        still: list[_Live] = []
        for live in self._live:
            live.missed += 1
            (still if live.missed <= MAX_GAP else self._done).append(live)
        self._live = still
        # Just lost (once per loss: a face that left the frame costs one full detection).
        self.lost = any(t.missed == 1 for t in self._live)
        for c in range(len(faces)):
            if c not in matched:
                live = _Live([], faces.xyxy[c], looks[c], int(faces.frame[c]))
                self._extend(live, faces, crops, quality, looks, c)
                self._live.append(live)

    def _extend(
        self,
        live: _Live,
        faces: Faces,
        crops: FaceCrops,
        quality: np.ndarray,
        looks: np.ndarray,
        c: int,
    ) -> None:
        live.parts.append(faces.select(np.array([c])))
        frame, box = int(faces.frame[c]), faces.xyxy[c].astype(np.float32)
        if live.parts[:-1] and frame > live.last_frame:
            moved = (box - live.last_box) / float(frame - live.last_frame)
            live.velocity = (
                moved
                if live.velocity is None
                else VELOCITY_SMOOTHING * moved + (1 - VELOCITY_SMOOTHING) * live.velocity
            )
        live.last_box, live.last_look, live.last_frame = box, looks[c], frame
        self._serial += 1
        # Ties broken by arrival order, so the kept crops never depend on dict/heap order.
        live.crops.append((float(quality[c]), -self._serial, crops.images[c], crops.landmarks[c]))
        live.crops.sort(key=lambda item: (item[0], item[1]), reverse=True)
        del live.crops[self.keep :]
        if self._attributes is not None:
            live.attributes.append((self._attributes, c))
            live.weights.append(float(quality[c]))

    def live_boxes(self, frame: int | None = None) -> np.ndarray:
        """(m, 4) float32: where to look for the live tracks' faces at `frame`: each
        track's predicted box (None: its last box). A face that stopped or turned
        is missed there once, and the next sampled frame gets a full detection
        (`lost`)."""
        if not self._live:
            return np.zeros((0, 4), np.float32)
        boxes = [t.last_box if frame is None else t.predicted(frame) for t in self._live]
        return np.stack(boxes).astype(np.float32)

    def finish(self) -> list[Track]:
        ended = self._done + self._live
        self._done, self._live = [], []
        tracks = []
        for live in ended:
            faces = Faces.concat(live.parts)
            order = np.argsort(faces.frame, kind="stable")
            crops = FaceCrops(
                np.stack([c[2] for c in live.crops]), np.stack([c[3] for c in live.crops])
            )
            quality = np.array([c[0] for c in live.crops], np.float32)
            track = Track(self.clip, self.shot, faces.select(order), crops, quality)
            if live.attributes:
                track.attributes = aggregate(
                    np.stack([looks[c] for looks, c in live.attributes]),
                    np.maximum(np.array(live.weights), 1e-3),
                )
            tracks.append(track)
        tracks.sort(key=lambda t: (t.first_frame, float(t.faces.xyxy[0, 0])))
        return tracks
