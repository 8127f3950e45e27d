"""Embedders with the installed dlib files and a random-weights facenet file.

No download: facenet weights are random (saved from an untrained InceptionResnetV1),
which is enough to check loading, shapes, normalisation and the auto choice.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drift_audit import config
from drift_audit.errors import ConfigError, ModelError
from drift_audit.identity.embedders import dlib as dlib_embedder
from drift_audit.identity.embedders import facenet, registry, weights
from drift_audit.types import CROP_SIZE, FaceCrops


def synthetic_crops(n: int, seed: int = 0) -> FaceCrops:
    """Rough face-like crops: a skin-coloured disc with dark eyes and mouth."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:CROP_SIZE, :CROP_SIZE]
    c = CROP_SIZE / 2
    images = np.empty((n, CROP_SIZE, CROP_SIZE, 3), np.uint8)
    for i in range(n):
        image = np.full((CROP_SIZE, CROP_SIZE, 3), rng.integers(40, 90), np.uint8)
        disc = (xx - c) ** 2 / 60**2 + (yy - c) ** 2 / 75**2 <= 1
        image[disc] = rng.integers(150, 230, 3)
        for ex in (c - 25, c + 25):
            image[(xx - ex) ** 2 + (yy - c + 15) ** 2 <= 49] = 30
        image[int(c + 35) : int(c + 42), int(c - 20) : int(c + 20)] = 60
        images[i] = image
    points = [[c - 25, c - 15], [c + 25, c - 15], [c, c + 10], [c - 18, c + 38], [c + 18, c + 38]]
    landmarks = np.tile(np.float32(points), (n, 1, 1))
    return FaceCrops(images, landmarks)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def random_facenet_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from facenet_pytorch import InceptionResnetV1

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "random-facenet.pt"
    torch.save(InceptionResnetV1(pretrained=None).state_dict(), path)
    return path


@pytest.fixture
def no_installed_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty model folders: nothing imported, nothing in facenet-pytorch's cache."""
    home = tmp_path / "home"
    monkeypatch.setenv("DRIFT_AUDIT_HOME", str(home))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return home


# --- paths, no models -------------------------------------------------------------


def test_models_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_AUDIT_HOME", str(tmp_path / "h"))
    assert weights.models_dir() == tmp_path / "h" / "models"
    monkeypatch.delenv("DRIFT_AUDIT_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert weights.models_dir() == tmp_path / "xdg" / "drift-audit" / "models"


def test_no_facenet_weights_are_found_in_empty_folders(no_installed_weights: Path) -> None:
    assert weights.find_facenet_weights() is None


def test_dlib_model_files_are_found_without_importing_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "face_recognition_models", raising=False)
    predictor, resnet = dlib_embedder.dlib_model_files()
    assert predictor.name == "shape_predictor_5_face_landmarks.dat"
    assert resnet.name == "dlib_face_recognition_resnet_model_v1.dat"
    assert predictor.is_file() and resnet.is_file()
    assert "face_recognition_models" not in sys.modules


# --- the registry, no models -------------------------------------------------------


def test_the_registry_names_the_cli_and_config_choices() -> None:
    assert registry.CHOICES == ("auto", "dlib", "facenet")
    assert config.EMBEDDERS == registry.CHOICES


def test_importing_the_registry_and_the_cli_loads_no_model_package() -> None:
    # `drift-audit --help` builds its choices from the registry; it must not wait for torch.
    code = (
        "import sys, drift_audit.identity.embedders.registry, drift_audit.cli; "
        "print(sorted({'torch', 'dlib', 'facenet_pytorch', 'numpy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_auto_chooses_facenet_only_with_weights(no_installed_weights: Path, tmp_path: Path) -> None:
    # These lines are printed in the terminal and HTML reports: byte for byte.
    assert registry.choose("auto", None) == (
        "dlib",
        "auto: no facenet weights installed, using dlib (fully offline)",
    )
    given = tmp_path / "given.pt"
    assert registry.choose("auto", given) == ("facenet", "auto: facenet weights found")
    installed = weights.models_dir() / weights.FACENET_FILE
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"x")
    assert registry.choose("auto", None) == ("facenet", "auto: facenet weights found")
    assert registry.choose("dlib", None) == ("dlib", "dlib: asked for")


def test_an_unknown_embedder_or_weights_for_dlib_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="one of auto, dlib, facenet"):
        registry.build_embedder("arcface", None, "cpu", 8)
    with pytest.raises(ConfigError, match="--weights"):
        registry.build_embedder("dlib", tmp_path / "w.pt", "cpu", 8)


def test_a_missing_package_is_a_model_error_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = registry.EmbedderSpec(
        "drift_audit.identity.embedders.dlib:DlibEmbedder",
        (("torch", "torch"), ("no_such_module_here", "no-such-package")),
    )
    monkeypatch.setitem(registry.EMBEDDERS, "dlib", spec)
    assert spec.missing() == [("no_such_module_here", "no-such-package")]
    with pytest.raises(ModelError, match="pip install no-such-package"):
        registry.build_embedder("dlib", None, "cpu", 8)


# --- dlib -----------------------------------------------------------------------


@pytest.mark.slow
def test_dlib_embedder_embeds_crops() -> None:
    embedder = dlib_embedder.DlibEmbedder(batch_size=1)
    crops = synthetic_crops(2)
    vectors = embedder.embed(crops)  # two batches of one
    assert vectors.shape == (2, 128)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    assert embedder.weights_sha256 == sha256(Path(embedder.weights_path))
    together = dlib_embedder.DlibEmbedder(batch_size=8).embed(crops)
    assert np.allclose(vectors, together, atol=1e-5)
    sim = embedder.similarity(vectors, vectors)
    assert np.allclose(np.diag(sim), 1.0, atol=1e-5)
    assert embedder.embed(FaceCrops.empty()).shape == (0, 128)


# --- facenet ----------------------------------------------------------------------


@pytest.mark.slow
def test_facenet_embedder_loads_a_weights_file(random_facenet_weights: Path) -> None:
    embedder = facenet.FacenetEmbedder(weights=random_facenet_weights, device="cpu", batch_size=2)
    vectors = embedder.embed(synthetic_crops(3))
    assert vectors.shape == (3, 512)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.weights_sha256 == sha256(random_facenet_weights)
    assert embedder.weights_path == str(random_facenet_weights)


@pytest.mark.slow
def test_garbage_weights_file_is_a_model_error_naming_it(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a torch file" * 100)
    with pytest.raises(ModelError) as info:
        facenet.FacenetEmbedder(weights=garbage)
    assert str(garbage) in str(info.value)


@pytest.mark.slow
def test_wrong_state_dict_is_a_model_error(tmp_path: Path) -> None:
    import torch

    wrong = tmp_path / "wrong.pt"
    torch.save({"conv.weight": torch.zeros(3, 3)}, wrong)
    with pytest.raises(ModelError, match="InceptionResnetV1") as info:
        facenet.FacenetEmbedder(weights=wrong)
    assert str(wrong) in str(info.value)


@pytest.mark.slow
def test_import_then_auto_picks_facenet(
    random_facenet_weights: Path, no_installed_weights: Path
) -> None:
    target = weights.import_facenet_weights(random_facenet_weights)
    assert target == weights.models_dir() / weights.FACENET_FILE
    assert target.parent.parent == no_installed_weights
    assert sha256(target) == sha256(random_facenet_weights)
    assert [p.name for p in target.parent.iterdir()] == [weights.FACENET_FILE]  # no temp file left
    embedder, why = registry.build_embedder("auto", None, "cpu", 8)
    assert embedder.name == "facenet"
    assert embedder.weights_path == str(target)
    assert "facenet" in why
    assert embedder.batch_size == 8


@pytest.mark.slow
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_imported_weights_are_readable_as_the_umask_allows(
    random_facenet_weights: Path, no_installed_weights: Path, umask: int, mode: int
) -> None:
    previous = os.umask(umask)
    try:
        target = weights.import_facenet_weights(random_facenet_weights)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == mode


@pytest.mark.slow
def test_import_refuses_garbage_and_installs_nothing(
    tmp_path: Path, no_installed_weights: Path
) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"garbage")
    with pytest.raises(ModelError, match=r"garbage\.pt"):
        weights.import_facenet_weights(garbage)
    assert weights.find_facenet_weights() is None


@pytest.mark.slow
def test_import_of_a_missing_file_is_a_model_error(
    tmp_path: Path, no_installed_weights: Path
) -> None:
    with pytest.raises(ModelError, match="no such file"):
        weights.import_facenet_weights(tmp_path / "none.pt")


@pytest.mark.slow
def test_auto_without_weights_picks_dlib_and_says_so(no_installed_weights: Path) -> None:
    embedder, why = registry.build_embedder("auto", None, "cpu", 8)
    assert embedder.name == "dlib"
    assert embedder.dim == 128
    assert "dlib" in why
    assert "no facenet weights" in why
