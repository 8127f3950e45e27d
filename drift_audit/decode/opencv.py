"""OpenCV (FFmpeg) frame source: the default on the CPU."""

from __future__ import annotations

import functools
from collections.abc import Generator

import cv2
import numpy as np

from drift_audit.decode.base import FrameSource, RawFrames, no_frame, one_frame
from drift_audit.decode.native import NativeStderr, error_reports, reason_from, undecodable_reason
from drift_audit.errors import InputError
from drift_audit.types import VideoInfo


class OpenCVSource(FrameSource):
    name = "opencv"
    bgr = False
    """Images in OpenCV's own BGR order, unconverted: the shot pass sets it when it
    keeps frames at full size, and turns only the kept ones to RGB (`run.keep`)."""

    threads: int | None = 1
    """FFmpeg's decoding threads (None: its own choice, one per core, frame-threaded).
    One: every decode here runs beside other work (the other lane, the face pass,
    detection), where frame threading only added CPU (14% on 720p, 31% on 1080p,
    measured), for the same pixels (FFmpeg's decoders are bit-exact whatever their
    threads). And the lines it prints about damaged data depend on its threads (5 with
    frame threads, 3 with one, on the same damaged fixture), so every pass and every
    executor must decode alike for a clip's damage count to be the same everywhere."""

    def _capture(self) -> cv2.VideoCapture:
        params = [] if self.threads is None else [cv2.CAP_PROP_N_THREADS, self.threads]
        return cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, params)

    def _open(self) -> VideoInfo:
        with NativeStderr() as native:
            cap = self._capture()
            ok = cap.isOpened()
            first_ok = False
            if ok:
                first_ok, _ = cap.read()
            fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)) if ok else 0
            text = native.take()
        cap.release()
        if not ok:
            raise InputError(str(self.path), reason_from(text, "not a readable video"))
        if not first_ok:  # the stream opened, so FFmpeg found a decoder, or says why not
            raise InputError(str(self.path), undecodable_reason(text, _fourcc(fourcc)))
        with NativeStderr():  # opening decodes the first frame: its errors print again
            # Re-open rather than trust a seek back to 0.
            self._cap = self._capture()
        fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 25.0
        n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        codec = _fourcc(int(self._cap.get(cv2.CAP_PROP_FOURCC)))
        return VideoInfo(str(self.path), fps, max(n, 1), width, height, codec, self.name)

    def _decode(self, size: tuple[int, int] | None) -> Generator[RawFrames, None, None]:
        cap = self._cap
        with NativeStderr() as native:
            while cap.grab():  # grabbed, not converted: only wanted frames are
                time_s = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0  # the base checks it
                errors = error_reports(native.take())
                yield one_frame(time_s, errors, functools.partial(self._retrieve, size))
            yield no_frame(error_reports(native.take()))  # printed by the last, failed grab

    def _retrieve(self, size: tuple[int, int] | None) -> np.ndarray | None:
        """The frame grabbed last as RGB (BGR with `bgr`), scaled to `size`; None when
        it cannot be."""
        ok, bgr = self._cap.retrieve()
        if not ok:
            return None
        if size is not None:
            bgr = shrink(bgr, size)
        return bgr if self.bgr else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _release(self) -> None:
        self._cap.release()


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` scaled down to `size` (w, h) by area, halved first while that leaves a
    whole factor. OpenCV's area resize is vectorised only for a factor of exactly 2
    and runs pixel by pixel otherwise: measured on one core, a 720p frame to 160 x 90
    took 1.86 ms in one step and 0.88 ms halving; 1080p 3.98 and 1.90 ms. Each halving
    rounds to the nearest level, so the result is within 2 levels of a one-step area
    resize (mean 0.4 on 720p, 0.06 on 1080p); a size it does not divide is resized in
    one step, as before."""
    w, h = size
    while image.shape[1] % (2 * w) == 0 and image.shape[0] % (2 * h) == 0:
        half = (image.shape[1] // 2, image.shape[0] // 2)
        image = cv2.resize(image, half, interpolation=cv2.INTER_AREA)
    if image.shape[1] != w or image.shape[0] != h:
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def _fourcc(code: int) -> str:
    if code <= 0:
        return ""
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ")
    return text.lower() if text.isprintable() else ""
