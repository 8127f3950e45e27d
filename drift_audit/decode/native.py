"""What native decoders print: kept off the user's terminal and read for reasons."""

from __future__ import annotations

import functools
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TextIO, TypeVar

from drift_audit.errors import InputError

T = TypeVar("T")

DECODE_ERROR = re.compile(
    r"error while decoding|error at mb|concealing|corrupt|invalid nal|partial file|"
    r"missing picture|block unavailable|illegal|damaged",
    re.IGNORECASE,
)
"""A line in which a decoder reports damaged data (it conceals or skips it)."""

NO_DECODER = re.compile(
    r"could not find decoder|decoder[^\n]*not found|codec not found|unsupported codec|"
    r"support hardware accelerated|failed to get pixel format",
    re.IGNORECASE,
)
"""What FFmpeg prints when it has no (software) decoder for a stream's codec."""

_DECODER_LINE = re.compile(r"^\[\w+ @ 0x[0-9a-f]+\] (.+?)\.?$", re.MULTILINE)


class NativeStderr:
    """While any is active, what native libraries (FFmpeg, decord) write to fd 2 goes
    to one temporary file instead of the user's terminal; `take()` returns what was
    written there since this context's last take.

    The redirect is process-wide and reference counted under a lock: the first context
    to enter redirects fd 2, the last to exit restores it. Contexts in several threads
    (the scan ahead, the read ahead, the main thread) may overlap in any order, so no
    exit can restore fd 2 to another context's file and lose the user's error lines.
    A context sees the other threads' text too: FFmpeg's lines name no clip.

    Python's own sys.stderr (progress bars, messages) is pointed at a duplicate of the
    original fd 2 meanwhile, so what is meant for the user still reaches it.
    """

    _lock = threading.Lock()
    _depth = 0
    _sink: IO[bytes] | None = None
    _saved: int | None = None
    _python_stderr: TextIO | None = None

    def __enter__(self) -> NativeStderr:
        cls = NativeStderr
        with cls._lock:
            if cls._depth == 0:
                cls._redirect()
            cls._depth += 1
            self._pos = os.fstat(cls._sink.fileno()).st_size if cls._sink else 0
        return self

    @classmethod
    def after_fork(cls) -> None:
        """In a forked child: its own redirects from now on, none inherited. The
        parent's may have been active at the fork (fd 2 then points at the parent's
        file, which the child must not write to): fd 2 goes to /dev/null first."""
        cls._lock = threading.Lock()
        if cls._depth:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        cls._depth, cls._sink, cls._saved, cls._python_stderr = 0, None, None, None

    @classmethod
    def _redirect(cls) -> None:
        cls._sink = tempfile.TemporaryFile()  # noqa: SIM115 - `_restore` closes it
        try:
            cls._saved = os.dup(2)
        except OSError:  # no fd 2 (embedded interpreters): nothing to silence
            cls._saved = None
            return
        sys.stderr.flush()
        if _writes_to_fd2(sys.stderr):
            cls._python_stderr = sys.stderr
            sys.stderr = _user_stderr(sys.stderr.encoding)
        os.dup2(cls._sink.fileno(), 2)

    def take(self) -> str:
        sink = NativeStderr._sink
        if sink is None:
            return ""
        size = os.fstat(sink.fileno()).st_size
        if size <= self._pos:
            return ""
        data = os.pread(sink.fileno(), size - self._pos, self._pos)
        self._pos += len(data)
        return data.decode("utf-8", "replace")

    def __exit__(self, *exc: object) -> None:
        cls = NativeStderr
        with cls._lock:
            cls._depth -= 1
            if cls._depth == 0:
                cls._restore()

    @classmethod
    def _restore(cls) -> None:
        if cls._saved is not None:
            os.dup2(cls._saved, 2)
            os.close(cls._saved)
            cls._saved = None
        if cls._python_stderr is not None:
            sys.stderr.flush()
            sys.stderr = cls._python_stderr
            cls._python_stderr = None
        if cls._sink is not None:
            cls._sink.close()
            cls._sink = None


@functools.cache
def _user_stderr(encoding: str) -> TextIO:
    """One lasting duplicate of the user's stderr, never closed: a progress bar's
    refresh thread may still hold it when a decode ends."""
    return os.fdopen(os.dup(2), "w", buffering=1, encoding=encoding, errors="replace")


def _writes_to_fd2(stream: object) -> bool:
    try:
        return stream.fileno() == 2  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def error_reports(native_text: str) -> int:
    """How many lines of `native_text` report damaged data (`DECODE_ERROR`).

    The count, not the frame the lines arrive with, is what a backend can hand on:
    FFmpeg decodes in threads, so a damaged frame's lines reach stderr one or two
    frames early or late, and now and then split across two frames' text.
    """
    return sum(1 for line in native_text.splitlines() if DECODE_ERROR.search(line))


def undecodable_reason(native_text: str, codec: str, decoder_error: str = "") -> str:
    """Why a clip whose video stream opens gives no frame: this build has no decoder
    for `codec` (FFmpeg says so), or the decoder rejects the data (FFmpeg's first
    complaint names the damage); "no decodable frames" when nothing says which.

    Args:
        decoder_error: the message of the error the decoder raised, if it raised
            (torchcodec silences FFmpeg's log: this is all it tells).
    """
    if NO_DECODER.search(native_text) or NO_DECODER.search(decoder_error):
        named = f"unsupported codec {codec}" if codec else "unsupported codec"
        return f"{named}: no decoder for it in this build"
    complaint = _DECODER_LINE.search(native_text)
    detail = complaint.group(1) if complaint else decoder_error.strip()
    if detail:
        decoder = f"the {codec} decoder" if codec else "the decoder"
        return f"damaged data: {decoder} rejects the first frames ({detail[:100]})"
    return reason_from(native_text, "no decodable frames")


def reason_from(native_text: str, fallback: str) -> str:
    """Turn FFmpeg / decord chatter (and exception text) into one short reason."""
    text = native_text.lower()
    if "cannot find video stream" in text:
        return "no video stream (or no decoder for its codec)"
    if "moov atom not found" in text:
        return "not a readable video: truncated or incomplete file (no moov atom)"
    if "could not find decoder" in text:
        return "unsupported codec: no decoder for it in this build"
    if "video stream" in text or "no video" in text:
        return "no video stream"
    if "invalid data found" in text:
        return "not a readable video: corrupt header or unknown format"
    if ("decoder" in text and "not found" in text) or "unsupported codec" in text:
        return "unsupported codec"
    match = re.search(r"error[^\n]*?:\s*([^\n]+)", native_text, re.IGNORECASE)
    return match.group(1).strip() if match else fallback


def open_natively(path: Path, open_: Callable[[], T]) -> T:
    """`open_()`, with what the native library prints meanwhile caught: when it raises,
    an InputError whose reason comes from the exception and that text.

    Raises:
        InputError: `open_()` raised; the reason is read from its message and the
            native text (`reason_from`).
    """
    with NativeStderr() as native:
        try:
            return open_()
        except Exception as exc:
            error = f"{exc}\n{native.take()}"
    raise InputError(str(path), reason_from(error, "not a readable video"))
