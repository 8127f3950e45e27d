"""Cast reference images: the largest face of each, embedded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from drift_audit.config import CastMember
from drift_audit.decode.base import check_readable
from drift_audit.errors import InputError
from drift_audit.faces.crop import crop_faces

if TYPE_CHECKING:
    from drift_audit.run.models import Models


def embed_image(path: Path, models: Models) -> tuple[np.ndarray, np.ndarray]:
    """The embedding and the face crop of the largest face in an image (a cast reference).

    Raises:
        InputError: the image cannot be read or holds no face.
    """
    check_readable(path)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(str(path), "not a readable image")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    faces = models.detector.detect(rgb[None], np.zeros(1, np.int64))
    if len(faces) == 0:
        raise InputError(str(path), "no face found in the reference image")
    largest = faces.select(np.array([int(np.argmax(faces.size))]))
    crops = crop_faces(rgb, largest)
    return models.embedder.centroid(models.embedder.embed(crops)), crops.images[0]


def embed_cast(
    cast: tuple[CastMember, ...], models: Models
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(name -> embedding, name -> face crop) of every cast member's reference image.

    Raises:
        InputError: an image cannot be read or holds no face.
    """
    embeddings: dict[str, np.ndarray] = {}
    images: dict[str, np.ndarray] = {}
    for member in cast:
        embeddings[member.name], images[member.name] = embed_image(member.image, models)
    return embeddings, images
