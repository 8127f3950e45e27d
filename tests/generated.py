"""Where the synthetic fixtures and the clips built from ../shared/media live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "fixtures" / "generated"
MEDIA = REPO.parent / "shared" / "media"

needs_media = pytest.mark.skipif(
    not MEDIA.is_dir(), reason=f"{MEDIA} is absent (real faces are not in the repository)"
)


def generated_dir(factory: pytest.TempPathFactory) -> Path:
    """fixtures/generated when `make fixtures` built it, else a fresh build in a temp dir."""
    if (GENERATED / "manifest.json").is_file():
        return GENERATED
    from scripts.make_fixtures import make_fixtures

    out = factory.mktemp("fixtures")
    make_fixtures(out, log=False)
    return out


def manifest(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "manifest.json").read_text())["files"]  # type: ignore[no-any-return]


def on_demand(factory: pytest.TempPathFactory, *names: str) -> tuple[Path, dict[str, Any]]:
    """A fresh folder with the named clips that scripts/make_fixtures.py builds on demand
    (damaged and odd-timestamp clips kept out of fixtures/generated), and their entries."""
    from scripts.make_fixtures import build_on_demand

    out = factory.mktemp("on_demand")
    return out, build_on_demand(out, names)


def opencv_decodes_av1(directory: Path) -> bool:
    """Whether this OpenCV build's FFmpeg decodes AV1 video, asked of OpenCV itself on the
    AV1 fixture: opencv-python-headless 5.1 has a software AV1 decoder, 5.0 had none. The
    tests hold drift-audit to whichever it is: every frame exact, or the plain reason."""
    import cv2

    capture = cv2.VideoCapture(str(directory / "stamped_av1.mkv"))
    try:
        return bool(capture.isOpened() and capture.read()[0])
    finally:
        capture.release()
