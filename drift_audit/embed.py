"""Face embedders behind one interface. torch and dlib are imported only in here,
and only when an embedder is built.

Each embedder defines its own similarity (1.0 = identical): cosine for facenet,
1 - Euclidean distance for dlib (its descriptors are trained for that metric, and
their cosines all crowd into 0.88-0.95). Each embedder carries its own same-person
threshold, measured on ../shared/media (see README, "Thresholds").
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import socket
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from drift_audit.errors import ModelError
from drift_audit.types import CROP_SCALE, CROP_SIZE, FaceCrops

FACENET_FILE = "20180402-114759-vggface2.pt"
FACENET_URL_NOTE = "facenet-pytorch's release download (github.com/timesler/facenet-pytorch)"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def dlib_model_files() -> tuple[Path, Path]:
    """(shape predictor, ResNet descriptor) shipped by face_recognition_models.

    Found with importlib, without importing the package (its __init__ needs pkg_resources).
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the dlib embedder needs the face_recognition_models package: "
            "pip install face_recognition_models"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = (
        root / "shape_predictor_5_face_landmarks.dat",
        root / "dlib_face_recognition_resnet_model_v1.dat",
    )
    for f in files:
        if not f.is_file():
            raise ModelError(f"{f}: dlib model file missing; reinstall face_recognition_models")
    return files


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return (vectors / norms).astype(np.float32)


class Embedder(ABC):
    """Turns face crops into identity vectors and compares them."""

    name: str
    dim: int
    threshold: float  # similarity at and above which two faces are one person
    uncertain_margin: float  # similarities within this below threshold are "uncertain"
    weights_sha256: str
    weights_path: str
    batch_size: int = 32

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(n, m) float32 similarities of (n, dim) and (m, dim) vectors; 1 = identical."""
        return (a @ b.T).astype(np.float32)

    def centroid(self, vectors: np.ndarray) -> np.ndarray:
        """(dim,) float32: the vector that stands for a group of faces."""
        return _normalise(vectors.mean(axis=0, keepdims=True))[0]

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
        return _normalise(vectors)

    @abstractmethod
    def _embed_batch(self, crops: FaceCrops) -> np.ndarray: ...


def crop_face_box() -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the face in a crop (`crop_faces`): centred,
    CROP_SIZE / CROP_SCALE wide; where dlib's shape predictor looks for it."""
    half, c = CROP_SIZE / CROP_SCALE / 2, CROP_SIZE / 2
    return int(c - half), int(c - half), int(c + half), int(c + half)


class DlibEmbedder(Embedder):
    """dlib's ResNet face descriptor (128-d, CC0 weights): fully offline.

    The crop's face box is known (centred, CROP_SIZE / CROP_SCALE wide), so dlib's
    5-point shape predictor aligns inside it and dlib cuts its 150 px chip; no second
    detector runs. The network itself runs in torch (`dlib_torch`, the same weights
    read from dlib's file): batched, on the CPU or a GPU, and measured 11.7x faster than
    dlib's own on one CPU thread, with descriptors equal to dlib's within 1.2e-6.
    """

    name = "dlib"
    dim = 128
    # 1 - dlib's usual 0.6 distance tolerance; checked on ../shared/media with this
    # crop pipeline (make calibrate, README "Thresholds").
    threshold = 0.40
    uncertain_margin = 0.06

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # float64: in float32 the expansion leaves ~5e-7 where it should leave 0, and
        # its square root reads as a distance of 7e-4 between a vector and itself.
        a, b = a.astype(np.float64), b.astype(np.float64)
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
        return (1.0 - np.sqrt(np.clip(sq, 0.0, None))).astype(np.float32)

    def centroid(self, vectors: np.ndarray) -> np.ndarray:
        return vectors.mean(axis=0).astype(np.float32)

    def _finish(self, vectors: np.ndarray) -> np.ndarray:
        return vectors.astype(np.float32)

    def __init__(self, batch_size: int = 32, device: str = "cpu", half: bool | None = None) -> None:
        """half: the network in float16; None: on CUDA only. Measured on 13 real faces
        (on the CPU): within 0.0016 of float32's descriptors, where same and different
        people lie 0.13 apart at the least."""
        import dlib
        import torch

        from drift_audit.dlib_torch import DlibFormatError, load_dlib_resnet

        predictor_path, resnet_path = dlib_model_files()
        self._dlib = dlib
        self._torch = torch
        self._predictor = dlib.shape_predictor(str(predictor_path))
        half = device.startswith("cuda") if half is None else half
        self._dtype = torch.float16 if half else torch.float32
        try:
            self._net = load_dlib_resnet(resnet_path).to(device, self._dtype)
        except (DlibFormatError, OSError) as exc:
            raise ModelError(f"{resnet_path}: cannot read dlib's face network ({exc})") from exc
        self.device = device
        self.weights_path = str(resnet_path)
        self.weights_sha256 = sha256_of(resnet_path)
        self.batch_size = batch_size
        self._rect = dlib.rectangle(*crop_face_box())

    def chips(self, crops: FaceCrops) -> np.ndarray:
        """(n, 150, 150, 3) uint8: dlib's aligned chips, as compute_face_descriptor cuts them."""
        from drift_audit.dlib_torch import CHIP_PADDING, CHIP_SIZE

        chips = []
        for image in crops.images:
            image = np.ascontiguousarray(image)
            shape = self._predictor(image, self._rect)
            chips.append(self._dlib.get_face_chip(image, shape, CHIP_SIZE, CHIP_PADDING))
        return np.stack(chips)

    def _embed_batch(self, crops: FaceCrops) -> np.ndarray:
        chips = self._torch.from_numpy(self.chips(crops)).to(self.device)
        with self._torch.inference_mode():
            vectors = self._net(chips.permute(0, 3, 1, 2).to(self._dtype))
        return vectors.float().cpu().numpy()


class FacenetEmbedder(Embedder):
    """InceptionResnetV1 trained on VGGFace2 (512-d), from facenet-pytorch.

    Args:
        weights: a local weights file; None finds an imported or cached one, or
            downloads it through facenet-pytorch (needs the internet).
        device: torch device string.
    """

    name = "facenet"
    dim = 512
    # Not measured here: these machines cannot download the weights (see README).
    # 0.5 cosine = 1.0 Euclidean distance between unit vectors, facenet's usual cut-off.
    threshold = 0.50
    uncertain_margin = 0.08

    def __init__(
        self, weights: Path | None = None, device: str = "cpu", batch_size: int = 32
    ) -> None:
        import torch
        from facenet_pytorch import InceptionResnetV1

        path = weights or find_facenet_weights() or download_facenet_weights()
        if not path.is_file():
            raise ModelError(f"{path}: facenet weights file not found")
        self._torch = torch
        self.device = device
        self.batch_size = batch_size
        self.weights_path = str(path)
        self.weights_sha256 = sha256_of(path)
        model = InceptionResnetV1(pretrained=None, classify=False)
        load_facenet_state(model, path)
        self._model = model.eval().to(device)

    def _embed_batch(self, crops: FaceCrops) -> np.ndarray:
        torch = self._torch
        # The face box spans CROP_SIZE / CROP_SCALE; facenet wants it with a ~10% margin.
        side = round(CROP_SIZE / CROP_SCALE * 1.1)
        lo = (CROP_SIZE - side) // 2
        x = torch.from_numpy(crops.images[:, lo : lo + side, lo : lo + side]).to(self.device)
        x = x.permute(0, 3, 1, 2).float()  # (b, 3, side, side)
        x = torch.nn.functional.interpolate(
            x, size=(160, 160), mode="bilinear", align_corners=False
        )
        x = (x - 127.5) / 128.0  # facenet-pytorch's fixed_image_standardization
        with torch.inference_mode():
            out = self._model(x)  # (b, 512)
        return out.float().cpu().numpy()


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

    The copy is written to a temporary file and renamed, so an interrupted import
    never leaves a half file where the embedder would find it.
    """
    from facenet_pytorch import InceptionResnetV1

    if not source.is_file():
        raise ModelError(f"{source}: no such file")
    load_facenet_state(InceptionResnetV1(pretrained=None, classify=False), source)
    target_dir = models_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".import-")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target_dir / FACENET_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target_dir / FACENET_FILE


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
