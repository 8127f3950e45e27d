"""Face quality counts blur: a smeared face is thin evidence, a sharp or stylized one is not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from drift_audit.faces.crop import blur_measure, sharpness
from drift_audit.types import CROP_SIZE
from tests.generated import MEDIA


def _crop(face: np.ndarray) -> np.ndarray:
    """A CROP_SIZE crop with `face` (RGB) filling its centre as crop_faces places it."""
    from drift_audit.types import CROP_SCALE

    side = round(CROP_SIZE / CROP_SCALE)
    out = np.full((CROP_SIZE, CROP_SIZE, 3), 128, np.uint8)
    lo = (CROP_SIZE - side) // 2
    out[lo : lo + side, lo : lo + side] = cv2.resize(face, (side, side))
    return out


def test_a_flat_patch_is_all_blur() -> None:
    assert blur_measure(np.full((64, 64), 100, np.float32)) == 1.0


def test_blur_lowers_sharpness_and_the_measure_ignores_contrast() -> None:
    rng = np.random.default_rng(0)
    texture = cv2.resize(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8), (128, 128))
    sharp = sharpness(np.stack([_crop(texture)]))[0]
    blurred = sharpness(np.stack([_crop(cv2.GaussianBlur(texture, (0, 0), 6))]))[0]
    faint = (texture // 4 + 96).astype(np.uint8)
    assert sharp > 0.9 and blurred < 0.3
    assert abs(sharpness(np.stack([_crop(faint)]))[0] - sharp) < 0.1


@pytest.mark.skipif(not (MEDIA / "faces").is_dir(), reason="needs ../shared/media")
@pytest.mark.slow
def test_real_faces_lose_quality_to_blur_not_to_stylization() -> None:
    """At a 75 px face: as taken and stylized keep their quality; a 3 px blur at least
    halves it, and makes 80 % of the portraits thin evidence (below 0.3)."""
    from drift_audit.config import AuditConfig
    from drift_audit.faces.crop import crop_faces
    from drift_audit.faces.detect import face_quality
    from drift_audit.identity.characters import WEAK_EVIDENCE
    from drift_audit.run.models import Models

    detector = Models(AuditConfig()).detector
    photos = sorted(p for p in (MEDIA / "faces").glob("*/*") if "small" not in p.name)
    weak = []
    for photo in photos:
        image = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
        found = detector.detect(image[None], np.array([0]))
        image = cv2.resize(
            image,
            None,
            fx=75 / float(found.size.max()),
            fy=75 / float(found.size.max()),
            interpolation=cv2.INTER_AREA,
        )
        looks = {
            "as taken": image,
            "stylized": cv2.cvtColor(
                cv2.stylization(cv2.cvtColor(image, cv2.COLOR_RGB2BGR)), cv2.COLOR_BGR2RGB
            ),
            "blurred": cv2.GaussianBlur(image, (0, 0), 3),
        }
        for look, frame in looks.items():
            faces = detector.detect(np.ascontiguousarray(frame)[None], np.array([0]))
            best = int(np.argmax(faces.size))
            plain = float(face_quality(faces)[best])
            counted = float(face_quality(faces, crop_faces(frame, faces))[best])
            if look == "blurred":
                assert counted < 0.55 * plain, (photo.name, plain, counted)
                weak.append(counted < WEAK_EVIDENCE)
            else:
                assert counted > 0.95 * plain, (photo.name, look, plain, counted)
    assert sum(weak) >= 0.8 * len(weak), weak
