"""The JSON report: schema-valid, deterministic bytes, atomic writes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from drift_audit import __version__, files
from drift_audit.report import json as json_report
from drift_audit.types import (
    Appearance,
    Character,
    ClipResult,
    EmbedderInfo,
    Evidence,
    FaceCrops,
    Faces,
    Finding,
    Glitch,
    Report,
    Shot,
    Track,
    VideoInfo,
)

FPS = 30000 / 1001  # 29.97002997...


def ok_clip() -> ClipResult:
    info = VideoInfo("a.mp4", FPS, 30, 64, 48, "h264", "decord")
    faces = Faces(
        np.array([0, 3], np.int64),
        np.tile(np.float32([1, 2, 40, 41]), (2, 1)),
        np.float32([0.99, 0.98]),
        np.zeros((2, 5, 2), np.float32),
    )
    track = Track(1, 1, faces, FaceCrops.empty(), np.zeros(0, np.float32))
    return ClipResult(
        index=1,
        path="a.mp4",
        info=info,
        frames_read=30,
        shots=[Shot(1, 0, 11, 0.0, 12 / FPS), Shot(2, 12, 29, 12 / FPS, 30 / FPS)],
        glitches=[Glitch(20, 20 / FPS)],
        tracks=[track],
        times={i: i / FPS for i in range(30)},
    )


def error_clip() -> ClipResult:
    return ClipResult(
        index=2, path="missing.mp4", status="error", error="missing.mp4: no such file"
    )


def sample_report(fail_on: str = "fail") -> Report:
    character = Character(
        id="C1",
        name="ann",
        track_ids=[0],
        anchor=np.ones(4, np.float32) / 2,
        appearances=[
            Appearance(1, 1, 0.0, 3 / FPS, 2, np.float32(0.912345678), track_ids=(0,))  # type: ignore[arg-type]
        ],
        clip_similarity={1: 0.912345678},
        consistency={1: 0.87654321},
    )
    face = Evidence("a.mp4", 1, 0.0, 3 / FPS, 0, 3, 3, (1.0, 2.0, 40.0, 41.0))
    findings = [
        Finding(
            "glitch_frame",
            "warn",
            None,
            1,
            "clip 1: frame 20 differs",
            frame=20,
            evidence=Evidence("a.mp4", 2, 20 / FPS, 20 / FPS, 20, 20, 20),
        ),
        Finding(
            "identity_drift",
            "fail",
            "C1",
            1,
            "C1 (ann) clip 1: similarity 0.31",
            evidence=face,
            value=0.312345,
            threshold=0.34,
        ),
        Finding("missing_character", "warn", None, 2, "cast member bob is not found in clip 2"),
        Finding("cast_change", "info", "C1", 1, "a change of cast", evidence=face, value=0.2),
    ]
    embedder = EmbedderInfo("dlib", "0123456789abcdef" * 4, 0.4, 0.06, "auto: no facenet weights")
    return Report(
        [ok_clip(), error_clip()],
        [character],
        findings,
        embedder,
        fail_on,
        timings={"embed": 1.23456789},
    )


def floats_in(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in floats_in(v)]
    if isinstance(value, list):
        return [f for v in value for f in floats_in(v)]
    return []


def test_report_validates_against_the_shipped_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_report.schema())
    data = json.loads(json_report.dumps(sample_report()))
    errors = jsonschema.Draft202012Validator(json_report.schema()).iter_errors(data)
    assert [e.message for e in errors] == []


def test_report_without_readable_clips_validates() -> None:
    report = Report([error_clip()], [], [], None)
    data = json.loads(json_report.dumps(report))
    jsonschema.Draft202012Validator(json_report.schema()).validate(data)
    assert data["embedder"] is None
    assert data["summary"]["unreadable_clips"] == 1


def test_schema_rejects_a_report_that_breaks_it() -> None:
    data = json.loads(json_report.dumps(sample_report()))
    data["clips"][0]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_report.schema())


def test_content() -> None:
    data = json_report.to_dict(sample_report())
    assert data["schema_version"] == 2
    assert data["tool"] == {"name": "drift-audit", "version": __version__}
    ok, bad = data["clips"]
    assert (ok["status"], ok["error"], ok["frames"], ok["decoder"]) == ("ok", None, 30, "decord")
    assert [(s["index"], s["start_frame"], s["end_frame"]) for s in ok["shots"]] == [
        (1, 0, 11),
        (2, 12, 29),
    ]
    assert ok["glitch_frames"] == [20]
    assert ok["tracks"] == 1
    assert (bad["status"], bad["error"], bad["shots"]) == ("error", "missing.mp4: no such file", [])
    assert data["characters"][0]["clip_similarity"] == {"1": 0.9123}
    assert [f["frame"] for f in data["findings"]] == [20, None, None, None]
    assert data["summary"] == {
        "clips": 2,
        "unreadable_clips": 1,
        "characters": 1,
        "findings": 4,
        "fail_on": "fail",
        "verdict": "fail",
    }


@pytest.mark.parametrize(
    ("fail_on", "verdict"), [("fail", "fail"), ("warn", "fail"), ("never", "pass")]
)
def test_verdict_follows_fail_on(fail_on: str, verdict: str) -> None:
    assert json_report.to_dict(sample_report(fail_on))["summary"]["verdict"] == verdict


@pytest.mark.parametrize(
    ("similarity", "evidence", "verdict"),
    [
        (0.9, 0.9, "same"),
        (0.43, 0.9, "uncertain"),  # within the margin above the 0.40 threshold
        (0.31, 0.9, "different"),
        (0.31, 0.1, "uncertain"),  # below it, but on thin face evidence
    ],
)
def test_clip_verdict_weighs_evidence(similarity: float, evidence: float, verdict: str) -> None:
    report = sample_report()
    report.characters[0].clip_similarity = {1: similarity}
    report.characters[0].evidence = {1: evidence}
    assert json_report.to_dict(report)["characters"][0]["clips"][0]["verdict"] == verdict


def test_timings_stay_out_of_the_report() -> None:
    assert "1.2345" not in json_report.dumps(sample_report())


def test_floats_are_rounded_to_4_places() -> None:
    data = json_report.to_dict(sample_report())
    values = floats_in(data)
    assert len(values) >= 10
    assert all(round(v, 4) == v for v in values)
    assert data["clips"][0]["fps"] == 29.97
    assert data["clips"][0]["shots"][0]["end_s"] == 0.4004
    assert data["characters"][0]["appearances"][0]["similarity"] == 0.9123


def test_dumps_is_byte_identical_and_sorted() -> None:
    first = json_report.dumps(sample_report())
    assert first == json_report.dumps(sample_report())
    assert first.endswith("\n")

    def check_sorted(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert keys == sorted(keys)
        return dict(pairs)

    json.loads(first, object_pairs_hook=check_sorted)


@pytest.mark.skipif(sys.platform != "linux", reason="needs file names that are not UTF-8")
def test_report_with_a_non_utf8_clip_path_can_be_written(tmp_path: Path) -> None:
    odd = os.fsdecode(os.fsencode(tmp_path) + b"/clip\xff.mp4")
    report = Report([ClipResult(1, odd, "error", f"{odd}: not a readable video")], [], [], None)
    target = tmp_path / "report.json"
    files.write_atomic(target, json_report.dumps(report))
    data = json.loads(target.read_text("utf-8"))
    assert data["clips"][0]["status"] == "error"


def test_findings_carry_value_threshold_and_evidence_with_time_codes() -> None:
    data = json_report.to_dict(sample_report())
    glitch, drift, missing, change = data["findings"]
    assert (drift["value"], drift["threshold"]) == (0.3123, 0.34)
    assert drift["evidence"] == {
        "path": "a.mp4",
        "shot": 1,
        "start_s": 0.0,
        "end_s": 0.1001,
        "start_timecode": "00:00:00.000",
        "end_timecode": "00:00:00.100",
        "start_frame": 0,
        "end_frame": 3,
        "frame": 3,
        "box": [1.0, 2.0, 40.0, 41.0],
    }
    assert glitch["evidence"]["start_timecode"] == "00:00:00.667"
    assert glitch["evidence"]["box"] is None
    assert (missing["value"], missing["evidence"]) == (None, None)
    assert (change["severity"], change["threshold"]) == ("info", None)
    assert data["summary"]["verdict"] == "fail"  # the drift; info never fails


def test_appearances_list_track_ids_from_1_and_clips_their_consistency() -> None:
    ch = json_report.to_dict(sample_report())["characters"][0]
    assert ch["appearances"][0]["track_ids"] == [1]
    assert ch["clips"][0]["consistency"] == 0.8765


def test_schema_v2_rejects_a_finding_without_evidence_or_an_unknown_severity() -> None:
    data = json.loads(json_report.dumps(sample_report()))
    del data["findings"][1]["evidence"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_report.schema())
    data = json.loads(json_report.dumps(sample_report()))
    data["findings"][3]["severity"] = "note"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_report.schema())
    data = json.loads(json_report.dumps(sample_report()))
    data["findings"][1]["evidence"]["end_timecode"] = "0:00:01.5"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_report.schema())


GOLDEN = Path(__file__).resolve().parent / "golden"


def test_golden_reports_fail_only_below_the_threshold_and_print_their_numbers() -> None:
    """On every saved report (real photos, the real clip, the fixtures): each finding
    carries evidence naming its clip; a drift or swap fail has a value below the
    threshold in force, and its message prints the value and the bar it used."""
    reports = sorted(GOLDEN.glob("*.json"))
    assert len(reports) >= 20
    fails = 0
    for path in reports:
        data = json.loads(path.read_text("utf-8"))
        jsonschema.validate(data, json_report.schema())
        paths = {c["index"]: c["path"] for c in data["clips"]}
        for f in data["findings"]:
            assert f["evidence"] is not None and f["evidence"]["path"] == paths[f["clip"]], f
            if f["kind"] in ("identity_drift", "identity_swap") and f["severity"] == "fail":
                fails += 1
                assert f["value"] < f["threshold"] < data["embedder"]["threshold"], f
                assert (
                    f"{f['value']:.2f}" in f["message"] and f"{f['threshold']:.2f}" in f["message"]
                )
    assert fails >= 2  # media_swap and media_swap_cast
