"""Per-clip analysis cache: shots, tracks, crops and embeddings of one clip, keyed by
the clip's content hash, every setting that changes the analysis, and the embedder's
weights. Clustering and drift always re-run over everything.

Entries are .npz files (no pickle: a cache folder must never be able to run code)
with a JSON header and a checksum; an entry that fails to load, or whose key or
checksum does not match, is ignored and rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from drift_audit import __version__
from drift_audit.config import AuditConfig
from drift_audit.errors import OutputError
from drift_audit.files import write_atomic
from drift_audit.types import ClipResult, FaceCrops, Faces, Glitch, Shot, Track, VideoInfo

CACHE_FORMAT = 6  # 5: the key carries the analysis code's fingerprint; 6: decode_errors
# The settings that change what analyse_clip produces (not clustering, drift or output).
_KEYED = (
    "sample_fps",
    "shot_threshold",
    "min_shot_frames",
    "min_face_px",
    "detect_confidence",
    "detect_max_side",
    "redetect_s",
    "faces_per_track",
    "decoder",
    "sequence_fps",  # a still's and an image sequence's frame times
)


def default_dir() -> Path:
    """$DRIFT_AUDIT_CACHE, else $XDG_CACHE_HOME/drift-audit, else ~/.cache/drift-audit."""
    env = os.environ.get("DRIFT_AUDIT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drift-audit"


# The code whose output a cache entry holds (relative to the package).
_ANALYSIS_CODE = (
    "run",
    "decode",
    "faces",
    "identity/embedders",
    "shots.py",
    "types.py",
    "cache.py",
)


@functools.cache
def code_fingerprint() -> str:
    """sha256 of the analysis code's source files: an entry written by other code
    (an upgrade, a local edit that forgot to bump CACHE_FORMAT) is never trusted."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for part in _ANALYSIS_CODE:
        files = sorted((root / part).rglob("*.py")) if (root / part).is_dir() else [root / part]
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_identity(path: Path) -> tuple[int, int, int, int]:
    """(device, inode, size, mtime in ns): what changes when a file is replaced or
    rewritten between its hashing and the storing of its analysis."""
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def cache_key(
    content_sha256: str, config: AuditConfig, embedder_name: str, weights_sha256: str
) -> str:
    """The entry's name: the clip's content, the settings that change its analysis,
    the embedder and its weights, drift-audit's version and its analysis code."""
    settings = {name: getattr(config, name) for name in _KEYED}
    blob = json.dumps(
        {
            "format": CACHE_FORMAT,
            "version": __version__,
            "code": code_fingerprint(),
            "clip": content_sha256,
            "settings": settings,
            "embedder": embedder_name,
            "weights": weights_sha256,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class ClipCache:
    """Load and store ClipResults under a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0

    def sweep(self) -> int:
        """Remove the temporary entries that killed runs left (files.sweep_temp_files);
        returns how many."""
        from drift_audit.files import sweep_temp_files

        if not self.folder.is_dir():
            return 0
        return sum(sweep_temp_files(sub) for sub in self.folder.iterdir() if sub.is_dir())

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npz"

    def load(self, key: str, index: int, path: str) -> ClipResult | None:
        entry = self._path(key)
        if not entry.is_file():
            return None
        try:
            result = _decode(entry.read_bytes(), key, index, path)
        except Exception:  # corrupt, truncated, stale format: never trusted
            return None
        self.hits += 1
        return result

    def store(self, key: str, result: ClipResult) -> None:
        entry = self._path(key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(entry, _encode(result, key))  # no temporary file left on error
        except (OSError, OutputError):
            pass  # a cache that cannot be written only costs time


def _encode(result: ClipResult, key: str) -> bytes:
    assert result.info is not None
    tracks = result.tracks
    header = {
        "format": CACHE_FORMAT,
        "key": key,
        "info": asdict(result.info),
        "frames_read": result.frames_read,
        "frames_expected": result.frames_expected,
        "corrupt_frames": result.corrupt_frames,
        "decode_errors": result.decode_errors,
        "shots": [asdict(s) for s in result.shots],
        "glitches": [asdict(g) for g in result.glitches],
        "tracks": [
            {
                "shot": t.shot,
                "faces": len(t.faces),
                "crops": len(t.crops),
                "embeddings": len(t.embeddings),
            }
            for t in tracks
        ],
        "timings": result.timings,
    }
    arrays: dict[str, np.ndarray] = {
        "time_index": np.array(sorted(result.times), np.int64),
        "time_value": np.array([result.times[k] for k in sorted(result.times)], np.float64),
    }

    def cat(parts: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros((0, *shape), dtype)

    arrays["face_frame"] = cat([t.faces.frame for t in tracks], (), np.int64)
    arrays["face_xyxy"] = cat([t.faces.xyxy for t in tracks], (4,), np.float32)
    arrays["face_score"] = cat([t.faces.score for t in tracks], (), np.float32)
    arrays["face_landmarks"] = cat([t.faces.landmarks for t in tracks], (5, 2), np.float32)
    arrays["crop_images"] = cat([t.crops.images for t in tracks], (224, 224, 3), np.uint8)
    arrays["crop_landmarks"] = cat([t.crops.landmarks for t in tracks], (5, 2), np.float32)
    arrays["crop_quality"] = cat([t.crop_quality for t in tracks], (), np.float32)
    arrays["embeddings"] = cat([t.embeddings for t in tracks], (0,), np.float32)
    arrays["attributes"] = (
        np.stack(
            [
                t.attributes if t.attributes is not None else np.full((4, 4), np.nan, np.float32)
                for t in tracks
            ]
        )
        if tracks
        else np.zeros((0, 4, 4), np.float32)
    )
    buffer = io.BytesIO()
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    # numpy's stub types savez's **kwds as its allow_pickle flag.
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    payload = buffer.getvalue()
    return hashlib.sha256(payload).digest() + payload


def _decode(data: bytes, key: str, index: int, path: str) -> ClipResult:
    checksum, payload = data[:32], data[32:]
    if hashlib.sha256(payload).digest() != checksum:
        raise ValueError("checksum mismatch")
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    header: dict[str, Any] = json.loads(arrays.pop("header").tobytes())
    if header["format"] != CACHE_FORMAT or header["key"] != key:
        raise ValueError("stale entry")
    info = VideoInfo(**{**header["info"], "path": path})
    result = ClipResult(
        index=index,
        path=path,
        info=info,
        frames_read=header["frames_read"],
        frames_expected=header["frames_expected"],
        corrupt_frames=header["corrupt_frames"],
        decode_errors=header["decode_errors"],
    )
    result.shots = [Shot(**s) for s in header["shots"]]
    result.glitches = [Glitch(**g) for g in header["glitches"]]
    result.times = dict(
        zip(arrays["time_index"].tolist(), arrays["time_value"].tolist(), strict=True)
    )
    f0 = c0 = e0 = 0
    for k, meta in enumerate(header["tracks"]):
        nf, nc, ne = meta["faces"], meta["crops"], meta["embeddings"]
        faces = Faces(
            arrays["face_frame"][f0 : f0 + nf],
            arrays["face_xyxy"][f0 : f0 + nf],
            arrays["face_score"][f0 : f0 + nf],
            arrays["face_landmarks"][f0 : f0 + nf],
        )
        crops = FaceCrops(
            arrays["crop_images"][c0 : c0 + nc], arrays["crop_landmarks"][c0 : c0 + nc]
        )
        looks = arrays["attributes"][k]
        track = Track(
            index,
            meta["shot"],
            faces,
            crops,
            arrays["crop_quality"][c0 : c0 + nc],
            arrays["embeddings"][e0 : e0 + ne],
            None if np.isnan(looks).all() else looks,
        )
        result.tracks.append(track)
        f0, c0, e0 = f0 + nf, c0 + nc, e0 + ne
    result.timings = {"cache": 0.0}
    return result
