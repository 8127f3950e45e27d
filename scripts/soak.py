#!/usr/bin/env python3
"""Soak test: drift-audit runs under faults, each of which must end the documented way.

Every run audits the same clips into a folder holding a previous report, with a cache
of its own, and a fault chosen in a fixed rotation (parameters drawn from the seed):

    signal      SIGINT or SIGTERM at a random moment, --jobs 1 or 2: exit 130 / 143
                (or the run's own code if it ended first), one "interrupted" or
                "terminated" line
    face        an exception in one clip's face pass: exit 2, that clip's error line,
                the other clips reported
    model       an exception in a worker's model loading: exit 3, one internal-error line
    worker_kill a worker killed by SIGKILL while it loads the models: exit 2, one line
                naming SIGKILL
    disk_full   the report's folder on a full tmpfs: exit 2, one "cannot write" line
    kill9_write the run killed with SIGKILL halfway through writing the report; the next
                run's write must sweep its temporary file

After every run: no traceback, no abort or crash, every stderr line drift-audit's own,
the previous report intact or the new one whole (valid JSON), and no stray files
beside it or in the cache. Faults are injected by scripts/soak_inject/sitecustomize.py.

Usage: python scripts/soak.py [--runs 100] [--seed 0] [--work DIR]
Exit status 0 when every run passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts.media_clips import MEDIA, build_clip  # noqa: E402

INJECT = REPO_ROOT / "scripts" / "soak_inject"
ROTATION = [
    "signal",
    "face",
    "signal",
    "model",
    "signal",
    "disk_full",
    "signal",
    "worker_kill",
    "signal",
    "kill9_write",
]
PREVIOUS = '{"previous": true}\n'
HANG_S = 180
BAD_TEXT = ("Traceback", "Aborted!", "terminate called", "Segmentation fault", "core dumped")


@dataclass
class Run:
    """One soak run's process and what it said."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    err: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)

    def wait_for(self, prefix: str, timeout: float = 60.0) -> str | None:
        """The first stderr line starting with `prefix`, or None when the run ended."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    return None
                continue
            if line.startswith(prefix):
                return line
        return None

    def finish(self) -> int:
        try:
            self.proc.wait(HANG_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.err.append("SOAK: hung; killed\n")
        time.sleep(0.05)  # the reader thread's last lines
        return self.proc.returncode


def noise_clip(path: Path, frames: int = 120) -> Path:
    """A 640x480 MJPG clip of noise: slow to scan and detect on, quick to make."""
    if not path.exists():
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
        rng = np.random.default_rng(1)
        for _ in range(frames):
            writer.write(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
        writer.release()
    return path


def make_clips(folder: Path) -> list[Path]:
    """Two clips with real faces (from ../shared/media, when present) and one of noise;
    the last one's name holds "fault" (the face fault's target)."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    if (MEDIA / "group").is_dir():
        clips.append(
            build_clip(
                folder / "a_faces.mp4", [(MEDIA / "group/obama_biden_1.jpg", 2.0)], (640, 360), 25
            )
        )
        clips.append(
            build_clip(
                folder / "c_fault.mp4", [(MEDIA / "faces/obama/obama2.jpg", 2.0)], (640, 360), 25
            )
        )
    else:
        clips.append(noise_clip(folder / "c_fault.avi", 100))
    clips.insert(1, noise_clip(folder / "b_noise.avi"))
    return clips


def start(
    clips: list[Path], report: Path, cache: Path, jobs: int, fault: str = "", no_cache: bool = False
) -> Run:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(INJECT), str(REPO_ROOT)]))
    if fault:
        env["DRIFT_AUDIT_SOAK_FAULT"] = fault
    args = [*map(str, clips), "--json", str(report), "--sample-fps", "25", "--jobs", str(jobs)]
    args += ["--no-cache"] if no_cache else ["--cache-dir", str(cache)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "drift_audit", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Run(proc)


def _report_state(report: Path) -> str:
    """ "previous", "new" (whole, valid JSON with a summary), "absent" or "broken"."""
    if not report.exists():
        return "absent"
    text = report.read_text("utf-8", errors="replace")
    if text == PREVIOUS:
        return "previous"
    try:
        return "new" if "summary" in json.loads(text) else "broken"
    except ValueError:
        return "broken"


def _stray(folder: Path, allowed: set[str]) -> list[str]:
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name not in allowed and not (p.suffix == ".npz" and "cache" in p.parts)
    )


class Soak:
    def __init__(self, work: Path, seed: int) -> None:
        self.work, self.rng = work, random.Random(seed)
        self.clips = make_clips(work / "clips")
        self.normal: dict[int, tuple[int, float]] = {}  # jobs -> (exit code, seconds)
        self.can_mount = os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() == 0

    def calibrate(self) -> None:
        """Each --jobs value once without a fault: its exit code and duration."""
        for jobs in (1, 2):
            folder = self.fresh(f"calibrate_j{jobs}")
            tick = time.monotonic()
            run = start(self.clips, folder / "report.json", folder / "cache", jobs)
            code = run.finish()
            seconds = time.monotonic() - tick
            problems = self.common(run, folder, code)
            if code not in (0, 1) or problems or _report_state(folder / "report.json") != "new":
                said = "".join(run.err)
                raise SystemExit(
                    f"soak: a run without faults failed (exit {code}): {problems} {said}"
                )
            self.normal[jobs] = (code, seconds)
            print(f"calibration --jobs {jobs}: exit {code}, {seconds:.1f} s", flush=True)

    def fresh(self, name: str) -> Path:
        folder = self.work / "runs" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "report.json").write_text(PREVIOUS)
        return folder

    def common(self, run: Run, folder: Path, code: int, killed: bool = False) -> list[str]:
        """What every run must satisfy, whatever its fault."""
        problems = []
        text = "".join(run.err)
        problems += [f"stderr has {bad!r}" for bad in BAD_TEXT if bad in text]
        if "SOAK: hung" in text:
            problems.append("hung")
        if code < 0 and not killed:
            problems.append(f"died by signal {-code}")
        foreign = [
            line
            for line in run.err
            if line.strip() and not line.startswith(("drift-audit: ", "SOAK "))
        ]
        if foreign:
            problems.append(f"stderr lines not drift-audit's: {foreign[:3]}")
        if _report_state(folder / "report.json") == "broken":
            problems.append("the report is half-written")
        if not killed:
            stray = _stray(folder, {"report.json"})
            if stray:
                problems.append(f"stray files: {stray}")
        return problems

    def one(self, number: int, kind: str) -> tuple[str, list[str]]:
        jobs = self.rng.choice((1, 2)) if kind in ("signal", "face") else 2
        folder = self.fresh(f"{number:03d}_{kind}")
        report, cache = folder / "report.json", folder / "cache"
        normal_code, seconds = self.normal[jobs]
        if kind == "signal":
            sig = self.rng.choice((signal.SIGINT, signal.SIGTERM))
            delay = self.rng.uniform(0.3, seconds * 1.05)
            label = f"{sig.name} at {delay:.2f} s, --jobs {jobs}"
            run = start(self.clips, report, cache, jobs)
            time.sleep(delay)
            sent = run.proc.poll() is None
            if sent:
                run.proc.send_signal(sig)
            code = run.finish()
            problems = self.common(run, folder, code)
            state = _report_state(report)
            if code == 128 + sig:
                word = "interrupted" if sig == signal.SIGINT else "terminated"
                if f"drift-audit: error: {word}\n" not in run.err:
                    problems.append(f"no {word!r} line")
                if state not in ("previous", "new"):
                    problems.append(f"report {state}")
            elif code == normal_code:
                label += " (the run ended first)" if not sent else " (after the reports)"
                if state != "new":
                    problems.append(f"report {state} after a whole run")
            else:
                problems.append(f"exit {code}, expected {128 + sig} or {normal_code}")
            return label, problems
        if kind == "face":
            run = start(self.clips, report, cache, jobs, fault="face")
            code = run.finish()
            problems = self.common(run, folder, code)
            fault_clip = next(str(c) for c in self.clips if "fault" in c.name)
            if code != 2:
                problems.append(f"exit {code}, expected 2")
            lines = [line for line in run.err if line.startswith("drift-audit: error:")]
            if len(lines) != 1 or fault_clip not in lines[0] or "face-pass fault" not in lines[0]:
                problems.append(f"error lines {lines}")
            if _report_state(report) == "new":
                clips = json.loads(report.read_text())["clips"]
                status = [c["status"] for c in clips]
                want = ["error" if "fault" in c.name else "ok" for c in self.clips]
                if status != want:
                    problems.append(f"clip statuses {status}, expected {want}")
            else:
                problems.append(f"report {_report_state(report)}, expected new")
            return f"face-pass exception, --jobs {jobs}", problems
        if kind == "model":
            run = start(self.clips, report, cache, jobs, fault="model")
            code = run.finish()
            problems = self.common(run, folder, code)
            lines = [line for line in run.err if line.startswith("drift-audit: internal error:")]
            if code != 3:
                problems.append(f"exit {code}, expected 3")
            if (
                len(lines) != 1
                or "internal error" not in lines[0]
                or "injected model-loading" not in lines[0]
            ):
                problems.append(f"error lines {lines}")
            if _report_state(report) != "previous":
                problems.append(f"report {_report_state(report)}, expected the previous")
            return "model-loading exception in a worker", problems
        if kind == "worker_kill":
            run = start(self.clips, report, cache, jobs, fault="model_hang")
            said = run.wait_for("SOAK worker-loading")
            if said is not None:
                os.kill(int(said.split()[-1]), signal.SIGKILL)
            code = run.finish()
            problems = self.common(run, folder, code)
            lines = [line for line in run.err if line.startswith("drift-audit: error:")]
            if said is None:
                problems.append("no worker said it was loading")
            if code != 2:
                problems.append(f"exit {code}, expected 2")
            if len(lines) != 1 or "SIGKILL" not in lines[0]:
                problems.append(f"error lines {lines}")
            if _report_state(report) != "previous":
                problems.append(f"report {_report_state(report)}, expected the previous")
            return "worker killed by SIGKILL while loading", problems
        if kind == "disk_full":
            return self.disk_full(folder, jobs)
        return self.kill9_write(folder, jobs)

    def disk_full(self, folder: Path, jobs: int) -> tuple[str, list[str]]:
        label = "report folder on a full tmpfs"
        disk = folder / "disk"
        disk.mkdir()
        if (
            not self.can_mount
            or subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True
            ).returncode
        ):
            return label + " (skipped: cannot mount a tmpfs here)", []
        try:
            report = disk / "report.json"
            report.write_text(PREVIOUS)
            try:  # fill it: what is left cannot hold the new report
                with (disk / "filler").open("wb") as fh:
                    while True:
                        fh.write(b"\0" * 1024)
                        fh.flush()
            except OSError:
                pass
            run = start(self.clips, report, folder / "cache", jobs)
            code = run.finish()
            problems = self.common(run, disk, code)
            problems = [p for p in problems if not p.startswith("stray files")]
            stray = _stray(disk, {"report.json", "filler"})
            if stray:
                problems.append(f"stray files: {stray}")
            lines = [line for line in run.err if line.startswith("drift-audit: error:")]
            if code != 2:
                problems.append(f"exit {code}, expected 2")
            if len(lines) != 1 or "No space left on device" not in lines[0]:
                problems.append(f"error lines {lines}")
            if _report_state(report) != "previous":
                problems.append(f"report {_report_state(report)}, expected the previous")
            return label, problems
        finally:
            subprocess.run(["umount", str(disk)], check=False)

    def kill9_write(self, folder: Path, jobs: int) -> tuple[str, list[str]]:
        report = folder / "report.json"
        run = start(self.clips, report, folder / "cache", jobs, fault="write_hang", no_cache=True)
        said = run.wait_for("SOAK in-write", timeout=HANG_S)
        if said is not None:
            run.proc.kill()
        code = run.finish()
        problems = self.common(run, folder, code, killed=True)
        if said is None:
            problems.append("the run never reached its report write")
        if code != -signal.SIGKILL:
            problems.append(f"exit {code}, expected death by SIGKILL")
        if _report_state(report) != "previous":
            problems.append(f"report {_report_state(report)} after the kill, expected the previous")
        time.sleep(2.5)  # older than files.py's sweep age
        again = start(self.clips[1:2], report, folder / "cache", 1)
        code = again.finish()
        problems += self.common(again, folder, code)
        if code not in (0, 1) or _report_state(report) != "new":
            problems.append(f"the next run: exit {code}, report {_report_state(report)}")
        return "SIGKILL during the report write, then a run", problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="kept; default a temporary folder")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="drift-audit-soak-"))
    tick = time.monotonic()
    try:
        soak = Soak(work, args.seed)
        soak.calibrate()
        failed = 0
        for number in range(args.runs):
            kind = ROTATION[number % len(ROTATION)]
            label, problems = soak.one(number, kind)
            failed += bool(problems)
            print(f"{number + 1:3d} {'FAIL' if problems else 'ok  '} {kind}: {label}", flush=True)
            for problem in problems:
                print(f"      {problem}", flush=True)
        passed = args.runs - failed
        seconds = time.monotonic() - tick
        print(f"soak: {passed} of {args.runs} runs passed in {seconds:.0f} s (seed {args.seed})")
        sys.exit(1 if failed else 0)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
