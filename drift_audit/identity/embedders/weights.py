"""Where facenet's weights are found, downloaded to, and imported into."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from drift_audit.errors import ModelError, OutputError
from drift_audit.files import write_atomic

FACENET_FILE = "20180402-114759-vggface2.pt"


FACENET_URL_NOTE = "facenet-pytorch's release download (github.com/timesler/facenet-pytorch)"


def models_dir() -> Path:
    """Where `drift-audit models import` puts weights: $DRIFT_AUDIT_HOME/models,
    else $XDG_DATA_HOME/drift-audit/models, else ~/.local/share/drift-audit/models."""
    home = os.environ.get("DRIFT_AUDIT_HOME")
    if home:
        return Path(home) / "models"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "drift-audit" / "models"


def torch_hub_facenet() -> Path:
    """Where facenet-pytorch itself caches the downloaded vggface2 weights."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch"
    )
    return Path(torch_home) / "checkpoints" / FACENET_FILE


def find_facenet_weights() -> Path | None:
    """The first facenet weights file present: imported ones, then facenet-pytorch's cache."""
    for candidate in (models_dir() / FACENET_FILE, torch_hub_facenet()):
        if candidate.is_file():
            return candidate
    return None


def download_facenet_weights() -> Path:
    """Download the vggface2 weights the way facenet-pytorch does, into its cache."""
    from facenet_pytorch.models.inception_resnet_v1 import load_weights

    class _Sink:
        def load_state_dict(self, _state: object) -> None:
            pass

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)
    try:
        load_weights(_Sink(), "vggface2")
    except Exception as exc:
        raise ModelError(
            f"could not download the facenet vggface2 weights from {FACENET_URL_NOTE} "
            f"({type(exc).__name__}: {str(exc)[:120]}); give a local copy with --weights PATH "
            "or `drift-audit models import PATH`, or use --embedder dlib"
        ) from None
    finally:
        socket.setdefaulttimeout(previous)
    return torch_hub_facenet()


def import_facenet_weights(source: Path) -> Path:
    """Check that `source` loads as facenet weights, then copy it into models_dir().

    The copy goes through the atomic writer, so an interrupted import never leaves a
    half file where the embedder would find it, and the file is readable by others as
    the umask allows (like any file the user copies).

    Args:
        source: a vggface2 InceptionResnetV1 state dict.

    Returns:
        The installed file.

    Raises:
        ModelError: `source` is missing, does not load as facenet weights, or cannot be
            copied into models_dir().
    """
    from facenet_pytorch import InceptionResnetV1

    if not source.is_file():
        raise ModelError(f"{source}: no such file")
    load_facenet_state(InceptionResnetV1(pretrained=None, classify=False), source)
    target = models_dir() / FACENET_FILE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, source.read_bytes())
    except (OSError, OutputError) as exc:
        # Both name the file; the CLI prints a ModelError as one line, not a traceback.
        raise ModelError(f"cannot install the facenet weights: {exc}") from None
    return target


def load_facenet_state(model: object, path: Path) -> None:
    """Load a vggface2 state dict into an InceptionResnetV1, ignoring its classifier."""
    import torch

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(
            f"{path}: not a readable torch weights file ({type(exc).__name__})"
        ) from None
    if not isinstance(state, dict):
        raise ModelError(f"{path}: not a state dict")
    state = {k: v for k, v in state.items() if not k.startswith("logits.")}
    try:
        model.load_state_dict(state, strict=True)  # type: ignore[attr-defined]
    except RuntimeError as exc:
        first = str(exc).splitlines()[1:2] or [str(exc)]
        raise ModelError(f"{path}: not InceptionResnetV1 weights ({first[0].strip()})") from None
