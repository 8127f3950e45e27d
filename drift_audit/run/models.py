"""The detector and the embedder, loaded once per process and shared by every clip."""

from __future__ import annotations

from drift_audit.config import AuditConfig
from drift_audit.faces.detect import Detector
from drift_audit.identity.embedders.base import Embedder


class Models:
    """The detector and embedder, built on first use and shared by every clip."""

    def __init__(
        self,
        config: AuditConfig,
        detector: Detector | None = None,
        embedder: Embedder | None = None,
        choice: str = "",
    ) -> None:
        self.config = config
        self._detector = detector
        self._embedder = embedder
        self.choice = choice or (f"{embedder.name}: given" if embedder else "")

    @property
    def device(self) -> str:
        from drift_audit.device import resolve_device

        return resolve_device(self.config.device)

    def _threads(self) -> None:
        """Torch's CPU threads, set before either model (both run on torch) is built."""
        if self.device == "cpu":
            import torch

            torch.set_num_threads(self.config.threads)

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            from drift_audit.faces.detect import MTCNNDetector

            c = self.config
            self._threads()
            self._detector = MTCNNDetector(
                c.min_face_px, c.detect_confidence, c.detect_max_side, self.device
            )
        return self._detector

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from drift_audit.identity.embedders.registry import build_embedder

            c = self.config
            self._threads()
            self._embedder, self.choice = build_embedder(
                c.embedder, c.weights, self.device, c.embed_batch
            )
        return self._embedder
