"""OpenCV (FFmpeg) frame source: the default on the CPU."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2

from drift_audit.decode.base import DecodedFrame, FrameSource, index_from_time
from drift_audit.decode.native import DECODE_ERROR, NativeStderr, reason_from
from drift_audit.errors import InputError
from drift_audit.types import VideoInfo


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
            raise InputError(str(self.path), reason_from(text, "not a readable video"))
        if not first_ok:
            codec = _fourcc(fourcc)
            raise InputError(
                str(self.path),
                f"unsupported codec {codec}: no decoder for it in this build"
                if codec
                else reason_from(text, "no decodable frames"),
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
                errors_seen = errors_seen or bool(DECODE_ERROR.search(native.take()))
                position = 0 if previous is None else previous.index + 1
                time_s = pos_ms / 1000.0 if pos_ms >= 0 else position / fps
                index, lost = index_from_time(previous, time_s, fps, errors_seen)
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
