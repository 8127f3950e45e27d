"""`--tracks DIR`: every tracked face box of every sampled frame in MOTChallenge text,
read back by the documented format (and by py-motmetrics where it is installed), with
the track ids the JSON report's appearances list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from drift_audit.cli import audit_app, main
from drift_audit.report.mot import file_name, mot_files
from drift_audit.types import ClipResult, FaceCrops, Faces, Report, Track, VideoInfo

try:
    from tests.conftest import BLUE, RED
except ImportError:  # pytest put tests/ itself on sys.path
    from conftest import BLUE, RED  # type: ignore[no-redef]

MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media"
HAMILTON = MEDIA / "clips" / "hamilton_short.mp4"


def parse(text: str) -> list[tuple[int, int, float, float, float, float, float]]:
    """MOTChallenge lines: frame (from 1), id, left, top, width, height, confidence,
    then -1, -1, -1 (no 3D position)."""
    rows = []
    for line in text.splitlines():
        cells = line.split(",")
        assert len(cells) == 10, line
        assert cells[7:] == ["-1", "-1", "-1"], line
        frame, tid = int(cells[0]), int(cells[1])
        left, top, width, height, conf = (float(c) for c in cells[2:7])
        assert frame >= 1 and tid >= 1 and width > 0 and height > 0 and 0 < conf <= 1, line
        rows.append((frame, tid, left, top, width, height, conf))
    return rows


def a_track(clip: int, frames: list[int], x0: float) -> Track:
    n = len(frames)
    faces = Faces(
        np.array(frames, np.int64),
        np.array([[x0 + f, 10, x0 + f + 40, 60] for f in frames], np.float32),
        np.linspace(0.95, 0.99, n).astype(np.float32),
        np.zeros((n, 5, 2), np.float32),
    )
    return Track(clip, 1, faces, FaceCrops.empty(), np.zeros(0, np.float32))


def a_clip(index: int, path: str, tracks: list[Track]) -> ClipResult:
    info = VideoInfo(path, 25.0, 100, 320, 240, "h264", "opencv")
    return ClipResult(index, path, info=info, tracks=tracks, times={f: f / 25 for f in range(100)})


def test_one_file_per_readable_clip_ids_in_story_order() -> None:
    # clip 2's tracks are given out of order: ids follow (clip, first frame, left edge)
    clip1 = a_clip(1, "renders/intro.take 1.mp4", [a_track(1, [0, 2, 4], 100.0)])
    clip2 = a_clip(2, "b.mkv", [a_track(2, [6, 8], 50.0), a_track(2, [0, 2], 200.0)])
    empty = a_clip(3, "c.mp4", [])
    bad = ClipResult(4, "d.mp4", "error", "d.mp4: not a video")
    files = mot_files(Report([clip1, clip2, empty, bad], [], [], None))
    assert sorted(files) == ["1-intro.take 1.txt", "2-b.txt", "3-c.txt"]
    assert files["3-c.txt"] == ""
    rows = parse(files["2-b.txt"])
    assert [(f, i) for f, i, *_ in rows] == [(1, 2), (3, 2), (7, 3), (9, 3)]
    assert rows[0][2:6] == (200.0, 10.0, 40.0, 50.0)
    assert (
        files["1-intro.take 1.txt"].splitlines()[0]
        == "1,1,100.00,10.00,40.00,50.00,0.9500,-1,-1,-1"
    )


def test_file_names_keep_the_stem_but_not_separators() -> None:
    assert file_name(ClipResult(7, "out/ci\\ne\x01ma.v2.mp4")) == "7-ci_ne_ma.v2.txt"
    assert file_name(ClipResult(2, "/tmp/été.mov")) == "2-été.txt"


MakeClip = Callable[..., Path]


def run_cli(tmp_path: Path, *args: str) -> tuple[int, dict, Path]:  # type: ignore[type-arg]
    out, tracks = tmp_path / "r.json", tmp_path / "tracks" / "new"
    result = CliRunner().invoke(
        audit_app, [*args, "--json", str(out), "--tracks", str(tracks), "-q"]
    )
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(out.read_text()), tracks


def test_cli_writes_tracks_with_the_json_report_s_ids(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict[str, object]
) -> None:
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)
    code, report, folder = run_cli(tmp_path, str(a), str(b))
    assert code in (0, 1)
    assert sorted(p.name for p in folder.iterdir()) == ["1-a.txt", "2-b.txt"]
    ids = {
        (app["clip"], tid): app
        for ch in report["characters"]
        for app in ch["appearances"]
        for tid in app["track_ids"]
    }
    seen = set()
    for clip in (1, 2):
        name = f"{clip}-{'ab'[clip - 1]}.txt"
        for frame, tid, *_ in parse((folder / name).read_text()):
            app = ids[(clip, tid)]  # every MOT track is an appearance's track
            fps = report["clips"][clip - 1]["fps"]
            assert app["start_s"] - 1e-3 <= (frame - 1) / fps <= app["end_s"] + 1e-3
            seen.add((clip, tid))
    assert seen == set(ids)  # and every appearance's track is in the files
    # the default --sample-fps 5 on a 10 fps clip: every other frame, from 1
    frames = [f for f, *_ in parse((folder / "1-a.txt").read_text())]
    assert frames == list(range(1, 21, 2))


def test_cli_refuses_tracks_at_a_file(tmp_path: Path, make_clip: MakeClip) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = CliRunner().invoke(audit_app, [str(make_clip("a.mp4")), "--tracks", str(target)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"drift-audit: error: --tracks {target}: is not a folder"


def test_motmetrics_reads_the_files(
    tmp_path: Path, make_clip: MakeClip, fake_models: dict[str, object]
) -> None:
    mm = pytest.importorskip("motmetrics", reason="py-motmetrics is not installed")
    _, _, folder = run_cli(tmp_path, str(make_clip("a.mp4", RED)))
    frame = mm.io.loadtxt(str(folder / "1-a.txt"), fmt="mot15-2D")
    assert len(frame) == 10


@pytest.mark.slow
def test_the_real_clip_s_tracks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """hamilton_short.mp4 through the real models: several tracks in four shots; every
    box lies in the 640 x 360 frame, on a sampled frame, under a JSON track id."""
    if not HAMILTON.is_file():
        pytest.skip(f"{HAMILTON} not found (../shared/media is not there)")
    out, folder = tmp_path / "r.json", tmp_path / "mot"
    with pytest.raises(SystemExit):
        main(
            [str(HAMILTON), "--json", str(out), "--tracks", str(folder), "-q", "--embedder", "dlib"]
        )
    report = json.loads(out.read_text())
    rows = parse((folder / "1-hamilton_short.txt").read_text())
    ids = {t for ch in report["characters"] for a in ch["appearances"] for t in a["track_ids"]}
    assert {tid for _, tid, *_ in rows} == ids and len(ids) >= 5
    for frame, _, left, top, width, height, _ in rows:
        assert 1 <= frame <= 275
        assert -width / 2 <= left and left + width <= 640 + width / 2
        assert -height / 2 <= top and top + height <= 360 + height / 2
    # sampled frames only: 5 a second of 9.2 s (a shot's first frame may add one)
    assert len({frame for frame, *_ in rows}) <= 9.2 * 5 + 4
