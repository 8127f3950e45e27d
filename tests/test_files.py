"""The one atomic writer (reports, cache entries, installed weights) and the check
that a report's path is writable."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drift_audit import files
from drift_audit.errors import OutputError

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_write_atomic_writes_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    files.write_atomic(target, "new\n")
    files.write_atomic(target, "newer\n")
    assert target.read_text("utf-8") == "newer\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_failed_rename_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous\n", "utf-8")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match="No space left"):
        files.write_atomic(target, "new\n")
    assert target.read_text("utf-8") == "previous\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_failed_write_midway_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous\n", "utf-8")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def write(self, text: str) -> int:
            self.fh.write(text[: len(text) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name: str) -> Any:
            return getattr(self.fh, name)

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OutputError, match="No space left"):
        files.write_atomic(target, "a much longer new report\n")
    assert target.read_text("utf-8") == "previous\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_report_target_accepts_a_new_file_in_an_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    assert files.report_target(target) == target
    assert list(tmp_path.iterdir()) == []  # a check, not a write
    files.write_atomic(target, "{}\n")
    assert target.read_text("utf-8") == "{}\n"


def test_report_target_accepts_a_bare_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert files.report_target(Path("report.json")) == Path("report.json")
    # the folder of a bare name is the current one, for the check and for the write
    files.write_atomic(Path("report.json"), "{}\n")
    assert (tmp_path / "report.json").read_text("utf-8") == "{}\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_report_target_refuses_a_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "report.json"
    with pytest.raises(OutputError, match="does not exist") as info:
        files.report_target(path)
    assert str(path) in str(info.value)


def test_report_target_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="directory"):
        files.report_target(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_report_target_refuses_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="not writable"):
            files.report_target(folder / "report.json")
    finally:
        folder.chmod(0o755)


@POSIX
def test_bytes_are_written_as_given_with_mode_0644_under_umask_022(
    tmp_path: Path, umask_022: None
) -> None:
    target = tmp_path / "entry.npz"
    payload = bytes(range(256)) * 64
    files.write_atomic(target, payload)
    assert target.read_bytes() == payload
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@POSIX
def test_mode_follows_a_stricter_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        files.write_atomic(tmp_path / "private.json", b"{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


@POSIX
def test_replacing_a_file_does_not_keep_its_old_mode(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n", "utf-8")
    target.chmod(0o600)
    files.write_atomic(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@POSIX
def test_the_process_umask_is_never_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Setting the umask to read it would race with threads creating files meanwhile.
    def refuse(mask: int) -> int:
        raise AssertionError("write_atomic changed the process umask")

    monkeypatch.setattr(os, "umask", refuse)
    files.write_atomic(tmp_path / "a.json", b"{}")
    files.copy_atomic(tmp_path / "a.json", tmp_path / "b.json")
    assert (tmp_path / "b.json").read_bytes() == b"{}"


@POSIX
def test_copy_atomic_copies_bytes_with_the_usual_mode(tmp_path: Path, umask_022: None) -> None:
    source = tmp_path / "weights.pt"
    source.write_bytes(os.urandom(3 << 20))  # more than one copy block
    source.chmod(0o600)
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "facenet.pt"
    files.copy_atomic(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert os.listdir(tmp_path / "models") == ["facenet.pt"]


def test_copy_atomic_from_a_missing_source_leaves_the_target(tmp_path: Path) -> None:
    target = tmp_path / "facenet.pt"
    target.write_bytes(b"previous")
    with pytest.raises(FileNotFoundError):
        files.copy_atomic(tmp_path / "missing.pt", target)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["facenet.pt"]


def test_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write"):
        files.write_atomic(tmp_path / "nowhere" / "report.json", "{}\n")


def test_writers_in_threads_leave_one_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "entry.bin"
    payloads = [bytes([k]) * 100_000 for k in range(8)]
    threads = [threading.Thread(target=files.write_atomic, args=(target, p)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() in payloads
    assert os.listdir(tmp_path) == ["entry.bin"]


@POSIX
def test_report_target_follows_a_symlink_and_the_write_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("previous\n")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    target = files.report_target(link)
    assert target == real
    files.write_atomic(target, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


@POSIX
def test_report_target_of_a_dangling_symlink_is_its_target(tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "new.json")
    assert files.report_target(link) == tmp_path / "new.json"


@POSIX
def test_report_target_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match=r"--json .*report\.json: is a FIFO, not a regular file"):
        files.report_target(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_report_target_refuses_a_device_node() -> None:
    with pytest.raises(OutputError, match="is a character device"):
        files.report_target(Path("/dev/full"), "--html")


@POSIX
def test_report_target_refuses_a_symlink_to_a_device_node(tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to("/dev/null")
    with pytest.raises(OutputError, match=r"a symlink to /dev/null.*character device"):
        files.report_target(link)
    assert link.is_symlink()


def _stale(folder: Path, name: str, age_s: float = 60.0) -> Path:
    tmp = folder / f".{name}.0123456789ab.tmp"
    tmp.write_text("half a rep")
    old = os.stat(tmp).st_mtime - age_s
    os.utime(tmp, (old, old))
    return tmp


@POSIX
def test_a_killed_writers_temp_file_is_swept_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous\n")
    _stale(tmp_path, "report.json")
    _stale(tmp_path, "other.json")  # another file's: not this write's to sweep
    files.write_atomic(target, "new\n")
    assert sorted(os.listdir(tmp_path)) == [".other.json.0123456789ab.tmp", "report.json"]


@POSIX
def test_a_live_writers_temp_file_is_not_swept(tmp_path: Path) -> None:
    import fcntl

    tmp = _stale(tmp_path, "report.json")
    fd = os.open(tmp, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the writer holds it until its rename
        assert files.sweep_temp_files(tmp_path) == 0
        assert tmp.exists()
    finally:
        os.close(fd)
    assert files.sweep_temp_files(tmp_path) == 1
    assert not tmp.exists()


@POSIX
def test_a_fresh_temp_file_is_not_swept(tmp_path: Path) -> None:
    tmp = _stale(tmp_path, "report.json", age_s=0.0)
    assert files.sweep_temp_files(tmp_path) == 0
    assert tmp.exists()


@POSIX
def test_a_report_write_killed_by_sigkill_leaves_nothing_after_the_next(tmp_path: Path) -> None:
    """A real writer killed with -9 between its temp file and the rename."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "report.json"
    target.write_text("previous\n")
    code = (
        "import os, sys, time; from pathlib import Path; from drift_audit import files\n"
        "real = os.replace\n"
        "def stall(a, b): print('writing', flush=True); time.sleep(60)\n"
        "os.replace = stall\n"
        f"files.write_atomic(Path({str(target)!r}), 'new\\n')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    left = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert len(left) == 1 and target.read_text() == "previous\n"
    stale = tmp_path / left[0]
    old = stale.stat().st_mtime - 10
    os.utime(stale, (old, old))
    files.write_atomic(target, "newer\n")
    assert os.listdir(tmp_path) == ["report.json"]
    assert target.read_text() == "newer\n"


def test_a_report_path_the_system_refuses_is_one_clear_error(tmp_path: Path) -> None:
    too_long = tmp_path / ("x" * 300 + ".json")
    with pytest.raises(OutputError, match=r"^--json .*x\.json: not a usable path \(File name"):
        files.report_target(too_long)
