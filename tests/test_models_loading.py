"""Models that load beside the first shot passes, and attributes measured beside the
face pass (issue 14): the same reports, and failures that stay what they were."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from drift_audit.config import AuditConfig
from drift_audit.pipeline import audit
from drift_audit.report.json import dumps
from drift_audit.run import lanes as run_lanes
from drift_audit.run import scan_process
from drift_audit.run.models import Models
from tests.conftest import BLUE, RED, FakeDetector, FakeEmbedder, write_clip


def _threads_left() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("drift-audit")]


class SlowModels(Models):
    """Fake models whose loading takes `seconds`, as importing torch does."""

    def __init__(self, config: AuditConfig, seconds: float) -> None:
        super().__init__(config, FakeDetector(), FakeEmbedder(), "fake")
        self.seconds = seconds
        self.loaded_at = 0.0

    def load(self) -> None:
        time.sleep(self.seconds)
        super().load()
        self.loaded_at = time.monotonic()


def test_shot_passes_start_while_the_models_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips = [write_clip(tmp_path / f"c{i}.mp4", (RED, BLUE)[i], n_frames=30) for i in range(2)]
    scans: list[float] = []
    real = run_lanes.scan_shots

    def scan(*args, **kwargs):  # type: ignore[no-untyped-def]
        scans.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(run_lanes, "scan_shots", scan)
    monkeypatch.setattr(scan_process, "ENABLED", False)  # scans in this process's threads
    config = AuditConfig(use_cache=False, lanes=2)
    models = SlowModels(config, seconds=1.0)
    report = audit(clips, config, models=models)
    assert [c.status for c in report.clips] == ["ok", "ok"]
    assert min(scans) < models.loaded_at  # a shot pass ran before the models were there
    before = audit(clips, config, models=Models(config, FakeDetector(), FakeEmbedder(), "fake"))
    assert dumps(report) == dumps(before)
    assert _threads_left() == []


class BrokenDetectorModels(Models):
    """Models whose detector cannot be built: not any clip's error, the run's."""

    @property
    def detector(self):  # type: ignore[no-untyped-def,override]
        with self._ready():
            raise RuntimeError("the detector's weights are broken")


@pytest.mark.parametrize("lanes", [1, 2])
def test_a_model_that_cannot_load_fails_the_run_not_its_clips(tmp_path: Path, lanes: int) -> None:
    clips = [write_clip(tmp_path / f"c{i}.mp4", RED, n_frames=20) for i in range(3)]
    config = AuditConfig(use_cache=False, lanes=lanes)
    models = BrokenDetectorModels(config, None, FakeEmbedder(), "fake")
    with pytest.raises(RuntimeError, match="weights are broken"):
        audit(clips, config, models=models)
    assert _threads_left() == []


@pytest.mark.slow
def test_the_cache_key_names_the_embedder_without_building_it(tmp_path: Path) -> None:
    """`embedder_identity` reads the weights file: the key is the one the built
    embedder gives, and no model was built to get it."""
    from drift_audit.identity.embedders import registry

    config = AuditConfig(embedder="dlib")
    models = Models(config)
    early = models.embedder_identity()
    assert models._embedder is None
    built = models.embedder
    assert early == (built.name, built.weights_sha256)
    # facenet with weights that would be downloaded: only building can tell
    assert registry.embedder_identity("facenet", tmp_path / "missing.pt") is None


def test_attributes_measured_beside_the_pass_are_those_measured_in_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from drift_audit.faces.attributes import measure_near
    from drift_audit.progress import Timings
    from drift_audit.run.faces import Attributes
    from drift_audit.types import Faces

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    detector = FakeDetector()
    faces = detector.detect(image[None], np.array([0]))
    attributes = Attributes(Timings())
    monkeypatch.setattr(Attributes, "AHEAD", 2)
    try:
        measured = [attributes.measure(image, faces) for _ in range(5)]
        assert len(attributes._waiting) <= 2  # the pass waited rather than run ahead
        inline = measure_near(image, faces.xyxy[0], faces.landmarks[0])
        for m in measured:
            assert np.array_equal(m[0], inline)
        assert attributes.measure(image, Faces.empty()).shape == (0, 4, 4)  # type: ignore[union-attr]
    finally:
        attributes.close()
    assert _threads_left() == []


def test_an_error_measuring_attributes_is_that_clips_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drift_audit.run import faces as run_faces

    bad = write_clip(tmp_path / "bad.mp4", RED, n_frames=20, size=(320, 240))
    fine = write_clip(tmp_path / "fine.mp4", BLUE, n_frames=20)
    real = run_faces.measure_near

    def measure(image, box, landmarks):  # type: ignore[no-untyped-def]
        if image.shape[1] == 320:
            raise ValueError("injected fault measuring attributes")
        return real(image, box, landmarks)

    monkeypatch.setattr(run_faces, "measure_near", measure)
    config = AuditConfig(use_cache=False)
    report = audit([bad, fine], config, models=Models(config, FakeDetector(), FakeEmbedder()))
    assert report.clips[0].status == "error"
    assert "injected fault measuring attributes" in (report.clips[0].error or "")
    assert report.clips[1].status == "ok"
    assert _threads_left() == []


def test_the_native_gate_lets_scans_run_side_by_side_and_tells_them_so() -> None:
    """Scans run side by side, each told whether another ran beside it (what it read
    of the decoder's stderr may then be another clip's); `alone` waits for them and
    keeps new ones out until it ends."""
    from drift_audit.run.lanes import NativeGate

    gate = NativeGate()
    with gate.shared() as first:
        assert not first.beside
        with gate.shared() as second:
            assert first.beside and second.beside
    with gate.shared() as later:
        pass
    assert not later.beside  # the others had ended
    events: list[str] = []
    entered = threading.Event()

    def scan() -> None:
        entered.set()
        with gate.shared():
            events.append("scan")

    with gate.alone():
        thread = threading.Thread(target=scan)
        thread.start()
        entered.wait()
        time.sleep(0.2)
        events.append("alone done")
    thread.join()
    assert events == ["alone done", "scan"]


def test_the_next_clip_is_scanned_ahead_and_the_report_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a lane's clip is scanned, the next clip's shot pass runs in a thread beside
    that clip's face pass; the report is byte for byte the one of clips in turn."""
    clips = [write_clip(tmp_path / f"c{i}.mp4", (RED, BLUE)[i % 2], n_frames=30) for i in range(4)]
    threads: list[str] = []
    real = run_lanes.scan_shots

    def scan(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(run_lanes, "scan_shots", scan)
    monkeypatch.setattr(scan_process, "ENABLED", False)  # scans in this process's threads
    reports = {}
    for lanes in (1, 2):
        config = AuditConfig(use_cache=False, lanes=lanes)
        models = Models(config, FakeDetector(), FakeEmbedder(), "fake")
        reports[lanes] = dumps(audit(clips, config, models=models))
    assert reports[2] == reports[1]
    assert "drift-audit-scan-ahead" in threads
    assert _threads_left() == []


def test_attributes_are_measured_on_every_other_sampled_frame_of_a_shot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drift_audit.run import faces as run_faces

    clip = write_clip(tmp_path / "one.mp4", RED, n_frames=40)  # one shot, 10 fps
    stepped: list[int] = []
    measured: list[int] = []
    real_step, real_measure = run_faces.FacePass._step, run_faces.Attributes.measure

    def step(self, frame, batch):  # type: ignore[no-untyped-def]
        stepped.append(frame.index)
        return real_step(self, frame, batch)

    def measure(self, image, faces):  # type: ignore[no-untyped-def]
        measured.append(int(faces.frame[0]))
        return real_measure(self, image, faces)

    monkeypatch.setattr(run_faces.FacePass, "_step", step)
    monkeypatch.setattr(run_faces.Attributes, "measure", measure)
    config = AuditConfig(use_cache=False)
    report = audit([clip], config, models=Models(config, FakeDetector(), FakeEmbedder()))
    assert report.clips[0].status == "ok"
    assert len(stepped) >= 8
    assert measured == stepped[:: run_faces.ATTRIBUTE_EVERY]  # the shot's first sample too
    track = report.clips[0].tracks[0]
    assert track.attributes is not None  # aggregated from the measured half
