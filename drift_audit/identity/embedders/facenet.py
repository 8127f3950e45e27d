"""facenet-pytorch's InceptionResnetV1 (VGGFace2)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drift_audit.errors import ModelError
from drift_audit.files import sha256_of
from drift_audit.identity.embedders.base import Embedder
from drift_audit.identity.embedders.weights import (
    download_facenet_weights,
    find_facenet_weights,
    load_facenet_state,
)
from drift_audit.types import CROP_SCALE, CROP_SIZE, FaceCrops

if TYPE_CHECKING:
    import torch


class FacenetEmbedder(Embedder):
    """InceptionResnetV1 trained on VGGFace2 (512-d), from facenet-pytorch.

    Args:
        weights: a local weights file; None finds an imported or cached one, or
            downloads it through facenet-pytorch (needs the internet).
        device: where the network runs. Always float32: unlike dlib's network, nobody
            has measured facenet's descriptors in float16 (its weights cannot be
            downloaded here), so `drift_audit.device.half_precision` is not applied.
        batch_size: faces per network call.

    Raises:
        ModelError: the weights file is missing, cannot be downloaded or does not load.
    """

    name = "facenet"
    dim = 512
    # Not measured here: these machines cannot download the weights (see README).
    # 0.5 cosine = 1.0 Euclidean distance between unit vectors, facenet's usual cut-off.
    threshold = 0.50
    uncertain_margin = 0.08

    @staticmethod
    def weights_file(weights: Path | None = None) -> Path | None:
        """`weights`, else an installed file (`find_facenet_weights`); None: the
        weights would be downloaded."""
        return weights or find_facenet_weights()

    def __init__(
        self,
        weights: Path | None = None,
        *,
        device: torch.device | str = "cpu",
        batch_size: int = 32,
    ) -> None:
        import torch
        from facenet_pytorch import InceptionResnetV1

        path = self.weights_file(weights) or download_facenet_weights()
        if not path.is_file():
            raise ModelError(f"{path}: facenet weights file not found")
        self._torch = torch
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.weights_path = str(path)
        self.weights_sha256 = sha256_of(path)
        model = InceptionResnetV1(pretrained=None, classify=False)
        load_facenet_state(model, path)
        self._model = model.eval().to(self.device)

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
