"""decord frame source: read only when OpenCV cannot open a clip (see README)."""

from __future__ import annotations

from collections.abc import Generator

import cv2  # noqa: F401 - first: imported after decord, OpenCV's PNG decoder fails
import decord

from drift_audit.decode.base import FrameSource, RawFrames, no_frame, one_frame
from drift_audit.decode.native import NativeStderr, error_reports, open_natively
from drift_audit.errors import InputError
from drift_audit.types import VideoInfo


class DecordSource(FrameSource):
    name = "decord"

    def _open(self) -> VideoInfo:
        decord.logging.set_level(decord.logging.ERROR)  # FFmpeg errors reach NativeStderr

        def header() -> tuple[int, float, int, int]:
            self._reader = decord.VideoReader(str(self.path), num_threads=0)
            n = len(self._reader)
            fps = float(self._reader.get_avg_fps())
            height, width = self._reader[0].shape[:2] if n else (0, 0)
            self._reader.seek(0)
            return n, fps, int(width), int(height)

        n, fps, width, height = open_natively(self.path, header)
        if n == 0:
            raise InputError(str(self.path), "no video frames")
        return VideoInfo(str(self.path), fps, n, width, height, "", self.name)

    def _decode(self, size: tuple[int, int] | None) -> Generator[RawFrames, None, None]:
        reader = self._reader
        if size is not None:  # decord scales inside FFmpeg's converter: cheaper than after
            with NativeStderr():
                reader = decord.VideoReader(
                    str(self.path), width=size[0], height=size[1], num_threads=0
                )
        with NativeStderr() as native:
            for position in range(self.info.n_frames):
                try:
                    time_s: float | None = float(reader.get_frame_timestamp(position)[0])
                except Exception:
                    time_s = None
                try:
                    frame = reader.next()
                except Exception:  # StopIteration, or damaged data decord cannot step past
                    break
                yield one_frame(time_s, error_reports(native.take()), frame.asnumpy)
            yield no_frame(error_reports(native.take()))

    def _release(self) -> None:
        # A live VideoReader makes torch work elsewhere in the process leak (see
        # run.clip.open_for_faces): drop it as soon as the clip is read.
        self._reader = None
