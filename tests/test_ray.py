"""`--executor ray` on a real local Ray cluster that this module starts (2 CPUs on
127.0.0.1) and stops, even when a test fails: the same report bytes as the local
executor, clip errors and time budgets as today, a killed worker, Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from scripts.bench_throughput import ray_env
from tests.generated import REPO, generated_dir
from tests.test_signals import slow_clip

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
RAY = Path(sys.executable).with_name("ray")
HAMILTON = REPO.parent / "shared" / "media" / "clips" / "hamilton_short.mp4"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster(NamedTuple):
    address: str  # HOST:PORT
    session: int  # the session id of the head and every process it started


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A Ray head on 127.0.0.1 with 2 CPUs, in a process group of its own (`ray start
    --block`), whose workers import this checkout; killed, group and all, at the end."""
    port = _free_port()
    env = ray_env()
    log = (tmp_path_factory.mktemp("ray") / "head.log").open("w")
    head = subprocess.Popen(
        [
            str(RAY),
            "start",
            "--head",
            "--block",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--node-ip-address",
            "127.0.0.1",
            "--include-dashboard",
            "false",
            "--disable-usage-stats",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the finalizer kills exactly it
    )
    try:
        address = f"127.0.0.1:{port}"
        _wait_for(address, head)
        yield Cluster(address, head.pid)
    finally:
        _stop(head)
        log.close()


def _wait_for(address: str, head: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    env = ray_env()
    while time.monotonic() < deadline:
        assert head.poll() is None, "ray start --head exited"
        probe = subprocess.run(
            [str(RAY), "status", "--address", address], capture_output=True, check=False, env=env
        )
        if probe.returncode == 0:
            return
        time.sleep(1)
    raise TimeoutError(f"no Ray cluster at {address} after 60 s")


def _stop(head: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the head's process group, then SIGKILL to what is left of it."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(head.pid, sig)
        except ProcessLookupError:
            return
        try:
            head.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(1)  # the group's other processes exit after the leader
    with contextlib.suppress(ProcessLookupError):
        os.killpg(head.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dir(tmp_path_factory)


def audit(
    args: list[str], json_path: Path, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = ray_env()
    return subprocess.run(
        [sys.executable, "-m", "drift_audit", *args, "--json", str(json_path), "-q"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_the_ray_report_is_byte_for_byte_the_local_one(
    cluster: Cluster, fixtures: Path, tmp_path: Path
) -> None:
    clips = [str(fixtures / n) for n in ("shots_cuts.mp4", "empty.mp4", "stamped_h264.mp4")]
    clips += [str(HAMILTON)] if HAMILTON.is_file() else []  # real faces, when present
    local, remote = tmp_path / "local.json", tmp_path / "ray.json"
    here = audit([*clips, "--no-cache"], local)
    there = audit(
        [*clips, "--no-cache", "--executor", "ray", "--ray-address", cluster.address], remote
    )
    assert here.returncode == there.returncode == 2, there.stderr
    assert remote.read_bytes() == local.read_bytes()
    assert "empty.mp4: empty file (0 bytes)" in there.stderr
    assert "Traceback" not in there.stderr


@pytest.mark.slow
def test_a_clip_over_its_budget_on_ray_is_a_clip_error(
    cluster: Cluster, fixtures: Path, tmp_path: Path
) -> None:
    slow = slow_clip(tmp_path / "slow.avi")
    args = [str(slow), str(fixtures / "one_frame.mp4"), "--no-cache", "--sample-fps", "25"]
    args += ["--redetect", "0", "--clip-timeout", "3", "--executor", "ray"]
    done = audit([*args, "--ray-address", cluster.address], tmp_path / "r.json")
    assert done.returncode == 2, done.stderr
    assert "slow.avi: timed out after 3 s (--clip-timeout)" in done.stderr
    report = (tmp_path / "r.json").read_text()
    assert '"status": "ok"' in report and "one_frame.mp4" in report


def _analysing_worker(session: int, after: float) -> int | None:
    """The pid of a Ray worker of this cluster (this session) running a clip, within
    `after` seconds (`ray::ClipWorker.analyse`): never another cluster's."""
    deadline = time.monotonic() + after
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmdline = (entry / "cmdline").read_bytes()
                    mine = os.getsid(int(entry.name)) == session
                except OSError:
                    continue
                if mine and cmdline.startswith(b"ray::ClipWorker.analyse"):
                    return int(entry.name)
        time.sleep(0.2)
    return None


@pytest.mark.slow
def test_a_worker_killed_mid_run_still_gives_a_report(cluster: Cluster, tmp_path: Path) -> None:
    slow = slow_clip(tmp_path / "slow.avi")
    report = tmp_path / "r.json"
    env = ray_env()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drift_audit",
            str(slow),
            "--no-cache",
            "--sample-fps",
            "25",
            "--executor",
            "ray",
            "--ray-address",
            cluster.address,
            "--json",
            str(report),
            "-q",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pid = _analysing_worker(cluster.session, after=90)
        assert pid is not None, "no Ray worker took the clip"
        os.kill(pid, signal.SIGKILL)  # the worker this test's cluster started for the clip
        _out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 1, 2), err
    assert "Traceback" not in err
    text = report.read_text()
    assert "slow.avi" in text
    assert '"status": "ok"' in text or "its Ray worker died" in text


@pytest.mark.slow
def test_ctrl_c_cancels_the_ray_run_and_keeps_the_previous_report(
    cluster: Cluster, tmp_path: Path
) -> None:
    slow = slow_clip(tmp_path / "slow.avi")
    report = tmp_path / "report.json"
    report.write_text('{"previous": true}\n')
    env = ray_env()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drift_audit",
            str(slow),
            "--no-cache",
            "--sample-fps",
            "25",
            "--executor",
            "ray",
            "--ray-address",
            cluster.address,
            "--json",
            str(report),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _analysing_worker(cluster.session, after=90) is not None, (
            "no Ray worker took the clip"
        )
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert report.read_text() == '{"previous": true}\n'
    time.sleep(3)
    assert (
        _analysing_worker(cluster.session, after=0.5) is None
    )  # its task was cancelled with the actor


def test_ray_options_are_checked_before_any_work(
    fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drift_audit.cli import main

    clip = str(fixtures / "no_faces.mp4")
    for args, message in [
        ([clip, "--ray-address", "127.0.0.1:1"], "--ray-address needs --executor ray"),
        ([clip, "--executor", "spark"], "'spark' is not one of 'local', 'ray'"),
        ([clip, "--executor", "ray", "--ray-address", " "], "--ray-address must not be empty"),
    ]:
        with pytest.raises(SystemExit) as caught:
            main(args)
        assert caught.value.code == 2
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_with_no_address_the_run_starts_a_cluster_of_its_own(fixtures: Path) -> None:
    """Not the cluster that RAY_ADDRESS or the last `ray start` names: a head killed
    without `ray stop` leaves its address in ray_current_cluster, and ray.init() with no
    address waited minutes for it (measured before the fix: still waiting at 90 s)."""
    import shutil
    import tempfile

    # Ray's temp folder (RAY_TMPDIR), short: its sockets' paths must fit in 107 bytes.
    temp = Path(tempfile.mkdtemp(prefix="da-ray-", dir="/tmp"))
    (temp / "ray").mkdir()
    (temp / "ray" / "ray_current_cluster").write_text("127.0.0.1:1\n")  # nobody there
    env = ray_env(RAY_TMPDIR=str(temp), RAY_ADDRESS="127.0.0.1:1")
    args = [str(fixtures / "no_faces.mp4"), "--no-cache", "--executor", "ray", "-q"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "drift_audit", *args, "--json", str(temp / "r.json")],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the cluster it starts is in its group: killed below
    )
    try:
        _out, err = proc.communicate(timeout=150)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    try:
        assert proc.returncode == 0, err
        assert '"status": "ok"' in (temp / "r.json").read_text()
        assert list((temp / "ray").glob("session_2*")), "no cluster was started in RAY_TMPDIR"
    finally:
        shutil.rmtree(temp, ignore_errors=True)
