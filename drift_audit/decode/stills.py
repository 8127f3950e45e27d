"""Stills as clips: one still is a one-frame clip, a folder of numbered stills
(`--sequence`) one clip at `--fps`.

Read with OpenCV's image codecs (`cv2.imdecode`), not its FFmpeg backend: FFmpeg's
image2 demuxer, which read a still before, ignores the EXIF orientation (a phone
portrait came out on its side) and has no AVIF decoder here. `imdecode` turns the
image as its EXIF orientation says, reads PNG, JPEG, WebP, TIFF, BMP and AVIF, and is
handed the bytes, so any file name works.
"""

from __future__ import annotations

import functools
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from drift_audit.decode.base import FrameSource, RawFrames, one_frame
from drift_audit.decode.still_files import DEFAULT_FPS, describe, read_sequence, undecodable
from drift_audit.errors import InputError
from drift_audit.types import VideoInfo

if TYPE_CHECKING:
    import torch


class StillsSource(FrameSource):
    """A still file, or a folder of numbered stills; frames are `1 / fps` apart."""

    name = "stills"

    def __init__(
        self,
        path: Path,
        device: torch.device | None = None,
        keep_on_device: bool = False,
        fps: float = DEFAULT_FPS,
    ) -> None:
        self.fps = fps
        super().__init__(path, device, keep_on_device)

    def _open(self) -> VideoInfo:
        if self.path.is_dir():
            self._frames = read_sequence(self.path).frames
        else:
            reason = undecodable(self.path)
            if reason is not None:
                raise InputError(str(self.path), reason)
            self._frames = [self.path]
        first = self._read(self._frames[0])
        self._size = (first.shape[1], first.shape[0])
        codec = describe(self._frames[0])
        return VideoInfo(str(self.path), self.fps, len(self._frames), *self._size, codec, self.name)

    def _decode(self, size: tuple[int, int] | None) -> Generator[RawFrames, None, None]:
        for position, frame in enumerate(self._frames):
            yield one_frame(position / self.fps, 0, functools.partial(self._rgb, frame, size))

    def _rgb(self, frame: Path, size: tuple[int, int] | None) -> np.ndarray:
        """(H, W, 3) uint8 RGB of one frame, scaled to `size`.

        Raises:
            InputError: the frame cannot be decoded, or its size is not the first's.
        """
        bgr = self._read(frame)
        got = (bgr.shape[1], bgr.shape[0])
        if got != self._size:
            raise InputError(
                str(self.path),
                f"image sequence: {frame.name} is {got[0]}x{got[1]}, the first frame "
                f"{self._size[0]}x{self._size[1]}; every frame must have one size",
            )
        if size is not None:
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _read(self, frame: Path) -> np.ndarray:
        """(H, W, 3) uint8 BGR, turned as its EXIF orientation says."""
        where = str(self.path)
        frame_of = f"image sequence: {frame.name}: " if frame != self.path else ""
        try:
            data = np.fromfile(frame, np.uint8)
        except OSError as exc:
            raise InputError(where, f"{frame_of}cannot read: {exc.strerror or exc}") from None
        if data.size == 0:
            raise InputError(where, f"{frame_of}empty file (0 bytes)")
        try:
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
        except cv2.error:
            bgr = None
        if bgr is None or bgr.size == 0:
            raise InputError(where, f"{frame_of}not a readable image (damaged, or not a still)")
        return bgr
