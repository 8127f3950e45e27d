"""C2PA provenance (drift_audit/provenance.py): states decided from c2pa's validation
results on real signed files (../shared/media/c2pa) and on fixtures signed here with
the C2PA test certificate (scripts/make_signed.py), findings under
--require-provenance, and what the JSON, terminal and HTML reports show.

Signed fixtures are written under tmp_path; the test certificate is read from
../shared/media/c2pa, and the tests that need it skip with a reason without it.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import jsonschema
import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from drift_audit import provenance
from drift_audit.cli import audit_app
from drift_audit.provenance import Provenance
from drift_audit.report import json as json_report
from drift_audit.report import provenance_view
from scripts import make_signed

try:
    from tests.conftest import BLUE, RED
except ImportError:  # pytest put tests/ itself on sys.path
    from conftest import BLUE, RED  # type: ignore[no-redef]

C2PA_MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "c2pa"
needs_media = pytest.mark.skipif(
    not (C2PA_MEDIA / "es256_certs.pem").is_file(),
    reason=f"{C2PA_MEDIA} (the C2PA test certificate and signed samples) is absent",
)
MakeClip = Callable[..., Path]


def invoke(*args: object) -> Result:
    result = CliRunner().invoke(audit_app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}"
    )
    return result


def report_at(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text("utf-8"))
    jsonschema.validate(data, json_report.schema())
    return data


@pytest.fixture
def sora_clip(make_clip: MakeClip, tmp_path: Path) -> Path:
    """A small MP4 signed as Sora signs its videos."""
    raw = make_clip("raw.mp4", RED)
    return make_signed.sign(raw, tmp_path / "sora.mp4", "sora")


@pytest.fixture
def firefly_still(tmp_path: Path) -> Path:
    """A JPEG signed as Adobe Firefly signs its stills."""
    image = np.full((96, 128, 3), 120, np.uint8)
    raw = tmp_path / "raw.jpg"
    assert cv2.imwrite(str(raw), image)
    return make_signed.sign(raw, tmp_path / "firefly.jpg", "firefly")


# --- states, from files -------------------------------------------------------------


@needs_media
def test_sora_clip_signed_with_the_test_certificate_reads_untrusted(sora_clip: Path) -> None:
    p = provenance.read(sora_clip)
    assert p.state == "untrusted"  # c2pa: "Valid", signingCredential.untrusted
    assert p.failures == ("signingCredential.untrusted",)
    assert p.claim_generator == "OpenAI Sora 1.0"
    assert p.signer == "C2PA Test Signing Cert / C2PA Signer"
    assert p.signed_at is None  # signed without a timestamp authority
    [action] = p.actions
    assert (action.action, action.software_agent, action.digital_source_type) == (
        "c2pa.created",
        "Sora",
        "trainedAlgorithmicMedia",
    )
    assert p.generative and p.generators == ("Sora",)


@needs_media
def test_firefly_still_reads_untrusted_and_generative(firefly_still: Path) -> None:
    p = provenance.read(firefly_still)
    assert p.state == "untrusted"
    assert p.generators == ("Adobe Firefly 3.0",)


@needs_media
@pytest.mark.parametrize("signed", ["sora_clip", "firefly_still"])
def test_one_byte_flipped_in_the_media_data_reads_invalid(
    signed: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    original: Path = request.getfixturevalue(signed)
    copy = tmp_path / f"tampered{original.suffix}"
    offset = make_signed.tamper(original, copy)
    a, b = original.read_bytes(), copy.read_bytes()
    assert len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1
    assert a[offset] != b[offset]
    p = provenance.read(copy)
    assert p.state == "invalid", p
    hash_failure = (
        "assertion.bmffHash.mismatch"
        if original.suffix == ".mp4"
        else ("assertion.dataHash.mismatch")
    )
    assert hash_failure in p.failures
    assert hash_failure in p.reason
    assert provenance.read(original).state == "untrusted"  # the original is untouched


@needs_media
def test_an_edit_names_its_signed_parent_as_ingredient(sora_clip: Path, tmp_path: Path) -> None:
    edited = make_signed.sign(sora_clip, tmp_path / "cut.mp4", "edit", parent=sora_clip)
    p = provenance.read(edited)
    assert p.state == "untrusted"
    assert [a.action for a in p.actions] == ["c2pa.opened", "c2pa.edited"]
    assert not p.generative  # the edit itself is not generated; its parent was
    [ingredient] = p.ingredients
    assert (ingredient.title, ingredient.relationship, ingredient.signed) == (
        "sora.mp4",
        "parentOf",
        True,
    )


@needs_media
def test_real_signed_samples() -> None:
    """Files signed by C2PA tools nobody here wrote, from the c2pa-python project."""
    video = provenance.read(C2PA_MEDIA / "video1.mp4")
    assert video.state == "untrusted"
    assert video.claim_generator == "TestApp c2patool/0.6.2 c2pa-rs/0.28.2"
    assert video.signed_at == "2023-12-02T16:34:19+00:00"
    assert [a.action for a in video.actions] == ["c2pa.opened"]
    assert video.ingredients[0].relationship == "parentOf"
    still = provenance.read(C2PA_MEDIA / "C.jpg")
    assert still.state == "untrusted"
    assert still.actions[0].software_agent == "Make Test Images 0.26.0"
    assert still.actions[0].digital_source_type == "algorithmicMedia"
    assert not still.generative  # algorithmic, not a trained model
    assert provenance.read(C2PA_MEDIA / "sample1.webp").state == "absent"


def test_unsigned_clip_reads_absent(make_clip: MakeClip) -> None:
    p = provenance.read(make_clip("plain.mp4", RED))
    assert (p.state, p.reason) == ("absent", "no C2PA manifest")


def test_format_c2pa_cannot_carry_reads_absent(tmp_path: Path) -> None:
    mkv = tmp_path / "clip.mkv"
    mkv.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(200))  # an EBML (Matroska) header
    p = provenance.read(mkv)
    assert p.state == "absent"
    assert "does not read this format" in p.reason


def test_missing_file_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    p = provenance.read(tmp_path / "gone.mp4")
    assert p.state == "unavailable"
    assert "No such file" in p.reason


def test_without_c2pa_provenance_is_unavailable(
    make_clip: MakeClip, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_c2pa(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "c2pa" or name.startswith("c2pa."):
            raise ImportError("No module named 'c2pa'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_c2pa)
    p = provenance.read(make_clip("plain.mp4", RED))
    assert p.state == "unavailable"
    assert "c2pa-python is not installed" in p.reason


def test_c2pa_is_imported_only_when_provenance_is_read() -> None:
    import subprocess
    import sys

    code = (
        "import sys, drift_audit.pipeline, drift_audit.cli, drift_audit.report.json\n"
        "assert 'c2pa' not in sys.modules, 'c2pa imported too early'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- states, from validation results -----------------------------------------------


def _store(state: str, failures: list[str]) -> dict[str, Any]:
    return {
        "active_manifest": "m",
        "manifests": {"m": {"claim_generator": "x", "assertions": []}},
        "validation_state": state,
        "validation_results": {
            "activeManifest": {"failure": [{"code": c} for c in failures], "success": []}
        },
    }


@pytest.mark.parametrize(
    ("state", "failures", "expected"),
    [
        ("Trusted", [], "valid"),
        ("Valid", ["signingCredential.untrusted"], "untrusted"),
        ("Valid", [], "untrusted"),  # validates, but no trust list vouched for it
        ("Invalid", ["assertion.bmffHash.mismatch"], "invalid"),
        # Never valid while a hash or signature failure stands, whatever the state says.
        ("Valid", ["signingCredential.untrusted", "assertion.dataHash.mismatch"], "invalid"),
        ("Trusted", ["claimSignature.mismatch"], "invalid"),
        (None, [], "invalid"),
    ],
)
def test_state_from_validation_results(
    state: str | None, failures: list[str], expected: str
) -> None:
    assert provenance.from_store(_store(state, failures)).state == expected  # type: ignore[arg-type]


def test_ingredient_failures_count() -> None:
    store = _store("Valid", ["signingCredential.untrusted"])
    store["validation_results"]["ingredientDeltas"] = [
        {"validationDeltas": {"failure": [{"code": "assertion.dataHash.mismatch"}]}}
    ]
    assert provenance.from_store(store).state == "invalid"


def test_store_without_active_manifest_is_invalid() -> None:
    assert provenance.from_store({"manifests": {}}).state == "invalid"


# --- findings ----------------------------------------------------------------------


class _Clip:
    def __init__(self, index: int, state: str | None) -> None:
        self.index = index
        self.path = f"/clips/{index}.mp4"
        self.provenance = None if state is None else Provenance(state, f"because {state}")


@pytest.mark.parametrize(
    ("state", "required", "severity"),
    [
        ("untrusted", True, None),
        ("valid", True, None),
        ("invalid", False, "warn"),  # tampering is worth a word even when not required
        ("invalid", True, "fail"),
        ("absent", False, None),
        ("absent", True, "fail"),
        ("unavailable", True, "fail"),
        (None, True, None),  # not read: the clip's own error says why
    ],
)
def test_findings(state: str | None, required: bool, severity: str | None) -> None:
    found = provenance.findings([_Clip(2, state)], required)  # type: ignore[list-item]
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        f = found[0]
        assert (f.kind, f.clip, f.character) == ("provenance", 2, None)
        assert f"provenance {state}" in f.message and "2.mp4" in f.message


# --- through the command line ------------------------------------------------------


@needs_media
def test_json_terminal_html_show_provenance(
    sora_clip: Path, make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    plain = make_clip("plain.mp4", RED)
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    result = invoke(sora_clip, plain, "--json", out, "--html", page)
    assert result.exit_code == 0, result.output
    data = report_at(out)
    first, second = (c["provenance"] for c in data["clips"])
    assert first["state"] == "untrusted" and first["generators"] == ["Sora"]
    assert first["actions"][0]["digital_source_type"] == "trainedAlgorithmicMedia"
    assert second["state"] == "absent"
    assert data["findings"] == []  # no provenance finding unless required
    assert "provenance: signed, signer not on a trust list  AI-generated by Sora" in result.stdout
    assert "provenance: no manifest" in result.stdout
    html = page.read_text("utf-8")
    assert "<h2>Provenance</h2>" in html
    assert "AI-generated by Sora" in html and "prov-absent" in html


@needs_media
def test_require_provenance_fails_missing_and_invalid(
    sora_clip: Path, make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    tampered = tmp_path / "tampered.mp4"
    make_signed.tamper(sora_clip, tampered)
    plain = make_clip("plain.mp4", RED)
    out = tmp_path / "r.json"
    args = [sora_clip, tampered, plain, "--json", out]
    loose = invoke(*args)
    assert loose.exit_code == 0, loose.output
    # The flipped byte may also damage a frame (a damaged_clip warn): not counted here.
    assert _provenance_findings(report_at(out)) == [("provenance", "warn", 2)]
    strict = invoke(*args, "--require-provenance")
    assert strict.exit_code == 1, strict.output
    data = report_at(out)
    assert _provenance_findings(data) == [("provenance", "fail", 2), ("provenance", "fail", 3)]
    assert any("assertion.bmffHash.mismatch" in f["message"] for f in data["findings"])


def _provenance_findings(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (f["kind"], f["severity"], f["clip"]) for f in data["findings"] if f["kind"] == "provenance"
    ]


def test_require_provenance_without_c2pa_is_a_usage_error(
    make_clip: MakeClip, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provenance, "available", lambda: "c2pa-python is not installed")
    result = invoke(make_clip("a.mp4", RED), "--require-provenance")
    assert result.exit_code == 2
    assert "--require-provenance cannot read manifests" in result.stderr


@needs_media
def test_provenance_is_deterministic_and_outside_the_cache(
    sora_clip: Path, tmp_path: Path, fake_models: dict, analysis_cache: Path
) -> None:
    """The same file gives the same bytes; a cache hit still reads provenance, and
    no cache key depends on the provenance options (no second entry is made)."""
    out1, out2, out3 = tmp_path / "1.json", tmp_path / "2.json", tmp_path / "3.json"
    assert invoke(sora_clip, "--json", out1).exit_code == 0
    entries = sorted(analysis_cache.rglob("*.npz"))
    assert len(entries) == 1
    assert fake_models["embedder"].batches  # type: ignore[attr-defined]
    assert invoke(sora_clip, "--json", out2).exit_code == 0  # from the cache
    assert not fake_models["embedder"].batches  # type: ignore[attr-defined]
    assert out1.read_bytes() == out2.read_bytes()
    assert report_at(out2)["clips"][0]["provenance"]["state"] == "untrusted"
    trusted = invoke(
        sora_clip,
        "--json",
        out3,
        "--require-provenance",
        "--trust-anchors",
        C2PA_MEDIA / "es256_certs.pem",
    )
    assert trusted.exit_code == 0, trusted.output
    assert not fake_models["embedder"].batches  # type: ignore[attr-defined]  # a hit again
    assert sorted(analysis_cache.rglob("*.npz")) == entries
    assert report_at(out3)["clips"][0]["provenance"]["state"] == "valid"


def test_terminal_line_for_each_state() -> None:
    console = Console(record=True, width=200)

    class Clip:
        provenance = Provenance("invalid", "the manifest does not validate: x.mismatch")

    provenance_view.terminal_line(Clip(), console)  # type: ignore[arg-type]
    text = console.export_text()
    assert "provenance: INVALID manifest" in text and "x.mismatch" in text


@needs_media
def test_swapped_face_in_signed_clips_still_fails_on_identity(
    make_clip: MakeClip, tmp_path: Path, fake_models: dict
) -> None:
    """Provenance says who made a clip, not that its character is the same one."""
    a = make_signed.sign(make_clip("a_raw.mp4", RED), tmp_path / "a.mp4", "sora")
    b = make_signed.sign(make_clip("b_raw.mp4", BLUE), tmp_path / "b.mp4", "sora")
    out = tmp_path / "r.json"
    result = invoke(a, b, "--json", out, "--require-provenance")
    assert result.exit_code == 1
    kinds = {f["kind"] for f in report_at(out)["findings"]}
    assert "provenance" not in kinds and kinds & {"identity_swap", "identity_drift"}


@needs_media
def test_corrupted_signed_files_never_crash_and_media_flips_never_validate(
    sora_clip: Path, firefly_still: Path, tmp_path: Path
) -> None:
    """Random byte flips and truncations of signed files, read in a subprocess (a
    panic in c2pa's native code would abort it): each gives a state, and a flip
    inside the MP4's mdat never reads as validating."""
    import random
    import subprocess
    import sys

    rng = random.Random(13)
    variants: list[tuple[Path, bool]] = []  # (file, a flip inside mdat)
    for source in (sora_clip, firefly_still):
        data = source.read_bytes()
        mdat = make_signed._mdat_middle(bytearray(data)) if source.suffix == ".mp4" else None
        for k in range(20):
            buf = bytearray(data)
            if k % 4 == 3:
                del buf[rng.randrange(len(buf)) :]
                in_mdat = False
            else:
                at = mdat + rng.randrange(-200, 200) if mdat and k % 2 else rng.randrange(len(buf))
                buf[at] ^= 1 << rng.randrange(8)
                in_mdat = mdat is not None and abs(at - mdat) < 200
            path = tmp_path / f"v{len(variants)}{source.suffix}"
            path.write_bytes(bytes(buf))
            variants.append((path, in_mdat))
    code = (
        "import sys\nfrom pathlib import Path\nfrom drift_audit import provenance\n"
        "for p in sys.argv[1:]:\n    print(provenance.read(Path(p)).state)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *(str(p) for p, _ in variants)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    states = out.stdout.split()
    assert len(states) == len(variants)
    assert set(states) <= set(provenance.STATES)
    for (path, in_mdat), state in zip(variants, states, strict=True):
        if in_mdat:
            assert state == "invalid", path
    assert sum(in_mdat for _, in_mdat in variants) >= 5


# --- trust anchors -----------------------------------------------------------------


@needs_media
def test_trust_anchors_make_their_signer_valid(sora_clip: Path, tmp_path: Path) -> None:
    anchors = provenance.load_trust_anchors(C2PA_MEDIA / "es256_certs.pem")
    p = provenance.read(sora_clip, anchors)
    assert (p.state, p.failures) == ("valid", ())
    tampered = tmp_path / "tampered.mp4"
    make_signed.tamper(sora_clip, tampered)
    assert provenance.read(tampered, anchors).state == "invalid"  # trust never excuses a hash
    other = provenance.read(C2PA_MEDIA / "C.jpg", anchors)  # another test certificate
    assert other.state == "untrusted"
    assert other.reason.endswith("not on the trust list given")


@needs_media
def test_trust_anchors_through_the_command_line(
    sora_clip: Path, tmp_path: Path, fake_models: dict
) -> None:
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    args = [sora_clip, "--json", out, "--html", page, "--require-provenance"]
    result = invoke(*args, "--trust-anchors", C2PA_MEDIA / "es256_certs.pem")
    assert result.exit_code == 0, result.output
    assert report_at(out)["clips"][0]["provenance"]["state"] == "valid"
    assert "provenance: valid (trusted signer)" in result.stdout
    assert 'class="prov-valid"' in page.read_text("utf-8")


def test_unreadable_trust_anchors_are_refused_before_any_work(
    make_clip: MakeClip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drift_audit import pipeline

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pipeline ran although the options were bad")

    monkeypatch.setattr(pipeline, "audit", refuse)
    clip = make_clip("a.mp4", RED)
    gone = invoke(clip, "--trust-anchors", tmp_path / "gone.pem")
    assert gone.exit_code == 2 and "--trust-anchors" in gone.stderr and "cannot read" in gone.stderr
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    bad = invoke(clip, "--trust-anchors", not_pem)
    assert bad.exit_code == 2 and "holds no PEM certificate" in bad.stderr


def test_finding_message_of_an_undecodable_file_name_encodes() -> None:
    clip = _Clip(1, "absent")
    clip.path = "/clips/bad\udcff.mp4"
    [f] = provenance.findings([clip], True)  # type: ignore[list-item]
    assert "bad\\xff.mp4" in f.message
    f.message.encode("utf-8")


@needs_media
def test_odd_manifest_store_structure_reads_invalid(
    sora_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crafted store whose types are not what the C2PA spec says reads invalid,
    never as a crash."""
    store = _store("Valid", [])
    store["manifests"]["m"]["assertions"] = [{"label": "c2pa.actions", "data": ["not a dict"]}]
    with pytest.raises(AttributeError):
        provenance.from_store(store)
    original = provenance.from_store
    monkeypatch.setattr(provenance, "from_store", lambda _s, t=False: original(store, t))
    p = provenance.read(sora_clip)
    assert p.state == "invalid" and "odd structure" in p.reason


@needs_media
@pytest.mark.slow
@pytest.mark.media
def test_source_matrix_signed_as_its_generators_sign_audits_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The source matrix's Sora 2 videos (MP4, H.264 + AAC, 1080p and 720p, 16:9 and
    9:16) and Firefly stills (JPEG, PNG), signed as those generators sign them
    (scripts/make_sources.py names each one's preset): each still decodes as
    displayed, reads untrusted and generative, and the story audits with the real
    models under --require-provenance with no fail."""
    from drift_audit.cli import main
    from scripts.make_sources import SOURCES, make_sources
    from tests.generated import MEDIA

    if not (MEDIA / "faces").is_dir():
        pytest.skip(f"{MEDIA}/faces is absent")
    signed = [s for s in SOURCES if s.c2pa_preset]
    assert {s.generator for s in signed} == {"Sora 2", "Adobe Firefly"}
    make_sources(tmp_path / "src", {s.name for s in signed})
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    agents = {"sora": ("Sora",), "firefly": ("Adobe Firefly 3.0",)}
    for s in signed:
        dst = make_signed.sign(tmp_path / "src" / s.name, delivery / s.name, s.c2pa_preset)
        p = provenance.read(dst)
        assert (p.state, p.generators) == ("untrusted", agents[s.c2pa_preset]), s.name
        assert p.actions[0].digital_source_type == "trainedAlgorithmicMedia"
    out = tmp_path / "report.json"
    args = [*(str(delivery / s.name) for s in signed), "--json", str(out), "-q", "--no-cache"]
    with pytest.raises(SystemExit) as caught:
        main([*args, "--require-provenance"])
    assert caught.value.code == 0, capsys.readouterr().err
    data = report_at(out)
    for clip, s in zip(data["clips"], signed, strict=True):
        assert clip["status"] == "ok", clip["error"]
        assert (clip["width"], clip["height"]) == s.display, s.name
        assert clip["tracks"] >= 1, f"{s.name}: no face found"
        assert clip["provenance"]["state"] == "untrusted"
        assert clip["provenance"]["generative"]
    assert data["summary"]["verdict"] == "pass"


@needs_media
def test_provenance_and_output_options_from_the_config_file(
    sora_clip: Path, tmp_path: Path, fake_models: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """drift-audit.toml takes the new options like any other (paths relative to it)."""
    import shutil

    shutil.copyfile(C2PA_MEDIA / "es256_certs.pem", tmp_path / "anchors.pem")
    (tmp_path / "drift-audit.toml").write_text(
        'require-provenance = true\ntrust-anchors = "anchors.pem"\njunit = "out.xml"\n'
        'csv = "out.csv"\n'
    )
    monkeypatch.chdir(tmp_path)
    result = invoke(sora_clip, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert report_at(tmp_path / "r.json")["clips"][0]["provenance"]["state"] == "valid"
    assert 'name="provenance" value="valid"' in (tmp_path / "out.xml").read_text("utf-8")
    assert (tmp_path / "out.csv").read_text("utf-8").startswith("clip,")


def test_offline_settings_are_settings_c2pa_knows() -> None:
    """c2pa accepts unknown setting names silently; a known one is typed. So each
    setting that keeps reads offline must refuse a string: a rename in a c2pa upgrade
    fails here instead of quietly fetching remote manifests."""
    c2pa = pytest.importorskip("c2pa", reason="c2pa-python is not installed")
    for key, value in provenance._SETTINGS["verify"].items():
        assert value is False
        with pytest.raises(Exception, match="expected a boolean"):
            c2pa.Settings().set(f"verify.{key}", '"a string"')
    c2pa.Settings().set("verify.no_such_setting", '"a string"')  # unknown: accepted


def test_a_clip_path_the_system_refuses_keeps_no_provenance(tmp_path: Path) -> None:
    from drift_audit.types import ClipResult

    clips = [
        ClipResult(1, str(tmp_path / ("x" * 300 + ".mp4")), status="error", error="too long"),
        ClipResult(2, "nul\x00byte.mp4", status="error", error="a NUL byte"),
    ]
    provenance.attach(clips)  # neither raises (an internal error, exit 3) nor reads
    assert [c.provenance for c in clips] == [None, None]
