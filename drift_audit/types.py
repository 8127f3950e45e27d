"""Plain data passed between the stages: dataclasses holding numpy arrays.

The detections and crops (`Faces`, `FaceCrops`) and what describes a clip (`VideoInfo`,
`Shot`, `Glitch`, `Finding`) are frozen and checked on construction; the results that
stages fill in step by step (`Track`, `ClipResult`, `Character`, `Report`) are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from drift_audit.provenance import Provenance

CROP_SIZE = 224
"""Side of the square face crops kept for embedding (pixels)."""

CROP_SCALE = 1.6
"""A crop's side is this many times the face box's longer side, centred on the box."""


def _check_shape(name: str, array: np.ndarray, shape: tuple[int | None, ...]) -> None:
    if array.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        wanted = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must be {wanted}, got {array.shape}")


@dataclass(frozen=True)
class VideoInfo:
    """What a frame source learned about a clip when it opened it."""

    path: str
    fps: float
    n_frames: int
    width: int
    height: int
    codec: str
    backend: str

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps if self.fps > 0 else 0.0


@dataclass(frozen=True)
class Shot:
    """A run of frames between two cuts. `end_frame` is inclusive."""

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Faces:
    """Face detections, one row per face (struct of arrays)."""

    frame: np.ndarray  # (n,) int64, frame index in the clip
    xyxy: np.ndarray  # (n, 4) float32, pixels of the original frame
    score: np.ndarray  # (n,) float32, detector confidence
    landmarks: np.ndarray  # (n, 5, 2) float32: eyes, nose, mouth corners

    def __post_init__(self) -> None:
        n = len(self.frame)
        _check_shape("frame", self.frame, (n,))
        _check_shape("xyxy", self.xyxy, (n, 4))
        _check_shape("score", self.score, (n,))
        _check_shape("landmarks", self.landmarks, (n, 5, 2))

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def empty(cls) -> Faces:
        return cls(
            frame=np.zeros(0, np.int64),
            xyxy=np.zeros((0, 4), np.float32),
            score=np.zeros(0, np.float32),
            landmarks=np.zeros((0, 5, 2), np.float32),
        )

    @property
    def size(self) -> np.ndarray:
        """(n,) float32: the shorter side of each box, in pixels."""
        wh = self.xyxy[:, 2:] - self.xyxy[:, :2]
        return wh.min(axis=1) if len(self) else np.zeros(0, np.float32)

    def select(self, keep: np.ndarray) -> Faces:
        return Faces(self.frame[keep], self.xyxy[keep], self.score[keep], self.landmarks[keep])

    @classmethod
    def concat(cls, parts: list[Faces]) -> Faces:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(
            frame=np.concatenate([p.frame for p in parts]),
            xyxy=np.concatenate([p.xyxy for p in parts]),
            score=np.concatenate([p.score for p in parts]),
            landmarks=np.concatenate([p.landmarks for p in parts]),
        )


@dataclass(frozen=True)
class FaceCrops:
    """Square face crops, the face centred and CROP_SCALE times smaller than the crop."""

    images: np.ndarray  # (n, CROP_SIZE, CROP_SIZE, 3) uint8 RGB
    landmarks: np.ndarray  # (n, 5, 2) float32, in crop pixels

    def __post_init__(self) -> None:
        n = len(self.images)
        _check_shape("images", self.images, (n, CROP_SIZE, CROP_SIZE, 3))
        _check_shape("landmarks", self.landmarks, (n, 5, 2))

    def __len__(self) -> int:
        return len(self.images)

    @classmethod
    def empty(cls) -> FaceCrops:
        return cls(
            np.zeros((0, CROP_SIZE, CROP_SIZE, 3), np.uint8), np.zeros((0, 5, 2), np.float32)
        )


@dataclass
class Track:
    """One face followed through consecutive sampled frames of one shot.

    Filled in two steps: tracking sets the detections, embedding sets `embeddings`.
    """

    clip: int
    shot: int
    faces: Faces  # every detection of the track, in frame order
    crops: FaceCrops  # the best faces_per_track faces, best first
    crop_quality: np.ndarray  # (k,) float32 quality of each kept crop
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    # (4, 4) float32 [L, a, b, valid] per attribute (attributes.ATTRIBUTES), or None
    attributes: np.ndarray | None = None

    @property
    def first_frame(self) -> int:
        return int(self.faces.frame[0])

    @property
    def last_frame(self) -> int:
        return int(self.faces.frame[-1])


@dataclass(frozen=True)
class Glitch:
    """A frame or two that differ from both neighbours: a flash, not a cut."""

    frame: int
    time_s: float


@dataclass
class ClipResult:
    """Everything one clip gave: its shots and face tracks, or why it could not be read."""

    index: int
    path: str
    status: str = "ok"  # "ok" or "error"
    error: str | None = None
    info: VideoInfo | None = None
    frames_read: int = 0  # frames the decoder delivered
    frames_expected: int = 0  # frames the container promised (or the last index + 1)
    corrupt_frames: int = 0  # frames lost inside the stream (detected from timestamps)
    decode_errors: int = 0  # lines reporting damaged data the decoder printed (pass 1)
    shots: list[Shot] = field(default_factory=list)
    glitches: list[Glitch] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    times: dict[int, float] = field(default_factory=dict)  # frame index -> presentation time
    timings: dict[str, float] = field(default_factory=dict)
    # C2PA content credentials (drift_audit.provenance), read on the driver side,
    # never cached; None: not read (the file is missing).
    provenance: Provenance | None = None

    def time_of(self, frame: int) -> float:
        if frame in self.times:
            return self.times[frame]
        fps = self.info.fps if self.info else 0.0
        return frame / fps if fps else 0.0

    @property
    def last_frame(self) -> int:
        return max(self.times) if self.times else -1


@dataclass(frozen=True)
class Appearance:
    """A character in one shot of one clip."""

    clip: int
    shot: int
    start_s: float
    end_s: float
    faces: int
    similarity: float
    attributes: np.ndarray | None = None  # (4, 4) appearance measures in this shot
    track_ids: tuple[int, ...] = ()  # indices into the pipeline's flat track list


@dataclass
class Character:
    """A cluster of tracks that are judged to be one person."""

    id: str
    name: str | None
    track_ids: list[int]  # indices into the pipeline's flat track list
    anchor: np.ndarray  # (d,): first appearance or cast reference, in the embedder's space
    appearances: list[Appearance] = field(default_factory=list)
    clip_similarity: dict[int, float] = field(default_factory=dict)  # clip -> to the anchor
    previous_similarity: dict[int, float] = field(
        default_factory=dict
    )  # clip -> to the clip before
    spread: dict[int, float] = field(default_factory=dict)  # clip -> max - min face similarity
    faces: dict[int, int] = field(default_factory=dict)  # clip -> faces detected
    evidence: dict[int, float] = field(default_factory=dict)  # clip -> best face quality 0..1
    coherence_horizon: int | None = None  # first clip that no longer matches the anchor
    drift_slope: float = 0.0  # similarity change per clip (least squares over its clips)
    thumbnails: dict[int, np.ndarray] = field(default_factory=dict)  # clip -> best face crop
    attributes: dict[int, np.ndarray] = field(default_factory=dict)  # clip -> (4, 4) measures
    anchor_image: np.ndarray | None = None  # (CROP_SIZE, CROP_SIZE, 3) uint8: anchor face
    anchor_clip: int | None = None  # the clip the anchor comes from; None: a cast reference
    role: str = "lead"  # "lead", or "extra": small or blurred wherever it appears
    consistency: dict[int, float] = field(default_factory=dict)  # clip -> within the clip


@dataclass(frozen=True)
class Evidence:
    """Where a finding can be seen: its clip's file, shot and span, and its best face."""

    path: str
    shot: int | None
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int  # inclusive
    frame: int | None = None  # the frame of the best evidence face
    box: tuple[float, float, float, float] | None = None  # its xyxy, frame pixels


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str  # "fail", "warn" or "info"
    character: str | None
    clip: int | None
    message: str
    frame: int | None = None
    evidence: Evidence | None = None
    value: float | None = None  # the number the decision used (e.g. a similarity)
    threshold: float | None = None  # what it was compared with


@dataclass(frozen=True)
class Calibration:
    """The same-person threshold read from the footage's known negatives: tracks that
    share a frame are different people, and so are different cast references."""

    negative_pairs: int  # pairs of different people the footage holds
    quantile: float  # which quantile of their similarities is taken as their high end
    high: float | None  # that quantile; None without any pair
    measured_threshold: float  # the embedder's threshold (or --threshold)
    threshold: float  # the threshold in force
    reason: str  # why it is what it is, in a sentence


@dataclass(frozen=True)
class EmbedderInfo:
    name: str
    weights_sha256: str
    threshold: float  # in force: after calibration
    uncertain_margin: float
    choice: str  # why this embedder was used
    calibration: Calibration | None = None
    different_margin: float | None = None  # below the threshold; None: uncertain_margin

    @property
    def lower_margin(self) -> float:
        """How far below the threshold a "different" verdict starts."""
        return self.uncertain_margin if self.different_margin is None else self.different_margin

    @property
    def measured_threshold(self) -> float | None:
        """The embedder's threshold before calibration moved it; None: not calibrated."""
        return self.calibration.measured_threshold if self.calibration else None


@dataclass
class Report:
    """The whole audit: what cli.py renders and what the JSON report serialises."""

    clips: list[ClipResult]
    characters: list[Character]
    findings: list[Finding]
    embedder: EmbedderInfo | None
    fail_on: str = "fail"
    timings: dict[str, float] = field(default_factory=dict)
    fail_on_kind: dict[str, str] = field(default_factory=dict)  # kind -> its own fail_on

    def fails(self, finding: Finding) -> bool:
        """Whether this finding fails the run: its severity reaches the fail-on rule of
        its kind (`fail_on_kind`, from the config file's [fail_on]) or else `fail_on`."""
        rule = self.fail_on_kind.get(finding.kind, self.fail_on)
        levels = {"fail": ("fail",), "warn": ("fail", "warn")}.get(rule, ())
        return finding.severity in levels

    @property
    def failed(self) -> bool:
        return any(self.fails(f) for f in self.findings)

    @property
    def unreadable(self) -> list[ClipResult]:
        return [c for c in self.clips if c.status != "ok"]
