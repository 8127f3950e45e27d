"""inputs.expand: clip arguments -> paths in story order, errors kept in place."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from drift_audit.errors import InputError
from drift_audit.inputs import expand


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0")
    return path


def test_files_keep_the_order_given(tmp_path: Path) -> None:
    c, a, b = (touch(tmp_path / name) for name in ("c.mp4", "a.mp4", "b.mov"))
    assert expand([str(c), str(a), str(b)]) == [c, a, b]


def test_directory_gives_its_videos_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    for name in ("b.mp4", "a.MKV", "c.webm", "notes.txt", "thumb.png", "10.avi"):
        touch(folder / name)
    (folder / "sub.mp4").mkdir()  # a directory with a video suffix is no clip
    touch(folder / "sub.mp4" / "inner.mp4")  # and folders are not searched recursively
    assert expand([str(folder)]) == [folder / n for n in ("10.avi", "a.MKV", "b.mp4", "c.webm")]


def test_directory_between_files_stays_in_place(tmp_path: Path) -> None:
    first = touch(tmp_path / "z_first.mp4")
    folder = tmp_path / "middle"
    inner = [touch(folder / "x.mp4"), touch(folder / "y.mp4")]
    last = touch(tmp_path / "a_last.mp4")
    assert expand([str(first), str(folder), str(last)]) == [first, *inner, last]


def test_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    touch(folder / "readme.txt")
    [out] = expand([str(folder)])
    assert isinstance(out, InputError)
    assert out.path == str(folder)
    assert out.reason == "directory holds no video files"


def test_error_keeps_its_place_among_clips(tmp_path: Path) -> None:
    a, b = touch(tmp_path / "a.mp4"), touch(tmp_path / "b.mp4")
    empty = tmp_path / "empty"
    empty.mkdir()
    out = expand([str(a), str(empty), str(b)])
    assert out[0] == a and out[2] == b
    assert isinstance(out[1], InputError)


@pytest.mark.parametrize("pattern", ["clips/*.mp4", "shot?.mp4", "take[12].mp4"])
def test_missing_glob_gets_a_hint(tmp_path: Path, pattern: str) -> None:
    [out] = expand([str(tmp_path / pattern)])
    assert isinstance(out, InputError)
    assert "no such file" in out.reason
    assert "glob" in out.reason


def test_missing_plain_path_is_kept_for_the_decoder_to_report(tmp_path: Path) -> None:
    missing = tmp_path / "missing.mp4"
    assert expand([str(missing)]) == [missing]


def test_existing_file_with_glob_characters_is_a_clip(tmp_path: Path) -> None:
    odd = touch(tmp_path / "take[1].mp4")
    assert expand([str(odd)]) == [odd]


def test_dash_reads_paths_from_stdin_skipping_blank_lines(tmp_path: Path) -> None:
    a, b = touch(tmp_path / "a.mp4"), touch(tmp_path / "b.mp4")
    stdin = io.StringIO(f"{b}\n\n   \n{a}\r\n")
    assert expand(["-"], stdin=stdin) == [b, a]


def test_dash_expands_directories_and_mixes_with_arguments(tmp_path: Path) -> None:
    first = touch(tmp_path / "first.mp4")
    folder = tmp_path / "dir"
    inner = [touch(folder / "1.mp4"), touch(folder / "2.mp4")]
    stdin = io.StringIO(f"{folder}\n")
    assert expand([str(first), "-"], stdin=stdin) == [first, *inner]


def test_dash_with_empty_stdin_gives_nothing() -> None:
    assert expand(["-"], stdin=io.StringIO("\n\n")) == []


def test_path_with_spaces_from_stdin_is_kept_whole(tmp_path: Path) -> None:
    spaced = touch(tmp_path / "my clip.mp4")
    assert expand(["-"], stdin=io.StringIO(f"{spaced}\n")) == [spaced]
