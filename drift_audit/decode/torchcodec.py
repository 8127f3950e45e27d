"""torchcodec frame source: NVDEC decoding on a CUDA device (the `[gpu]` extra), or
FFmpeg on the CPU. The same tensor code runs on both; only the device differs.

Frames are decoded in sequential chunks (`get_frames_in_range`): exact on every
container, like the other backends. Only the frames the pipeline asks for leave the
device, downscaled there first when `max_side` is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from drift_audit.decode.base import DecodedFrame, FrameSource, index_from_time
from drift_audit.decode.native import DECODE_ERROR, NativeStderr, reason_from
from drift_audit.errors import InputError
from drift_audit.types import VideoInfo

if TYPE_CHECKING:
    import torch

CHUNK = 32  # frames decoded per call


class TorchcodecSource(FrameSource):
    """Args:
    device: where torchcodec decodes ("cuda": NVDEC).

    Attributes:
        tensors: yield each wanted image as an (H, W, 3) uint8 tensor on the device
            instead of a numpy array on the host (the face pass on a GPU: frames stay
            there for detection).
    """

    name = "torchcodec"

    def __init__(
        self, path: Path, device: torch.device | None = None, keep_on_device: bool = False
    ) -> None:
        import torch

        self.device = device or torch.device("cpu")
        self.tensors = keep_on_device
        super().__init__(path)

    def _open(self) -> VideoInfo:
        from torchcodec.decoders import VideoDecoder

        with NativeStderr() as native:
            try:
                self._decoder = VideoDecoder(str(self.path), device=self.device, seek_mode="exact")
                meta = self._decoder.metadata
            except Exception as exc:
                error: str | None = f"{exc}\n{native.take()}"
            else:
                error = None
        if error is not None:
            raise InputError(str(self.path), reason_from(error, "not a readable video"))
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
            f"{self.name}-{self.device}",
        )

    def frames(
        self, want: Callable[[int, float], bool], max_side: int | None = None
    ) -> Iterator[DecodedFrame]:
        import torch

        size = self._small_size(max_side)
        n = self.info.n_frames
        fps = self.info.fps
        previous: DecodedFrame | None = None
        errors_seen = False
        with NativeStderr() as native:
            for start in range(0, n, CHUNK):
                stop = min(n, start + CHUNK)
                batch = self._range(start, stop, last=stop == n)
                if batch is None:
                    return
                data, pts = batch  # (b, 3, H, W) uint8 on the device, b presentation times
                errors_seen = errors_seen or bool(DECODE_ERROR.search(native.take()))
                keep = [i for i in range(len(pts)) if want(start + i, float(pts[i]))]
                images = {}
                if keep:
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
                    out = chosen if self.tensors else chosen.cpu().numpy()
                    images = dict(zip(keep, out, strict=True))
                for i in range(len(pts)):
                    index, lost = index_from_time(previous, float(pts[i]), fps, errors_seen)
                    previous = DecodedFrame(index, float(pts[i]), images.get(i), lost)
                    yield previous
                if len(pts) < stop - start:
                    return

    def _range(self, start: int, stop: int, last: bool):  # type: ignore[no-untyped-def]
        """(frames, times) of start..stop-1 read straight on, never seeking back.

        The header can promise a frame more than a sequential read delivers, and a
        retry after that failure would seek, which is inexact on AVI / MPEG-4 Part 2:
        so the last chunk is read one frame at a time, up to the first failure.
        """
        import torch

        if not last:
            batch = self._decoder.get_frames_in_range(start, stop)
            return batch.data, batch.pts_seconds.tolist()
        frames, times = [], []
        for index in range(start, stop):
            try:
                one = self._decoder.get_frames_in_range(index, index + 1)
            except RuntimeError:
                break
            frames.append(one.data[0])
            times.append(float(one.pts_seconds[0]))
        return (torch.stack(frames), times) if frames else None
