"""decord frame source: read only when OpenCV cannot open a clip (see README)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from drift_audit.decode.base import DecodedFrame, FrameSource, index_from_time
from drift_audit.decode.native import DECODE_ERROR, NativeStderr, reason_from
from drift_audit.errors import InputError
from drift_audit.types import VideoInfo


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
            raise InputError(str(self.path), reason_from(error, "not a readable video"))
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
                errors_seen = errors_seen or bool(DECODE_ERROR.search(native.take()))
                index, lost = index_from_time(previous, time_s, fps, errors_seen)
                image = frame.asnumpy() if want(index, time_s) else None
                previous = DecodedFrame(index, time_s, image, lost)
                yield previous

    def _release(self) -> None:
        # A live VideoReader makes torch work elsewhere in the process leak (see
        # pipeline._open_for_faces): drop it as soon as the clip is read.
        self._reader = None
