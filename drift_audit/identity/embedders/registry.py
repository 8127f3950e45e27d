"""The embedders by name, and building the one a run asks for."""

from __future__ import annotations

from pathlib import Path

from drift_audit.identity.embedders.base import Embedder
from drift_audit.identity.embedders.dlib import DlibEmbedder
from drift_audit.identity.embedders.facenet import FacenetEmbedder
from drift_audit.identity.embedders.weights import find_facenet_weights


def build_embedder(
    name: str, weights: Path | None, device: str, batch_size: int
) -> tuple[Embedder, str]:
    """The embedder asked for, and a line saying which one `auto` chose and why."""
    if name == "auto":
        if weights is not None or find_facenet_weights() is not None:
            name, why = "facenet", "auto: facenet weights found"
        else:
            name, why = "dlib", "auto: no facenet weights installed, using dlib (fully offline)"
    else:
        why = f"{name}: asked for"
    if name == "facenet":
        return FacenetEmbedder(weights, device, batch_size), why
    return DlibEmbedder(batch_size, device), why
