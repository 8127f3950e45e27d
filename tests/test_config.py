"""AuditConfig: every range check names its option; contradictions are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from drift_audit.config import AuditConfig, CastMember
from drift_audit.errors import ConfigError, DriftAuditError


def test_defaults_are_valid() -> None:
    config = AuditConfig()
    assert config.embedder == "auto"
    assert config.fail_on == "fail"
    assert config.cast == ()


@pytest.mark.parametrize(
    ("field", "bad", "names"),
    [
        ("sample_fps", 0.0, "--sample-fps"),
        ("sample_fps", 121.0, "--sample-fps"),
        ("sample_fps", float("nan"), "--sample-fps"),
        ("shot_threshold", 0.5, "shot threshold"),
        ("shot_threshold", 256.0, "shot threshold"),
        ("min_shot_frames", 0, "min shot frames"),
        ("min_shot_frames", 101, "min shot frames"),
        ("min_face_px", 7, "--min-face"),
        ("min_face_px", 2001, "--min-face"),
        ("detect_confidence", 0.49, "--confidence"),
        ("detect_confidence", 1.0, "--confidence"),
        ("detect_max_side", 159, "detect max side"),
        ("detect_max_side", 8193, "detect max side"),
        ("detect_batch", 0, "detect batch"),
        ("detect_batch", 257, "detect batch"),
        ("faces_per_track", 0, "--faces-per-track"),
        ("faces_per_track", 101, "--faces-per-track"),
        ("embed_batch", 0, "--batch-size"),
        ("embed_batch", 1025, "--batch-size"),
        ("embedder", "arcface", "--embedder"),
        ("decoder", "pyav", "--decoder"),
        ("device", "tpu", "--device"),
        ("fail_on", "error", "--fail-on"),
        ("threshold", 1.0, "--threshold"),
        ("threshold", -1.0, "--threshold"),
        ("clip_timeout_s", -1.0, "--clip-timeout"),
    ],
)
def test_out_of_range_value_names_the_option(field: str, bad: object, names: str) -> None:
    with pytest.raises(ConfigError) as info:
        AuditConfig(**{field: bad})  # type: ignore[arg-type]
    message = str(info.value)
    assert names in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sample_fps", 0.1),
        ("sample_fps", 120.0),
        ("shot_threshold", 1.0),
        ("min_shot_frames", 1),
        ("min_face_px", 8),
        ("detect_confidence", 0.5),
        ("detect_max_side", 160),
        ("faces_per_track", 100),
        ("embed_batch", 1024),
        ("threshold", 0.0),
        ("threshold", -0.5),
        ("clip_timeout_s", 0.0),
    ],
)
def test_range_ends_are_accepted(field: str, value: object) -> None:
    config = AuditConfig(**{field: value})  # type: ignore[arg-type]
    assert getattr(config, field) == value


def test_config_error_is_a_drift_audit_error() -> None:
    with pytest.raises(DriftAuditError):
        AuditConfig(sample_fps=0)


def test_duplicate_cast_names_are_refused(tmp_path: Path) -> None:
    cast = (CastMember("ann", tmp_path / "a.png"), CastMember("ann", tmp_path / "b.png"))
    with pytest.raises(ConfigError, match="--cast"):
        AuditConfig(cast=cast)


def test_distinct_cast_names_are_accepted(tmp_path: Path) -> None:
    cast = (CastMember("ann", tmp_path / "a.png"), CastMember("bob", tmp_path / "b.png"))
    assert AuditConfig(cast=cast).cast == cast


def test_weights_with_dlib_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--weights"):
        AuditConfig(embedder="dlib", weights=tmp_path / "w.pt")


@pytest.mark.parametrize("embedder", ["auto", "facenet"])
def test_weights_with_facenet_or_auto_are_accepted(tmp_path: Path, embedder: str) -> None:
    config = AuditConfig(embedder=embedder, weights=tmp_path / "w.pt")
    assert config.weights == tmp_path / "w.pt"


def test_config_is_frozen() -> None:
    config = AuditConfig()
    with pytest.raises(AttributeError):
        config.sample_fps = 1.0  # type: ignore[misc]
