#!/usr/bin/env python3
"""The throughput part of `make bench`: short clips and 1080p crowds on one machine, the
local executor against Ray, beside the naive loop (`scripts/bench.py`).

On the sets of `scripts/bench_clips.py` (seven short 720p clips; three 1080p clips of
seven people), each run in a fresh interpreter, as a user's run would be, interleaved
and repeated (medians: the machines here are shared and noisy):
  - drift-audit at default settings (two lanes: the next clip's decode and detection
    beside this one's), and with one lane (clips in turn, only the next clip's shot
    pass ahead);
  - `--executor ray` on a local cluster started by that run (`ray.init`), and on a
    2-CPU cluster already running (`ray start --head`, started and killed here; the
    local variants run before it is up);
  - the `drift-audit` command itself at default settings, timed from outside (its
    interpreter's start and exit included, as a shell's `time` sees it);
  - the naive loop (`bench.run_naive`), once per set, after the figures above are
    printed and written (it takes many minutes: 26 min on the short set here).
Each set is audited once first and not counted: the first run after the files were
written or the machine started reads torch's libraries and the clips from disk (the
first of three rounds was 1-3 s slower than the others, measured), and it would count
against whichever variant came first. Each round starts with the next variant.
Wall time includes importing torch and loading the models; CPU is the process's own
(and its children's), so it is given for the local runs only.

Usage: python scripts/bench_throughput.py [--out DIR] [--repeats N] [--json PATH]
       [--skip-naive] [--skip-ray]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.bench_clips import crowd_set, short_set  # noqa: E402

RAY = Path(sys.executable).with_name("ray")


def run_audit(clips: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """One audit at default settings but `options` (AuditConfig fields), no cache."""
    import resource

    start = time.perf_counter()
    from drift_audit.config import AuditConfig
    from drift_audit.pipeline import audit
    from drift_audit.report.json import dumps

    report = audit([Path(c) for c in clips], AuditConfig(use_cache=False, **options))
    text = dumps(report)
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    errors = [c.error for c in report.clips if c.status != "ok"]
    return {"wall_s": wall, "cpu_s": cpu, "errors": errors, "json": text}


def ray_env(**extra: str) -> dict[str, str]:
    """The environment of every process started here and by tests/test_ray.py: this
    checkout first, no Ray cluster named, Ray's token authentication off, then `extra`.
    Ray 2.60 writes ~/.ray/auth_token at the first local `ray.init()` on a machine; from
    then on `ray start --head` turns token authentication on while `ray status`, the
    head's probe, sends no token (measured: the probe failed for 60 s)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    return env | {"RAY_AUTH_MODE": "disabled"} | extra


def fresh(function: str, clips: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """`function(clips, options)` in a fresh interpreter (counted from its start)."""
    code = (
        "import time; t0 = time.perf_counter(); import json, sys; "
        f"sys.path.insert(0, {str(REPO_ROOT)!r}); from scripts import bench_throughput as b; "
        f"r = b.{function}({clips!r}, {options!r}); "
        "r['wall_s'] = time.perf_counter() - t0; print('RESULT' + json.dumps(r))"
    )
    env = ray_env()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])  # type: ignore[no-any-return]
    raise RuntimeError(f"{function} {options} failed:\n{out.stderr[-3000:]}")


def fresh_command(clips: list[str]) -> dict[str, Any]:
    """The `drift-audit` command on `clips` (its console script's entry point), timed
    from outside: from the process's start to its end, the interpreter's exit included,
    as a user's shell times it."""
    import resource
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        argv = ["drift-audit", "--no-cache", "-q", "--json", str(report), *clips]
        code = f"import sys; sys.argv = {argv!r}; from drift_audit.entry import main; main()"
        env = ray_env()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode not in (0, 1):
            raise RuntimeError(f"drift-audit exited {out.returncode}:\n{out.stderr[-3000:]}")
        text = report.read_text()
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    errors = [c.get("error") for c in json.loads(text)["clips"] if c.get("status") != "ok"]
    return {"wall_s": wall, "cpu_s": cpu, "errors": errors, "json": text}


def run_naive(clips: list[str], options: dict[str, Any]) -> dict[str, Any]:
    from scripts.bench import run_naive as naive

    return naive(clips)


class Cluster:
    """A 2-CPU Ray head on 127.0.0.1 in a process group of its own; `stop()` kills it."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.address = f"127.0.0.1:{s.getsockname()[1]}"
        env = ray_env()
        port = self.address.rsplit(":", 1)[1]
        args = ["start", "--head", "--block", "--port", port, "--num-cpus", "2"]
        args += ["--node-ip-address", "127.0.0.1", "--include-dashboard", "false"]
        self.head = subprocess.Popen(
            [str(RAY), *args, "--disable-usage-stats"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(60):
            probe = [str(RAY), "status", "--address", self.address]
            done = subprocess.run(probe, capture_output=True, check=False, env=env)
            if done.returncode == 0:
                return
            time.sleep(1)
        self.stop()
        raise RuntimeError("the Ray head did not come up in 60 s")

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.head.pid, sig)
                self.head.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def measure(
    sets: dict[str, list[str]], repeats: int, skip_ray: bool
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every variant on every set, `repeats` rounds, interleaved: first the local ones,
    with no Ray cluster up (an idle 2-CPU head takes about 0.06 cores, measured), then,
    with the head started, the Ray ones."""
    local: dict[str, dict[str, Any]] = {
        "2 lanes": {},
        "1 lane": {"lanes": 1},
        "command, from outside": {"command": True},
    }
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {s: {} for s in sets}
    for name, clips in sets.items():  # the page cache warmed alike for every variant
        wall = fresh("run_audit", clips, {})["wall_s"]
        print(f"  {name} warm-up (not counted): {wall:.1f} s")
    _rounds(sets, local, repeats, runs)
    if not skip_ray:
        cluster = Cluster()
        try:
            remote = {
                "ray, own cluster": {"executor": "ray"},
                "ray, running cluster": {"executor": "ray", "ray_address": cluster.address},
            }
            _rounds(sets, remote, repeats, runs)
        finally:
            cluster.stop()
    return runs


def _rounds(
    sets: dict[str, list[str]],
    variants: dict[str, dict[str, Any]],
    repeats: int,
    runs: dict[str, dict[str, list[dict[str, Any]]]],
) -> None:
    order = list(variants.items())
    for k in range(repeats):
        for name, clips in sets.items():
            for variant, options in order[k % len(order) :] + order[: k % len(order)]:
                if options.get("command"):
                    r = fresh_command(clips)
                else:
                    r = fresh("run_audit", clips, options)
                r["load1"] = os.getloadavg()[0]
                runs[name].setdefault(variant, []).append(r)
                print(f"  {name} {variant}: {r['wall_s']:.1f} s, load {r['load1']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    import cv2

    sets = {
        "short 720p": [str(p) for p in short_set(args.out / "throughput")],
        "1080p crowd": [str(p) for p in crowd_set(args.out / "throughput")],
    }
    seconds = {}
    for name, clips in sets.items():
        caps = [cv2.VideoCapture(c) for c in clips]
        seconds[name] = sum(c.get(cv2.CAP_PROP_FRAME_COUNT) / c.get(cv2.CAP_PROP_FPS) for c in caps)
    runs = measure(sets, args.repeats, args.skip_ray)
    results: dict[str, Any] = {"video_s": seconds, "load1_at_start": os.getloadavg()[0]}
    for name, variants in runs.items():
        goal = 3.0 if name.startswith("short") else 1.0
        print(f"{name}: {len(sets[name])} clips, {seconds[name]:.1f} s of video (goal x{goal:g})")
        local_json = variants["2 lanes"][0]["json"]
        for variant, rows in variants.items():
            wall = statistics.median(r["wall_s"] for r in rows)
            cpu = statistics.median(r["cpu_s"] for r in rows)
            same = all(r["json"] == local_json for r in rows)
            errors = {e for r in rows for e in r["errors"]}
            cpu_text = (
                "" if variant.startswith("ray") else f", CPU {cpu:.1f} s ({cpu / wall:.2f} cores)"
            )
            print(
                f"  {variant:<22} wall {wall:5.1f} s (median of {len(rows)}){cpu_text}, "
                f"realtime x{seconds[name] / wall:.2f}; JSON {'same' if same else 'DIFFERS'}"
                + (f"; errors {sorted(errors)}" if errors else "")
            )
            results[f"{name} / {variant}"] = {"wall_s": wall, "cpu_s": cpu, "same_json": same}
    _write(args.json, results)
    # The naive loop last (it takes many minutes): the figures above are already out.
    if not args.skip_naive:
        for name, clips in sets.items():
            wall = fresh("run_naive", clips, {})["wall_s"]
            print(f"{name}: naive loop, wall {wall:5.1f} s, realtime x{seconds[name] / wall:.2f}")
            results[f"{name} / naive"] = {"wall_s": wall}
            _write(args.json, results)
    print(f"load average (1 min) when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def _write(path: Path | None, results: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
