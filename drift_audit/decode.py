"""Frame sources: every backend reads a clip front to back and stamps each frame
with its true index and presentation time.

Reading is sequential on purpose. decord's strided `get_batch` returns the wrong
frames on AVI / MPEG-4 Part 2 files (frame 100 comes back as frame 2), and a
wrong frame silently corrupts every later stage; a sequential read is exact on
every container, and decoding is far cheaper than face detection anyway.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import stat
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from drift_audit.errors import ConfigError, InputError
from drift_audit.types import VideoInfo


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # the frame's true position in the stream, gaps included
    time_s: float  # presentation time
    # (H, W, 3) uint8 RGB, or None when not asked for; a torch tensor on the device
    # from a torchcodec source with `tensors` set (decode_torchcodec.py)
    image: np.ndarray | None
    lost_before: int = 0  # frames the decoder could not deliver just before this one


_DECODE_ERROR = re.compile(
    r"error while decoding|concealing|corrupt|invalid nal|partial file|missing picture|"
    r"left block unavailable|illegal|damaged",
    re.IGNORECASE,
)


class NativeStderr:
    """While active, what native libraries (FFmpeg, decord) write to fd 2 goes to a
    temporary file instead of the user's terminal; `take()` returns the new text.

    Python's own sys.stderr (progress bars, messages) is pointed at a duplicate of
    the original fd 2 meanwhile, so what is meant for the user still reaches it.
    """

    def __enter__(self) -> NativeStderr:
        self._sink = tempfile.TemporaryFile()
        self._pos = 0
        self._python_stderr: TextIO | None = None
        try:
            self._saved: int | None = os.dup(2)
        except OSError:  # no fd 2 (embedded interpreters): nothing to silence
            self._saved = None
            return self
        sys.stderr.flush()
        if _writes_to_fd2(sys.stderr):
            self._python_stderr = sys.stderr
            sys.stderr = _user_stderr(sys.stderr.encoding)
        os.dup2(self._sink.fileno(), 2)
        return self

    def take(self) -> str:
        size = os.fstat(self._sink.fileno()).st_size
        if size == self._pos:
            return ""
        self._sink.seek(self._pos)
        text = self._sink.read(size - self._pos).decode("utf-8", "replace")
        self._pos = size
        return text

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)
        if self._python_stderr is not None:
            sys.stderr.flush()
            sys.stderr = self._python_stderr
        self._sink.close()


@functools.cache
def _user_stderr(encoding: str) -> TextIO:
    """One lasting duplicate of the user's stderr, never closed: a progress bar's
    refresh thread may still hold it when a decode ends."""
    return os.fdopen(os.dup(2), "w", buffering=1, encoding=encoding, errors="replace")


def _writes_to_fd2(stream: object) -> bool:
    try:
        return stream.fileno() == 2  # type: ignore[attr-defined, no-any-return]
    except (AttributeError, OSError, ValueError):
        return False


def _index_from_time(
    previous: DecodedFrame | None, time_s: float, fps: float, errors_seen: bool
) -> tuple[int, int]:
    """(index, frames lost before it). Frames are counted in decode order; only after
    the decoder has reported damage does a jump in presentation time count as lost
    frames (a clean variable-frame-rate clip has such jumps by design)."""
    if previous is None:
        return 0, 0
    index = previous.index + 1
    if errors_seen and fps > 0:
        gap = round((time_s - previous.time_s) * fps)
        if gap > 1:
            return previous.index + gap, gap - 1
    return index, 0


def check_readable(path: Path) -> None:
    """Raise InputError with a plain reason for the failures that need no decoder."""
    name = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except PermissionError:
        raise InputError(name, "permission denied") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(name, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(name, "not a regular file")
    if st.st_size == 0:
        raise InputError(name, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise InputError(name, "permission denied")
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        raise InputError(name, "not a video file (it holds plain text)")


def _reason(native_text: str, fallback: str) -> str:
    """Turn FFmpeg / decord chatter (and exception text) into one short reason."""
    text = native_text.lower()
    if "cannot find video stream" in text:
        return "no video stream (or no decoder for its codec)"
    if "moov atom not found" in text:
        return "not a readable video: truncated or incomplete file (no moov atom)"
    if "video stream" in text or "no video" in text:
        return "no video stream"
    if "invalid data found" in text:
        return "not a readable video: corrupt header or unknown format"
    if ("decoder" in text and "not found" in text) or "unsupported codec" in text:
        return "unsupported codec"
    match = re.search(r"error[^\n]*?:\s*([^\n]+)", native_text, re.IGNORECASE)
    return match.group(1).strip() if match else fallback


class FrameSource(ABC):
    """A clip opened for reading. Subclasses differ only in the library they call."""

    name: str = ""
    alias_dir: tempfile.TemporaryDirectory[str] | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        self.info: VideoInfo = self._open()

    @abstractmethod
    def _open(self) -> VideoInfo: ...

    @abstractmethod
    def frames(
        self, want: Callable[[int, float], bool], max_side: int | None = None
    ) -> Iterator[DecodedFrame]:
        """Every frame, in order. `want(index, time_s)` says which ones need pixels.

        Args:
            max_side: when given, images come downscaled so their long side is at most
                this (backends that can scale while converting do so: far cheaper).
        """

    def _small_size(self, max_side: int | None) -> tuple[int, int] | None:
        """(w, h) to scale to, or None when the frames are small enough already."""
        w, h = self.info.width, self.info.height
        if max_side is None or max(w, h) <= max_side:
            return None
        scale = max_side / max(w, h)
        return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)

    def close(self) -> None:
        self._release()
        if self.alias_dir is not None:
            self.alias_dir.cleanup()

    def _release(self) -> None:  # noqa: B027 - optional hook
        pass


class DecordSource(FrameSource):
    name = "decord"

    def _open(self) -> VideoInfo:
        import decord

        decord.logging.set_level(decord.logging.ERROR)  # FFmpeg errors reach NativeStderr
        with NativeStderr() as native:
            try:
                self._reader = decord.VideoReader(str(self.path), num_threads=0)
                n = len(self._reader)
                fps = float(self._reader.get_avg_fps())
                height, width = self._reader[0].shape[:2] if n else (0, 0)
                self._reader.seek(0)
            except Exception as exc:
                error: str | None = f"{exc}\n{native.take()}"
            else:
                error = None
        if error is not None:
            raise InputError(str(self.path), _reason(error, "not a readable video"))
        if n == 0:
            raise InputError(str(self.path), "no video frames")
        return VideoInfo(str(self.path), fps, n, int(width), int(height), "", self.name)

    def frames(
        self, want: Callable[[int, float], bool], max_side: int | None = None
    ) -> Iterator[DecodedFrame]:
        import decord

        reader = self._reader
        size = self._small_size(max_side)
        if size is not None:  # decord scales inside FFmpeg's converter: cheaper than after
            with NativeStderr():
                reader = decord.VideoReader(
                    str(self.path), width=size[0], height=size[1], num_threads=0
                )
        fps = self.info.fps or 25.0
        previous: DecodedFrame | None = None
        errors_seen = False
        with NativeStderr() as native:
            for position in range(self.info.n_frames):
                try:
                    time_s = float(reader.get_frame_timestamp(position)[0])
                except Exception:
                    time_s = position / fps
                try:
                    frame = reader.next()
                except StopIteration:
                    return
                except Exception:
                    return  # decord cannot step past damaged data; the reader is done
                errors_seen = errors_seen or bool(_DECODE_ERROR.search(native.take()))
                index, lost = _index_from_time(previous, time_s, fps, errors_seen)
                image = frame.asnumpy() if want(index, time_s) else None
                previous = DecodedFrame(index, time_s, image, lost)
                yield previous

    def _release(self) -> None:
        # A live VideoReader makes torch work elsewhere in the process leak (see
        # pipeline._open_for_faces): drop it as soon as the clip is read.
        self._reader = None


class OpenCVSource(FrameSource):
    name = "opencv"

    def _open(self) -> VideoInfo:
        with NativeStderr() as native:
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
            ok = cap.isOpened()
            first_ok = False
            if ok:
                first_ok, _ = cap.read()
            fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)) if ok else 0
            text = native.take()
        cap.release()
        if not ok:
            raise InputError(str(self.path), _reason(text, "not a readable video"))
        if not first_ok:
            codec = _fourcc(fourcc)
            raise InputError(
                str(self.path),
                f"unsupported codec {codec}: no decoder for it in this build"
                if codec
                else _reason(text, "no decodable frames"),
            )
        # Re-open rather than trust a seek back to 0.
        self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 25.0
        n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        codec = _fourcc(int(self._cap.get(cv2.CAP_PROP_FOURCC)))
        return VideoInfo(str(self.path), fps, max(n, 1), width, height, codec, self.name)

    def frames(
        self, want: Callable[[int, float], bool], max_side: int | None = None
    ) -> Iterator[DecodedFrame]:
        cap = self._cap
        size = self._small_size(max_side)
        fps = self.info.fps
        previous: DecodedFrame | None = None
        errors_seen = False
        with NativeStderr() as native:
            while cap.grab():
                pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                errors_seen = errors_seen or bool(_DECODE_ERROR.search(native.take()))
                position = 0 if previous is None else previous.index + 1
                time_s = pos_ms / 1000.0 if pos_ms >= 0 else position / fps
                index, lost = _index_from_time(previous, time_s, fps, errors_seen)
                image = None
                if want(index, time_s):
                    ok, bgr = cap.retrieve()
                    if ok:
                        if size is not None:
                            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
                        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                previous = DecodedFrame(index, time_s, image, lost)
                yield previous

    def _release(self) -> None:
        self._cap.release()


def _fourcc(code: int) -> str:
    if code <= 0:
        return ""
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ")
    return text.lower() if text.isprintable() else ""


BACKENDS: dict[str, type[FrameSource]] = {"decord": DecordSource, "opencv": OpenCVSource}


@functools.cache
def _torchcodec() -> type[FrameSource] | None:
    """The torchcodec backend when its package is installed (the `[gpu]` extra) and
    loads (it needs the system FFmpeg libraries); None otherwise."""
    if importlib.util.find_spec("torchcodec") is None:
        return None
    try:
        with NativeStderr():
            import torchcodec.decoders  # noqa: F401
            from torchcodec._core import ops

            from drift_audit.decode_torchcodec import TorchcodecSource
    except Exception:
        return None
    # torchcodec imports without FFmpeg and fails only when a clip is opened.
    return TorchcodecSource if getattr(ops, "_FFMPEG_AVAILABLE", True) else None


def backend_order(decoder: str, device: str) -> list[str]:
    """Backends to try, in order: the named one, or for `auto` torchcodec first on a
    CUDA device (NVDEC), then OpenCV, then decord.

    OpenCV before decord: a live decord reader makes torch work in the same process
    leak (README, "Known problems"), and the next clip's shot pass runs beside this
    clip's detection; so that every clip is read alike wherever it stands in the list,
    `auto` reads both passes with OpenCV (decord's 160 px shot pass was 1.5x faster on
    the bench set, with the same shots, but runs hidden behind detection anyway).
    """
    if decoder != "auto":
        return [decoder]
    order = ["opencv", "decord"]
    return (["torchcodec"] if device == "cuda" and _torchcodec() else []) + order


def open_source(path: Path, decoder: str = "auto", device: str = "cpu") -> FrameSource:
    """Open a clip with the named backend, or with the first one that can read it.

    Raises:
        InputError: no backend can read the clip; the reason is the most specific one.
        ConfigError: the named backend is not installed.
    """
    check_readable(path)
    if decoder == "torchcodec" and _torchcodec() is None:
        raise ConfigError(
            "--decoder torchcodec needs the gpu extra (pip install "
            "'drift-audit[gpu]') and the system FFmpeg libraries (libavcodec59 ...)"
        )
    if decoder not in ("auto", "torchcodec") and decoder not in BACKENDS:
        raise ConfigError(
            f"--decoder {decoder} is not available here (installed: {', '.join(BACKENDS)})"
        )
    alias_dir = _alias_dir(path)
    target = Path(alias_dir.name) / f"clip{path.suffix}" if alias_dir else path
    if alias_dir:
        os.symlink(os.path.abspath(path), target)
    errors: list[InputError] = []
    for name in backend_order(decoder, device):
        try:
            if name == "torchcodec":
                source = _torchcodec()(target, device)  # type: ignore[misc, call-arg]
            else:
                source = BACKENDS[name](target)
        except InputError as exc:
            errors.append(InputError(str(path), exc.reason))
            continue
        source.alias_dir = alias_dir
        source.info = replace(source.info, path=str(path))
        return source
    if alias_dir:
        alias_dir.cleanup()
    # The most specific reason wins: a named codec says more than "no video stream",
    # which says more than OpenCV's catch-all "not a readable video".
    codec = [e for e in errors if e.reason.startswith("unsupported codec")]
    named = [e for e in errors if not e.reason.startswith("not a readable video")]
    raise (codec or named or errors)[0]


def _alias_dir(path: Path) -> tempfile.TemporaryDirectory[str] | None:
    """A temporary folder for an ASCII-named link to `path` when its name is not valid
    UTF-8: decord refuses such names and OpenCV crashes on them."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return tempfile.TemporaryDirectory(prefix="drift-audit-")
    return None
