"""Reasons that diagnose: damaged data is called damaged, not an unsupported codec; a
codec with no decoder still is; errors FFmpeg conceals make a `damaged_clip`.

The clips are valid fixtures with chosen bytes overwritten (scripts/make_fixtures.py,
"on demand"): the codec header or the first frame (nothing decodes at the start), or
one frame's slice data in the middle (FFmpeg reports it, conceals it, goes on).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from drift_audit.cli import main
from drift_audit.config import AuditConfig
from drift_audit.decode import native, registry
from drift_audit.decode.registry import open_source
from drift_audit.errors import InputError
from drift_audit.pipeline import audit
from scripts.make_fixtures import (
    CONCEALED_FIRST_H264,
    CONCEALED_H264,
    DAMAGED_FIRST_MPEG4,
    DAMAGED_FIRST_VP9,
    DAMAGED_SPS,
    UNKNOWN_CODEC,
)
from tests.generated import REPO, generated_dir, on_demand, opencv_decodes_av1

DAMAGED = [DAMAGED_SPS, DAMAGED_FIRST_VP9, DAMAGED_FIRST_MPEG4]
needs_torchcodec = pytest.mark.skipif(
    registry.backend("torchcodec") is None,
    reason="torchcodec is not installed or cannot load the system FFmpeg libraries",
)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return on_demand(
        tmp_path_factory, *DAMAGED, CONCEALED_H264, CONCEALED_FIRST_H264, UNKNOWN_CODEC
    )


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dir(tmp_path_factory)


def _reason(path: Path, decoder: str = "auto") -> str:
    device = torch.device("cpu") if decoder == "torchcodec" else None
    with pytest.raises(InputError) as caught:
        source = open_source(path, decoder, device)
        try:  # torchcodec opens a clip it cannot decode: the first frames say so
            list(source.frames(lambda i, t: False))
        finally:
            source.close()
    assert "\n" not in caught.value.reason
    return caught.value.reason


@pytest.mark.parametrize("name", DAMAGED)
@pytest.mark.parametrize("decoder", ["auto", "opencv"])
def test_damaged_data_is_not_called_an_unsupported_codec(
    clips: tuple[Path, dict[str, Any]], name: str, decoder: str
) -> None:
    reason = _reason(clips[0] / name, decoder)
    assert reason.startswith("damaged data: "), reason
    assert "unsupported" not in reason


@needs_torchcodec
@pytest.mark.parametrize("name", DAMAGED)
def test_torchcodec_calls_damaged_data_damaged_too(
    clips: tuple[Path, dict[str, Any]], name: str
) -> None:
    """torchcodec opens these clips, then its decoder raises at the first frames: a
    clip error with a reason, not "could not be analysed (RuntimeError ...)"."""
    reason = _reason(clips[0] / name, "torchcodec")
    assert reason.startswith("damaged data: "), reason


def test_the_command_line_reports_damaged_clips_as_damaged(
    clips: tuple[Path, dict[str, Any]], fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(clips[0] / name) for name in DAMAGED]
    with pytest.raises(SystemExit) as caught:
        main([*paths, str(fixtures / "no_faces.mp4"), "--no-cache", "-q"])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    lines = [line for line in err.splitlines() if line.startswith("drift-audit: error: ")]
    assert len(lines) == len(paths), err
    for path, line in zip(paths, lines, strict=True):
        assert line.startswith(f"drift-audit: error: {path}: damaged data: "), line


@pytest.mark.parametrize("decoder", ["auto", "opencv"])
def test_a_codec_no_decoder_knows_is_an_unsupported_codec(
    clips: tuple[Path, dict[str, Any]], decoder: str
) -> None:
    assert _reason(clips[0] / UNKNOWN_CODEC, decoder).startswith("unsupported codec")


def test_a_codec_this_build_cannot_decode_is_an_unsupported_codec(fixtures: Path) -> None:
    if opencv_decodes_av1(fixtures):  # read frame for frame instead (tests/test_decode.py)
        pytest.skip("this OpenCV build decodes AV1: no fixture codec is known but undecodable")
    assert _reason(fixtures / "stamped_av1.mkv").startswith("unsupported codec av01")


# What OpenCV's FFmpeg printed, captured from the clips above.
NO_DECODER_TEXT = (
    "[ERROR:0@0.016] global cap_ffmpeg_impl.hpp:1430 open Could not find decoder for "
    "codec_id=0\n[ERROR:0@0.017] global cap_ffmpeg_impl.hpp:1479 open VIDEOIO/FFMPEG: "
    "Failed to initialize VideoCapture\n"
)
AV1_TEXT = (
    "[av1 @ 0x5581276337c0] Your platform doesn't support hardware accelerated AV1 "
    "decoding.\n[av1 @ 0x5581276337c0] Failed to get pixel format.\n"
    "[av1 @ 0x5581276337c0] Get current frame error\n"
)
SPS_TEXT = (
    "[h264 @ 0x5581276329c0] sps_id 0 out of range\n"
    "[h264 @ 0x5581276329c0] non-existing PPS 0 referenced\n[h264 @ 0x5581276329c0] no frame!\n"
)
VP9_TEXT = (
    "[vp9 @ 0x5581276c3e40] zero_bit out of range: 1, but must be in [0,0].\n"
    "[vp9 @ 0x5581276c3e40] Failed to read unit 0 (type 0): Invalid data found when "
    "processing input.\n[vp9 @ 0x5581276c3e40] Failed to read frame header.\n"
)


def test_reasons_from_what_ffmpeg_printed() -> None:
    assert native.reason_from(NO_DECODER_TEXT, "x").startswith("unsupported codec")
    assert native.undecodable_reason(AV1_TEXT, "av01") == (
        "unsupported codec av01: no decoder for it in this build"
    )
    assert native.undecodable_reason(SPS_TEXT, "h264") == (
        "damaged data: the h264 decoder rejects the first frames (sps_id 0 out of range)"
    )
    assert native.undecodable_reason(VP9_TEXT, "vp90") == (
        "damaged data: the vp90 decoder rejects the first frames "
        "(zero_bit out of range: 1, but must be in [0,0])"
    )
    assert native.undecodable_reason("", "h264") == "no decodable frames"


def test_error_reports_count_the_lines_that_report_damage() -> None:
    text = (
        "[h264 @ 0x55add441b0c0] top block unavailable for requested intra mode\n"
        "[h264 @ 0x55add441b0c0] error while decoding MB 3 0, bytestream 3001\n"
        "[matroska,webm @ 0x55cbf8619ec0] Length 5 indicated by an EBML number's first "
        "byte 0x0b at pos 56840 (0xde08) exceeds max length 4.\n"
        "[mpeg4 @ 0x5649277795c0] ac-tex damaged at 3 2\n[mpeg4 @ 0x5649277795c0] Error at MB: 45\n"
    )
    assert native.error_reports(text) == 4
    assert native.error_reports("") == 0


# --- concealed errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "backend"),
    [
        (CONCEALED_H264, "opencv"),
        (CONCEALED_H264, "decord"),
        ("corrupt_middle.mkv", "opencv"),
        ("corrupt_middle.mkv", "decord"),
        ("truncated_faststart.mp4", "opencv"),  # decord cannot open it
    ],
)
def test_every_read_counts_the_same_errors(
    clips: tuple[Path, dict[str, Any]], fixtures: Path, name: str, backend: str
) -> None:
    """FFmpeg's decoding threads print a frame's lines a frame or two early or late,
    and the last ones during the grab that finds no more frames: the total is counted,
    all of it, so every read gives the same number."""
    path = clips[0] / name if name == CONCEALED_H264 else fixtures / name
    counts = []
    for _ in range(10):
        source = open_source(path, backend)
        try:
            for _frame in source.frames(lambda i, t: False):
                pass
        finally:
            source.close()
        counts.append(source.decode_errors)
    assert counts[0] > 0 and counts == counts[:1] * len(counts), counts


def _damage_findings(report: Any, clip: int) -> list[str]:
    return [f.message for f in report.findings if f.kind == "damaged_clip" and f.clip == clip]


@pytest.mark.slow
@pytest.mark.parametrize(
    "decoder",
    [
        "opencv",
        "decord",
        pytest.param(
            "torchcodec",
            marks=pytest.mark.skip(
                reason="torchcodec sets FFmpeg's log level to quiet: it reports no concealed errors"
            ),
        ),
    ],
)
def test_errors_ffmpeg_conceals_make_a_damaged_clip(
    clips: tuple[Path, dict[str, Any]], decoder: str
) -> None:
    report = audit([clips[0] / CONCEALED_H264], AuditConfig(use_cache=False, decoder=decoder))
    (clip,) = report.clips
    assert clip.status == "ok" and clip.frames_read == 90 and clip.corrupt_frames == 0
    messages = _damage_findings(report, 1)
    assert len(messages) == 1, [f.message for f in report.findings]
    assert clip.decode_errors > 0
    assert f"the decoder reported {clip.decode_errors} error(s)" in messages[0], messages


@pytest.mark.slow
def test_one_clips_damage_is_counted_for_it_alone(
    clips: tuple[Path, dict[str, Any]], fixtures: Path
) -> None:
    """FFmpeg's lines name no clip, and the next clip's shot pass runs beside this
    clip's face pass: the concealed errors are counted once, for their own clip, as
    many as when it is audited alone, whichever clip comes first."""
    damaged, clean = clips[0] / CONCEALED_H264, fixtures / "stamped_h264.mp4"
    config = AuditConfig(use_cache=False)
    (alone,) = audit([damaged], config).clips
    assert alone.decode_errors > 0
    for paths in ([damaged, clean], [clean, damaged], [damaged, clean]):
        report = audit(list(paths), config)
        counts = {Path(c.path): c.decode_errors for c in report.clips}
        assert counts == {damaged: alone.decode_errors, clean: 0}, paths
        clip = 1 + paths.index(damaged)
        assert len(_damage_findings(report, clip)) == 1
        assert _damage_findings(report, 3 - clip) == []


@pytest.mark.slow
def test_what_ffmpeg_prints_stays_off_the_terminal(clips: tuple[Path, dict[str, Any]]) -> None:
    """OpenCV decodes a clip's first frame while it opens it: FFmpeg's complaints about
    a damaged first frame are caught there too, and only the finding is shown."""
    done = subprocess.run(
        [sys.executable, "-m", "drift_audit", str(clips[0] / CONCEALED_FIRST_H264), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "damaged_clip" in done.stdout and "the decoder reported" in done.stdout
    assert not re.search(r"^\[\w+ @ 0x", done.stderr, re.MULTILINE), done.stderr
