"""Frame sources: every backend reads a clip front to back and stamps each frame
with its true index and presentation time.

Reading is sequential on purpose. decord's strided `get_batch` returns the wrong
frames on AVI / MPEG-4 Part 2 files (frame 100 comes back as frame 2), and a
wrong frame silently corrupts every later stage; a sequential read is exact on
every container, and decoding is far cheaper than face detection anyway.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from drift_audit.errors import ConfigError, InputError
from drift_audit.types import VideoInfo


@dataclass(frozen=True)
class DecodedFrame:
    index: int
    time_s: float
    image: np.ndarray | None  # (H, W, 3) uint8 RGB, or None when not asked for


@contextlib.contextmanager
def captured_native_stderr() -> Iterator[list[str]]:
    """Silence what native libraries (FFmpeg, decord) write to fd 2, keeping the text.

    Yields a list that holds the captured text once the block ends.
    """
    out: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (embedded interpreters): nothing to silence
        yield out
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            out.append(sink.read().decode("utf-8", "replace"))


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
    """Turn FFmpeg / decord chatter into one short reason."""
    text = native_text.lower()
    if "moov atom not found" in text:
        return "not a readable video: truncated or incomplete file (no moov atom)"
    if "video stream" in text or "no video" in text:
        return "no video stream"
    if "invalid data found" in text:
        return "not a readable video: corrupt header or unknown format"
    if "decoder" in text and "not found" in text or "unsupported codec" in text:
        return "unsupported codec"
    match = re.search(r"error[^\n]*?:\s*([^\n]+)", native_text, re.IGNORECASE)
    return match.group(1).strip() if match else fallback


class FrameSource(ABC):
    """A clip opened for reading. Subclasses differ only in the library they call."""

    name: str = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.info: VideoInfo = self._open()

    @abstractmethod
    def _open(self) -> VideoInfo: ...

    @abstractmethod
    def frames(self, want: Callable[[int, float], bool]) -> Iterator[DecodedFrame]:
        """Every frame, in order. `want(index, time_s)` says which ones need pixels.

        Raises:
            InputError: when decoding fails before any frame is read.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class DecordSource(FrameSource):
    name = "decord"

    def _open(self) -> VideoInfo:
        import decord

        decord.logging.set_level(decord.logging.QUIET)
        with captured_native_stderr() as native:
            try:
                self._reader = decord.VideoReader(str(self.path), num_threads=0)
                n = len(self._reader)
                fps = float(self._reader.get_avg_fps())
                height, width = self._reader[0].shape[:2] if n else (0, 0)
                self._reader.seek(0)
            except Exception as exc:
                error: Exception | None = exc
            else:
                error = None
        if error is not None:
            raise InputError(str(self.path), _reason("".join(native), "not a readable video"))
        if n == 0:
            raise InputError(str(self.path), "no video frames")
        return VideoInfo(str(self.path), fps, n, int(width), int(height), "", self.name)

    def frames(self, want: Callable[[int, float], bool]) -> Iterator[DecodedFrame]:
        reader = self._reader
        n = self.info.n_frames
        fps = self.info.fps or 25.0
        for index in range(n):
            with captured_native_stderr():
                try:
                    stamp = reader.get_frame_timestamp(index)
                    time_s = float(stamp[0])
                except Exception:
                    time_s = index / fps
                try:
                    frame = reader.next()
                except StopIteration:
                    return
                except Exception:
                    # decord cannot step past damaged data; the reader is done.
                    return
            image = frame.asnumpy() if want(index, time_s) else None
            yield DecodedFrame(index, time_s, image)


class OpenCVSource(FrameSource):
    name = "opencv"

    def _open(self) -> VideoInfo:
        with captured_native_stderr() as native:
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
            ok = cap.isOpened()
            first_ok = False
            if ok:
                first_ok, _ = cap.read()
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        if not ok or not first_ok:
            cap.release()
            raise InputError(str(self.path), _reason("".join(native), "not a readable video"))
        cap.release()
        # Re-open rather than trust a seek back to 0.
        self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 25.0
        n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fourcc = int(self._cap.get(cv2.CAP_PROP_FOURCC))
        codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ")
        return VideoInfo(str(self.path), fps, max(n, 1), width, height, codec, self.name)

    def frames(self, want: Callable[[int, float], bool]) -> Iterator[DecodedFrame]:
        cap = self._cap
        fps = self.info.fps
        index = 0
        while True:
            with captured_native_stderr():
                if not cap.grab():
                    return
                pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            time_s = pos_ms / 1000.0 if pos_ms >= 0 else index / fps
            image = None
            if want(index, time_s):
                ok, bgr = cap.retrieve()
                if ok:
                    image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield DecodedFrame(index, time_s, image)
            index += 1

    def close(self) -> None:
        self._cap.release()


BACKENDS: dict[str, type[FrameSource]] = {"decord": DecordSource, "opencv": OpenCVSource}


def open_source(path: Path, decoder: str = "auto") -> FrameSource:
    """Open a clip with the named backend, or with the first one that can read it.

    Raises:
        InputError: no backend can read the clip; the reason is the first backend's.
        ConfigError: the named backend is not installed.
    """
    check_readable(path)
    if decoder != "auto":
        if decoder not in BACKENDS:
            raise ConfigError(
                f"--decoder {decoder} is not available here (installed: {', '.join(BACKENDS)})"
            )
        return BACKENDS[decoder](path)
    first_error: InputError | None = None
    for backend in BACKENDS.values():
        try:
            return backend(path)
        except InputError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error
