"""Embeds finished tracks in batches as they arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from drift_audit.progress import Timings
from drift_audit.types import FaceCrops, Track

if TYPE_CHECKING:
    from drift_audit.identity.embedders.base import Embedder


class EmbedSink:
    """Embeds finished tracks in batches as they arrive, then keeps only each track's
    best crop (for thumbnails): memory stays flat however long the clip is.

    Embedding time is added to `timings` under "embed".
    """

    def __init__(self, embedder: Embedder, batch: int, timings: Timings) -> None:
        self.embedder, self.batch, self.timings = embedder, batch, timings
        self.tracks: list[Track] = []
        self._waiting: list[Track] = []

    def add(self, tracks: list[Track]) -> None:
        self._waiting.extend(tracks)
        if sum(len(t.crops) for t in self._waiting) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self._waiting:
            return
        with self.timings.stage("embed"):
            crops = FaceCrops(
                np.concatenate([t.crops.images for t in self._waiting]),
                np.concatenate([t.crops.landmarks for t in self._waiting]),
            )
            vectors = self.embedder.embed(crops)  # (kept crops of the waiting tracks, dim)
            start = 0
            for track in self._waiting:
                k = len(track.crops)
                track.embeddings = vectors[start : start + k]
                track.crops = FaceCrops(
                    track.crops.images[:1].copy(), track.crops.landmarks[:1].copy()
                )
                track.crop_quality = track.crop_quality[:1].copy()
                start += k
            self.tracks.extend(self._waiting)
            self._waiting = []
