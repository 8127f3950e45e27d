"""The interface every face embedder implements. torch, dlib and facenet-pytorch are
imported by the embedder modules (dlib.py, dlib_net.py, facenet.py), and only when one
is built: registry.py names the embedders without importing them.

Each embedder defines its own similarity (1.0 = identical): cosine for facenet,
1 - Euclidean distance for dlib (its descriptors are trained for that metric, and
their cosines all crowd into 0.88-0.95). Each embedder carries its own same-person
threshold, measured on ../shared/media (see README, "Thresholds").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from drift_audit.types import FaceCrops


def normalise(vectors: np.ndarray) -> np.ndarray:
    """(n, d) float32 unit rows; a zero row stays zero instead of dividing by zero."""
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return (vectors / norms).astype(np.float32)


class Embedder(ABC):
    """Turns face crops into identity vectors and compares them."""

    name: str
    dim: int
    threshold: float  # similarity at and above which two faces are one person
    uncertain_margin: float  # a "same" verdict needs the threshold plus this
    # A "different" verdict needs a similarity below the threshold less this: the
    # measured top of the different-person band; None: the uncertain margin.
    different_margin: float | None = None
    weights_sha256: str
    weights_path: str
    batch_size: int = 32

    @staticmethod
    def weights_file(weights: Path | None = None) -> Path | None:
        """The file whose sha256 `weights_sha256` will be, found without building the
        embedder or importing torch (the cache key needs it before torch has loaded);
        None: only building it tells."""
        return None

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(n, m) float32 similarities of (n, dim) and (m, dim) vectors; 1 = identical."""
        return (a @ b.T).astype(np.float32)

    def centroid(self, vectors: np.ndarray) -> np.ndarray:
        """(dim,) float32: the vector that stands for a group of faces."""
        return normalise(vectors.mean(axis=0, keepdims=True))[0]

    def embed(self, crops: FaceCrops) -> np.ndarray:
        """(n, dim) float32, computed in batches of `batch_size`."""
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        parts = [
            self._embed_batch(
                FaceCrops(
                    crops.images[i : i + self.batch_size], crops.landmarks[i : i + self.batch_size]
                )
            )
            for i in range(0, len(crops), self.batch_size)
        ]
        return self._finish(np.concatenate(parts))

    def _finish(self, vectors: np.ndarray) -> np.ndarray:
        return normalise(vectors)

    @abstractmethod
    def _embed_batch(self, crops: FaceCrops) -> np.ndarray: ...
