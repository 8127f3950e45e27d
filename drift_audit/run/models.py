"""The detector and the embedder, loaded once per process and shared by every clip."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drift_audit import device as devices
from drift_audit.config import AuditConfig

if TYPE_CHECKING:
    import torch

    from drift_audit.faces.detect import Detector
    from drift_audit.identity.embedders.base import Embedder


class Models:
    """The device, resolved once, and the detector and embedder, built on first use.

    Args:
        config: the run's settings (device, thread count, model options).
        detector, embedder: ready models to use instead (tests pass fakes).
        choice: why this embedder was used, when one is given.

    Attributes:
        device: the torch.device every model and GPU frame source works on.
        frames_on_device: whether the face pass keeps decoded frames on `device` as
            tensors (a GPU): detection, tracking and face crops then run there, and
            only the crops and the pixels around each face's attribute regions are
            copied to the host. Tests set it on the CPU to run the same tensor code.
    """

    def __init__(
        self,
        config: AuditConfig,
        detector: Detector | None = None,
        embedder: Embedder | None = None,
        choice: str = "",
    ) -> None:
        self.config = config
        self.device: torch.device = devices.resolve(config.device)
        # Both models run on torch: its CPU threads are set before either is built.
        devices.set_threads(self.device, config.threads)
        self.frames_on_device = devices.on_gpu(self.device)
        self._detector = detector
        self._embedder = embedder
        self.choice = choice or (f"{embedder.name}: given" if embedder else "")

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            from drift_audit.faces.detect import MTCNNDetector

            c = self.config
            self._detector = MTCNNDetector(
                c.min_face_px, c.detect_confidence, c.detect_max_side, self.device
            )
        return self._detector

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from drift_audit.identity.embedders.registry import build_embedder

            c = self.config
            self._embedder, self.choice = build_embedder(
                c.embedder, c.weights, self.device, c.embed_batch
            )
        return self._embedder

    def load(self) -> None:
        """Build both models now (a worker loads them before its first clip's budget)."""
        self.detector, self.embedder  # noqa: B018
