"""inputs: clip arguments -> paths in story order, errors kept in place, skipped files
listed, clips given twice audited once, byte-identical copies found."""

from __future__ import annotations

import io
import os
import socket
import sys
from pathlib import Path

import pytest

from drift_audit.decode.still_files import read_sequence, undecodable
from drift_audit.errors import InputError
from drift_audit.inputs import collect, duplicate_clips, expand, read_names


def touch(path: Path, data: bytes = b"\0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_files_keep_the_order_given(tmp_path: Path) -> None:
    c, a, b = (touch(tmp_path / name) for name in ("c.mp4", "a.mp4", "b.mov"))
    assert expand([str(c), str(a), str(b)]) == [c, a, b]


def test_directory_gives_its_videos_and_stills_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    for name in ("b.mp4", "a.MKV", "c.webm", "notes.txt", "thumb.png", "10.avi", "d.JPG"):
        touch(folder / name)
    (folder / "sub.mp4").mkdir()  # a directory with a video suffix is no clip
    touch(folder / "sub.mp4" / "inner.mp4")  # and folders are not searched recursively
    names = ("10.avi", "a.MKV", "b.mp4", "c.webm", "d.JPG", "thumb.png")
    assert expand([str(folder)]) == [folder / n for n in names]


def test_every_file_a_folder_skips_is_listed_with_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    touch(folder / "a.mp4")
    touch(folder / "notes.txt")
    touch(folder / "README")
    touch(folder / "._a.mp4")  # macOS AppleDouble: not a clip
    (folder / "sub").mkdir()
    (folder / "dangling.mp4").symlink_to(tmp_path / "gone.mp4")
    os.mkfifo(folder / "pipe.mp4")
    got = collect([str(folder)])
    assert got.clips == [folder / "a.mp4"]
    reasons = {s.path.name: s.reason for s in got.skipped}
    assert reasons == {
        "._a.mp4": "hidden file",
        "README": "no file extension (give it by name to audit it)",
        "dangling.mp4": "broken symbolic link",
        "notes.txt": "not a video or still image (.txt)",
        "pipe.mp4": "not a regular file",
        "sub": "a folder (folders inside folders are not searched; give it by name)",
    }


def test_directory_between_files_stays_in_place(tmp_path: Path) -> None:
    first = touch(tmp_path / "z_first.mp4")
    folder = tmp_path / "middle"
    inner = [touch(folder / "x.mp4"), touch(folder / "y.mp4")]
    last = touch(tmp_path / "a_last.mp4")
    assert expand([str(first), str(folder), str(last)]) == [first, *inner, last]


def test_a_folder_without_clips_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    touch(folder / "readme.txt")
    got = collect([str(folder)])
    [out] = got.clips
    assert isinstance(out, InputError)
    assert out.path == str(folder)
    assert out.reason == "folder holds no videos or stills"
    assert [s.path.name for s in got.skipped] == ["readme.txt"]


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


# --- stdin -------------------------------------------------------------------------


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


def test_nul_separated_stdin_is_found_by_itself(tmp_path: Path) -> None:
    """`find -print0 | drift-audit -` crashed with "embedded null byte"."""
    a, b = touch(tmp_path / "a.mp4"), touch(tmp_path / "b.mp4")
    stdin = io.BytesIO(os.fsencode(f"{a}\0{b}\0"))
    assert expand(["-"], stdin=stdin) == [a, b]


def test_nul_mode_keeps_newlines_and_spaces_in_names(tmp_path: Path) -> None:
    odd = touch(tmp_path / " two\nlines .mp4")
    plain = touch(tmp_path / "plain.mp4")
    data = os.fsencode(f"{odd}\0{plain}")
    assert expand(["-"], stdin=io.BytesIO(data), null=True) == [odd, plain]
    assert read_names(io.BytesIO(data), null=True) == [str(odd), str(plain)]


def test_null_flag_with_a_single_name_and_no_nul(tmp_path: Path) -> None:
    a = touch(tmp_path / "a.mp4")
    assert expand(["-"], stdin=io.BytesIO(os.fsencode(str(a))), null=True) == [a]


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8")
def test_stdin_name_that_is_not_utf8_survives(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/clip\xff.mp4"
    with open(raw, "wb") as fh:
        fh.write(b"\0")
    [out] = expand(["-"], stdin=io.BytesIO(raw + b"\n"))
    assert isinstance(out, Path) and os.fsencode(out) == raw


def test_a_closed_or_unreadable_stdin_is_an_input_error_not_a_crash(tmp_path: Path) -> None:
    closed = io.BytesIO(b"a.mp4\n")
    closed.close()
    [out] = expand(["-"], stdin=closed)
    assert isinstance(out, InputError) and "stdin" in out.reason
    assert read_names(None) == []


def test_a_nul_inside_an_argument_is_an_input_error() -> None:
    [out] = expand(["a.mp4\0b.mp4"])
    assert isinstance(out, InputError)
    assert "NUL" in out.reason and out.path == "a.mp4\\0b.mp4"


def test_a_name_too_long_is_an_input_error(tmp_path: Path) -> None:
    [out] = expand([str(tmp_path / ("x" * 300 + ".mp4"))])
    assert isinstance(out, InputError)
    assert "too long" in out.reason


def test_special_files_are_input_errors_before_anything_opens_them(tmp_path: Path) -> None:
    """A FIFO given as a clip would block the run: the cache hashes every clip."""
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.mp4"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        out = expand([str(fifo), str(sock_path), "/dev/null"])
    finally:
        sock.close()
    assert [getattr(o, "reason", o) for o in out] == [
        "not a regular file (a FIFO)",
        "not a regular file (a socket)",
        "not a regular file (a character device)",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists any folder")
def test_a_folder_that_cannot_be_listed_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    touch(folder / "a.mp4")
    folder.chmod(0)
    try:
        [out] = expand([str(folder)])
    finally:
        folder.chmod(0o755)
    assert isinstance(out, InputError) and "permission denied" in out.reason.lower()


# --- the same clip twice -----------------------------------------------------------


def test_the_same_path_twice_is_audited_once_with_a_warning(tmp_path: Path) -> None:
    a, b = touch(tmp_path / "a.mp4"), touch(tmp_path / "b.mp4")
    got = collect([str(a), str(b), str(a)])
    assert got.clips == [a, b]
    assert got.repeated == [f"{a}: given again (clip 1); audited once, as clip 1"]


def test_another_path_to_the_same_file_is_the_same_clip(tmp_path: Path) -> None:
    a = touch(tmp_path / "a.mp4")
    link = tmp_path / "link.mp4"
    link.symlink_to(a)
    hard = tmp_path / "hard.mp4"
    os.link(a, hard)
    folder = tmp_path / "f"
    folder.mkdir()
    os.link(a, folder / "again.mp4")
    got = collect([str(a), str(link), str(hard), f"{tmp_path}/./a.mp4", str(folder)])
    assert got.clips == [a]
    assert len(got.repeated) == 4
    assert all("the same file as" in line or "given again" in line for line in got.repeated)


def test_a_clip_given_as_a_file_and_in_a_folder_is_audited_once(tmp_path: Path) -> None:
    folder = tmp_path / "story"
    a, b = touch(folder / "a.mp4"), touch(folder / "b.mp4")
    got = collect([str(b), str(folder)])
    assert got.clips == [b, a]
    assert len(got.repeated) == 1 and got.repeated[0].startswith(str(b))


def test_byte_identical_copies_under_other_names_are_duplicate_clip_warnings(
    tmp_path: Path,
) -> None:
    a = touch(tmp_path / "a.mp4", b"clip one" * 100)
    b = touch(tmp_path / "b.mp4", b"clip two" * 100)  # same size, other bytes
    copy = touch(tmp_path / "copy of a.mp4", b"clip one" * 100)
    again = touch(tmp_path / "z.mp4", b"clip one" * 100)
    tasks = [(1, a), (2, b), (3, copy), (4, again), (5, tmp_path / "missing.mp4")]
    found = duplicate_clips(tasks)
    assert [(f.kind, f.severity, f.clip, f.character) for f in found] == [
        ("duplicate_clip", "warn", 3, None),
        ("duplicate_clip", "warn", 4, None),
    ]
    assert "copy of a.mp4" in found[0].message and "clip 1 (a.mp4)" in found[0].message


def test_empty_files_are_not_duplicates_of_each_other(tmp_path: Path) -> None:
    a, b = touch(tmp_path / "a.mp4", b""), touch(tmp_path / "b.mp4", b"")
    assert duplicate_clips([(1, a), (2, b)]) == []


# --- image sequences -----------------------------------------------------------------


def sequence(folder: Path, names: list[str]) -> Path:
    for name in names:
        touch(folder / name)
    return folder


def test_sequence_folder_is_one_clip_in_number_order(tmp_path: Path) -> None:
    folder = sequence(tmp_path / "seq", ["f_9.png", "f_10.png", "f_8.png", "poster.jpg"])
    got = collect([str(folder)], sequence=True)
    assert got.clips == [folder]
    assert [s.path.name for s in got.skipped] == ["poster.jpg"]
    assert "no frame number" in got.skipped[0].reason
    frames = read_sequence(folder)
    assert [p.name for p in frames.frames] == ["f_8.png", "f_9.png", "f_10.png"]
    assert frames.first_number == 8


def test_without_sequence_the_same_folder_is_one_clip_per_still(tmp_path: Path) -> None:
    folder = sequence(tmp_path / "seq", ["f_1.png", "f_2.png"])
    assert expand([str(folder)]) == [folder / "f_1.png", folder / "f_2.png"]


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (["f_0001.png", "f_0002.png", "f_0005.png"], ["2 frame(s) missing", "3, 4", "f_0002.png"]),
        (["a_1.png", "a_2.png", "b_1.png"], ["2 numbered sequences", "own folder"]),
        (["f_1.png", "f_2.png", "f_1.jpg"], ["2 numbered sequences"]),
        (["f_1.png", "f_01.png", "f_2.png"], ["frame number 1 is given twice", "f_01.png"]),
        (["notes.txt", "poster.png"], ["holds no numbered stills"]),
    ],
)
def test_a_broken_sequence_is_one_clear_input_error(
    tmp_path: Path, names: list[str], words: list[str]
) -> None:
    folder = sequence(tmp_path / "seq", names)
    [out] = collect([str(folder)], sequence=True).clips
    assert isinstance(out, InputError) and out.path == str(folder)
    for word in words:
        assert word in out.reason, out.reason


def test_a_folder_of_sequence_folders_says_to_give_each(tmp_path: Path) -> None:
    sequence(tmp_path / "shots" / "a", ["1.png"])
    [out] = collect([str(tmp_path / "shots")], sequence=True).clips
    assert isinstance(out, InputError) and "shots/*/" in out.reason


def test_heic_is_skipped_with_the_reason_where_opencv_cannot_decode_it(tmp_path: Path) -> None:
    folder = tmp_path / "stills"
    touch(folder / "a.png")
    touch(folder / "b.heic")
    got = collect([str(folder)])
    reason = undecodable(folder / "b.heic")
    if reason is None:
        pytest.skip("this OpenCV decodes HEIC")
    assert got.clips == [folder / "a.png"]
    assert [(s.path.name, s.reason) for s in got.skipped] == [("b.heic", reason)]
    assert "HEIC" in reason


def test_avif_is_a_still_where_opencv_decodes_it() -> None:
    assert undecodable(Path("x.avif")) is None  # opencv-python-headless 5.0 has libavif
