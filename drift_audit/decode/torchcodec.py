"""torchcodec frame source: NVDEC decoding on a CUDA device (the `[gpu]` extra), or
FFmpeg on the CPU. The same tensor code runs on both; only the device differs.

Frames are decoded in sequential chunks (`get_frames_in_range`): exact on every
container, like the other backends. Only the frames the pipeline asks for leave the
device, downscaled there first when `max_side` is given.

Importing this module raises ImportError where torchcodec cannot load the system
FFmpeg libraries: the registry then leaves the backend out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Generator, Sequence
from typing import Any

import torch

from drift_audit.decode.base import FrameSource, Image, RawFrames
from drift_audit.decode.native import (
    NativeStderr,
    error_reports,
    open_natively,
    undecodable_reason,
)
from drift_audit.errors import InputError
from drift_audit.types import VideoInfo

with NativeStderr():  # what FFmpeg prints while torchcodec looks for it
    from torchcodec._core import ops
    from torchcodec.decoders import VideoDecoder

if not getattr(ops, "_FFMPEG_AVAILABLE", True):
    # torchcodec imports without FFmpeg and would fail only when a clip is opened.
    raise ImportError("torchcodec cannot load the system FFmpeg libraries")

CHUNK = 32  # frames decoded per call


class TorchcodecSource(FrameSource):
    """Decodes on `device` ("cuda": NVDEC; None: the CPU). With `keep_on_device`,
    wanted images stay there as (H, W, 3) uint8 tensors (the face pass on a GPU:
    frames stay there for detection)."""

    name = "torchcodec"

    def _open(self) -> VideoInfo:
        if self.device is None:
            self.device = torch.device("cpu")
        device = self.device

        def header() -> tuple[Any, Any]:  # VideoDecoder, VideoStreamMetadata
            decoder = VideoDecoder(str(self.path), device=device, seek_mode="exact")
            return decoder, decoder.metadata

        self._decoder, meta = open_natively(self.path, header)
        n = int(meta.num_frames or 0)
        if n == 0:
            raise InputError(str(self.path), "no video frames")
        fps = float(meta.average_fps or 25.0)
        return VideoInfo(
            str(self.path),
            fps,
            n,
            int(meta.width or 0),
            int(meta.height or 0),
            str(meta.codec or ""),
            f"{self.name}-{device}",
        )

    def _decode(self, size: tuple[int, int] | None) -> Generator[RawFrames, None, None]:
        n = self.info.n_frames
        with NativeStderr() as native:
            for start in range(0, n, CHUNK):
                stop = min(n, start + CHUNK)
                batch, failure = self._range(start, stop)
                text = native.take()
                if batch is None:
                    if start == 0:  # it opened, but decodes nothing: say why
                        reason = undecodable_reason(text, self.info.codec, failure)
                        raise InputError(str(self.path), reason)
                    return
                data, pts = batch  # (b, 3, H, W) uint8 on the device, b presentation times
                errors = error_reports(text)
                yield RawFrames(pts, errors, functools.partial(self._images, data, size))
                if len(pts) < stop - start:
                    return

    def _images(
        self, data: torch.Tensor, size: tuple[int, int] | None, keep: list[int]
    ) -> Sequence[Image]:
        """The frames `keep` of a (b, 3, H, W) chunk as (H, W, 3) images, scaled to
        `size` on the device; tensors there with `keep_on_device`, else numpy arrays."""
        chosen = data[keep]
        if size is not None:
            chosen = (
                torch.nn.functional.interpolate(
                    chosen.float(),
                    size=(size[1], size[0]),
                    mode="bilinear",
                    antialias=True,
                    align_corners=False,
                )
                .round()
                .clamp(0, 255)
                .to(torch.uint8)
            )
        chosen = chosen.permute(0, 2, 3, 1).contiguous()  # (k, H, W, 3)
        return list(chosen if self.keep_on_device else chosen.cpu().numpy())

    def _range(self, start: int, stop: int) -> tuple[tuple[torch.Tensor, list[float]] | None, str]:
        """((frames, times) of start..stop-1 read straight on, or None when not even
        the first decodes; the decoder's error message, "" when there was none).

        The header can promise a frame more than a sequential read delivers, and
        damaged data makes the decoder raise: a retry after a failure would seek, which
        is inexact on AVI / MPEG-4 Part 2, so the last chunk is read one frame at a
        time, up to the first failure, and a chunk that fails ends the read.
        """
        if stop < self.info.n_frames:
            try:
                batch = self._decoder.get_frames_in_range(start, stop)
            except RuntimeError as exc:
                return None, _message(exc)
            return (batch.data, [float(t) for t in batch.pts_seconds.tolist()]), ""
        frames, times, failure = [], [], ""
        for index in range(start, stop):
            try:
                one = self._decoder.get_frames_in_range(index, index + 1)
            except RuntimeError as exc:
                failure = _message(exc)
                break
            frames.append(one.data[0])
            times.append(float(one.pts_seconds[0]))
        return ((torch.stack(frames), times) if frames else None), failure


def _message(exc: RuntimeError) -> str:
    """torchcodec's error message without the C++ function and source line before it
    ("decode_av_frame, .../SingleStreamDecoder.cpp:1493, Could not push packet ...")."""
    return re.sub(r"^[^\n]*?\.(?:cpp|h):\d+, ", "", str(exc)).strip()
