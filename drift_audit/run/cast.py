"""Cast reference images: the largest face of each, embedded."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drift_audit.errors import InputError
from drift_audit.faces.crop import crop_faces
from drift_audit.run.models import Models


def embed_image(path: Path, models: Models) -> tuple[np.ndarray, np.ndarray]:
    """The embedding and the face crop of the largest face in an image (a cast reference).

    Raises:
        InputError: the image cannot be read or holds no face.
    """
    from drift_audit.decode.base import check_readable

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
