"""The detector and the embedder, loaded once per process and shared by every clip."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from drift_audit import device as devices
from drift_audit.config import AuditConfig

if TYPE_CHECKING:
    import torch

    from drift_audit.faces.detect import Detector
    from drift_audit.identity.embedders.base import Embedder


class Models:
    """The device, resolved once, and the detector and embedder, built on first use (in
    whichever thread first asks; the others wait for it).

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
        self._lock = threading.RLock()
        self._device: torch.device | None = None
        self._frames_on_device: bool | None = None
        self._detector = detector
        self._embedder = embedder
        self._failure: BaseException | None = None
        self.choice = choice or (f"{embedder.name}: given" if embedder else "")

    @property
    def device(self) -> torch.device:
        with self._ready():
            if self._device is None:
                self._device = devices.resolve(self.config.device)
                # Both models run on torch: its CPU threads are set before either is built.
                devices.set_threads(self._device, self.config.threads)
            return self._device

    @property
    def frames_on_device(self) -> bool:
        if self._frames_on_device is None:
            self._frames_on_device = self.decode_device is not None
        return self._frames_on_device

    @frames_on_device.setter
    def frames_on_device(self, value: bool) -> None:
        self._frames_on_device = value

    @property
    def decode_device(self) -> torch.device | None:
        """The GPU frame sources decode on, or None: the host. Known without importing
        torch where the run surely stays on the host (`devices.surely_host`), so that a
        clip's shot pass can start while torch and the models load (`loading`)."""
        if self._device is None and devices.surely_host(self.config.device):
            return None
        return self.device if devices.on_gpu(self.device) else None

    @property
    def detector(self) -> Detector:
        with self._ready():
            if self._detector is None:
                from drift_audit.faces.detect import MTCNNDetector

                c = self.config
                self._detector = MTCNNDetector(
                    c.min_face_px, c.detect_confidence, c.detect_max_side, self.device
                )
            return self._detector

    @property
    def embedder(self) -> Embedder:
        with self._ready():
            if self._embedder is None:
                from drift_audit.identity.embedders.registry import build_embedder

                c = self.config
                self._embedder, self.choice = build_embedder(
                    c.embedder, c.weights, self.device, c.embed_batch
                )
            return self._embedder

    def embedder_identity(self) -> tuple[str, str]:
        """(name, weights sha256) of the embedder this run uses, for the cache key:
        read from its weights file without building it where the file is known
        (`registry.embedder_identity`), so that hashing clips need not wait for torch."""
        if self._embedder is None:
            from drift_audit.identity.embedders.registry import embedder_identity

            known = embedder_identity(self.config.embedder, self.config.weights)
            if known is not None:
                return known
        return self.embedder.name, self.embedder.weights_sha256

    def load(self) -> None:
        """Build both models now (a worker loads them before its first clip's budget)."""
        self.detector, self.embedder  # noqa: B018

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """Builds the models in a thread while the body runs, so that importing torch
        and loading the weights (about 2.5 s of one core here) overlap the first clips'
        shot passes, which need neither; whoever asks for a model meanwhile waits.

        A model that fails to load fails the run, as it would have unthreaded: the
        error is raised here on the way out, in the caller's thread; a clip's analysis
        that asked for the models meanwhile stopped (`Stopped`), reported by no one.
        The thread is joined on the way out, whatever ends the body (an interrupt
        waits for torch's import to finish).
        """
        started = threading.Event()

        def load() -> None:
            with self._lock:  # held until both are built: whoever asks meanwhile waits
                started.set()
                try:
                    self.load()
                except BaseException as exc:  # raised in the caller's thread, below
                    self._failure = exc

        thread = threading.Thread(target=load, name="drift-audit-models", daemon=True)
        thread.start()
        started.wait()
        try:
            yield
        finally:
            thread.join()
            if self._failure is not None:
                failure, self._failure = self._failure, None
                raise failure

    @contextlib.contextmanager
    def _ready(self) -> Iterator[None]:
        """The lock, once the models' loader (if any) is done with it; raises Stopped
        when the loader failed: the run is ending with its error (`loading`)."""
        with self._lock:
            if self._failure is not None:
                from drift_audit.run.deadline import Stopped

                raise Stopped("the models did not load")
            yield
