"""Fuzzing: fixture clips corrupted at random (byte flips, truncation, spliced headers).

Every variant is audited by the real CLI in a subprocess, in batches, with a per-clip
time budget: each run must end in time with exit code 0, 1 or 2, a JSON report that
validates against the schema, an entry for every variant, and no traceback.

FUZZ_SEEDS sets the number of variants (default 40, as in CI); `make fuzz` runs 240.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from drift_audit.report.json import schema
from tests.generated import REPO, generated_dir

SEEDS = int(os.environ.get("FUZZ_SEEDS", "40"))
BATCH = 40
CLIP_BUDGET_S = 30
SOURCES = [
    "stamped_h264.mp4",
    "stamped_mpeg4.avi",
    "stamped_vp9.webm",
    "stamped_h264.mkv",
    "stamped_h264.mov",
    "shots_flash.mp4",
    "one_frame.mp4",
]


def mutate(rng: random.Random, data: bytes, other: bytes) -> tuple[str, bytes]:
    """One random corruption of `data`; `other` donates headers for splicing."""
    kind = rng.choice(["flip", "flip", "truncate", "splice", "zero_block", "duplicate_block"])
    buf = bytearray(data)
    if kind == "flip":
        for _ in range(rng.randint(1, 64)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del buf[rng.randint(0, len(buf) - 1) :]
    elif kind == "splice":
        cut = rng.randint(16, min(len(other), 4096))
        buf = bytearray(other[:cut]) + buf[rng.randint(0, len(buf) // 2) :]
    elif kind == "zero_block":
        start = rng.randrange(len(buf))
        size = min(rng.randint(16, 4096), len(buf) - start)
        buf[start : start + size] = bytes(size)
    else:
        start = rng.randrange(len(buf))
        block = buf[start : start + rng.randint(16, 2048)]
        at = rng.randrange(len(buf))
        buf[at:at] = block
    return kind, bytes(buf)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    fixtures = generated_dir(tmp_path_factory)
    out = tmp_path_factory.mktemp("fuzz")
    rng = random.Random(20261124)
    blobs = {name: (fixtures / name).read_bytes() for name in SOURCES}
    paths = []
    for seed in range(SEEDS):
        source = rng.choice(SOURCES)
        kind, data = mutate(rng, blobs[source], blobs[rng.choice(SOURCES)])
        path = out / f"{seed:04d}_{kind}_{source}"
        path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.mark.slow
def test_every_corrupted_clip_ends_cleanly(variants: list[Path], tmp_path: Path) -> None:
    statuses: dict[str, int] = {"ok": 0, "error": 0}
    for start in range(0, len(variants), BATCH):
        batch = variants[start : start + BATCH]
        report = tmp_path / f"batch{start}.json"
        cmd = [
            sys.executable,
            "-m",
            "drift_audit",
            *map(str, batch),
            "--json",
            str(report),
            "--no-cache",
            "--clip-timeout",
            str(CLIP_BUDGET_S),
            "--sample-fps",
            "2",
        ]
        tick = time.monotonic()
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60 + CLIP_BUDGET_S * len(batch),
            check=False,
        )
        elapsed = time.monotonic() - tick
        assert done.returncode in (0, 1, 2), done.stderr[-2000:]
        assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
        data = json.loads(report.read_text())
        jsonschema.validate(data, schema())
        assert [c["path"] for c in data["clips"]] == [str(p) for p in batch]
        for clip in data["clips"]:
            statuses[clip["status"]] += 1
            if clip["status"] == "error":
                assert clip["error"] and "\n" not in clip["error"]
        errors = [
            line for line in done.stderr.splitlines() if line.startswith("drift-audit: error")
        ]
        assert len(errors) == sum(c["status"] == "error" for c in data["clips"])
        assert elapsed < 60 + CLIP_BUDGET_S * len(batch)
    print(f"fuzz: {len(variants)} variants, {statuses['ok']} audited, {statuses['error']} refused")
    assert statuses["ok"] + statuses["error"] == len(variants)
