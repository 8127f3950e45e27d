"""drift-audit.toml: option defaults, cast and fail-on per finding kind; flags win;
every mistake is one line naming the file and the key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from drift_audit import pipeline
from drift_audit.cli import audit_app
from drift_audit.config import AuditConfig
from drift_audit.config_file import Option, finding_kinds, keys_for, load
from drift_audit.errors import ConfigError
from drift_audit.types import Report

try:
    from tests.conftest import BLUE, RED
except ImportError:  # pytest put tests/ itself on sys.path
    from conftest import BLUE, RED  # type: ignore[no-redef]

MakeClip = Callable[..., Path]

OPTIONS = {
    **keys_for(["--sample-fps"], Option("sample_fps", float)),
    **keys_for(["--jobs"], Option("jobs", int)),
    **keys_for(["--no-cache"], Option("no_cache", bool)),
    **keys_for(["--json"], Option("json_out", str, path=True)),
    **keys_for(["--cache-dir"], Option("cache_dir", Path, path=True)),
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def invoke(*args: object, cwd: Path | None = None) -> Result:
    result = CliRunner().invoke(audit_app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[AuditConfig]:
    """The AuditConfig each run would audit with (the pipeline does not run)."""
    configs: list[AuditConfig] = []

    def record(paths: object, config: AuditConfig, **kwargs: object) -> Report:
        configs.append(config)
        return Report([], [], [], None, config.fail_on)

    monkeypatch.setattr(pipeline, "audit", record)
    return configs


# --- the file on its own ------------------------------------------------------------


def test_keys_are_long_option_names_with_dashes_or_underscores(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "sample-fps = 2\njobs = 3\nno_cache = true\n")
    loaded = load(config, OPTIONS)
    assert loaded.defaults == {"sample_fps": 2.0, "jobs": 3, "no_cache": True}


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    config = write(
        tmp_path / "proj" / "drift-audit.toml",
        'json = "out/r.json"\ncache-dir = "/abs/cache"\n[cast]\nann = "refs/ann.png"\n',
    )
    loaded = load(config, OPTIONS)
    assert loaded.defaults["json_out"] == str(tmp_path / "proj" / "out" / "r.json")
    assert loaded.defaults["cache_dir"] == "/abs/cache"
    assert loaded.cast == (("ann", tmp_path / "proj" / "refs" / "ann.png"),)


def test_json_to_stdout_stays_stdout(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", 'json = "-"\n')
    assert load(config, OPTIONS).defaults["json_out"] == "-"


def test_fail_on_table_and_its_default(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml",
        '[fail_on]\ndefault = "warn"\nidentity_drift = "fail"\nattribute_drift = "never"\n',
    )
    loaded = load(config, OPTIONS)
    assert loaded.fail_on_kind == (("attribute_drift", "never"), ("identity_drift", "fail"))
    assert loaded.defaults == {"fail_on": "warn"}


def test_every_finding_kind_is_known() -> None:
    kinds = finding_kinds()
    for kind in ("identity_drift", "identity_swap", "damaged_clip", "duplicate_clip"):
        assert kind in kinds


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sample_fsp = 2\n", ["unknown key 'sample_fsp'", "did you mean 'sample_fps'"]),
        ("frobnicate = 1\n", ["unknown key 'frobnicate'"]),
        ('sample-fps = "fast"\n', ["sample-fps = 'fast'", "expected a number"]),
        ("jobs = 1.5\n", ["jobs = 1.5", "expected a whole number"]),
        ("jobs = true\n", ["jobs = True", "expected a number"]),
        ('no-cache = "yes"\n', ["no-cache = 'yes'", "true or false"]),
        ("json = 3\n", ["json = 3", "a path, as a string"]),
        ("[jobs]\nx = 1\n", ["jobs: expected a single value, got a table"]),
        ("cast = ['a=b.png']\n", ["[cast] table"]),
        ("[cast]\nann = 3\n", ["[cast] ann", "path of an image"]),
        ('[fail_on]\nidentity_drfit = "fail"\n', ["[fail_on] identity_drfit", "'identity_drift'"]),
        ('[fail_on]\nidentity_drift = "sometimes"\n', ["identity_drift = 'sometimes'"]),
        ("sample-fps = \n", ["not valid TOML", "line 1"]),
        ('json = "a\\u0000b"\n', ["json: a value cannot hold a NUL byte"]),
        ('[cast]\nann = "a\\u0000.png"\n', ["[cast] ann"]),
    ],
)
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, text: str, words: list[str]) -> None:
    config = write(tmp_path / "drift-audit.toml", text)
    with pytest.raises(ConfigError) as caught:
        load(config, OPTIONS)
    message = str(caught.value)
    assert message.startswith(f"{config}: ")
    for word in words:
        assert word in message, message


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_bytes(b"jobs = 1 # \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(config, OPTIONS)


# --- through the command line ------------------------------------------------------


def test_the_config_in_the_current_folder_sets_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: list[AuditConfig]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "drift-audit.toml", 'sample-fps = 2\ndecoder = "opencv"\nno-cache = true\n')
    assert invoke("a.mp4", "-q").exit_code == 0
    [config] = seen
    assert (config.sample_fps, config.decoder, config.use_cache) == (2.0, "opencv", False)


def test_flags_win_over_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: list[AuditConfig]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "drift-audit.toml", "sample-fps = 2\njobs = 2\n")
    assert invoke("a.mp4", "--sample-fps", "7", "-q").exit_code == 0
    [config] = seen
    assert (config.sample_fps, config.jobs) == (7.0, 2)


def test_config_option_names_a_file_elsewhere(tmp_path: Path, seen: list[AuditConfig]) -> None:
    config = write(tmp_path / "conf" / "ci.toml", "min-face = 48\nfps = 12\n")
    assert invoke("a.mp4", "--config", config, "-q").exit_code == 0
    assert (seen[0].min_face_px, seen[0].sequence_fps) == (48, 12.0)


def test_config_values_are_range_checked_like_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: list[AuditConfig]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "drift-audit.toml", "sample-fps = 0\n")
    result = invoke("a.mp4")
    assert result.exit_code == 2 and "--sample-fps must be in" in result.stderr
    assert seen == []


def test_an_unknown_key_is_one_line_exit_2_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: list[AuditConfig]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "drift-audit.toml", "sample-fps = 2\nthreshhold = 0.5\n")
    result = invoke("a.mp4")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "drift-audit: error: drift-audit.toml: unknown key 'threshhold' (did you mean 'threshold'?)"
    ]
    assert seen == []


def test_a_missing_config_option_file_is_exit_2(tmp_path: Path, seen: list[AuditConfig]) -> None:
    result = invoke("a.mp4", "--config", tmp_path / "none.toml")
    assert result.exit_code == 2
    assert f"--config {tmp_path / 'none.toml'}: no such file" in result.stderr


def test_help_works_beside_a_broken_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "drift-audit.toml", "this is not toml\n")
    for flag in ("-h", "--help"):
        assert invoke(flag).exit_code == 0


def test_options_that_are_not_settings_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: list[AuditConfig]
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("version = true", 'config = "x.toml"', "install-completion = true"):
        write(tmp_path / "drift-audit.toml", key + "\n")
        result = invoke("a.mp4")
        assert result.exit_code == 2 and "unknown key" in result.stderr, key


def test_cast_from_the_config_merges_with_cast_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: list[AuditConfig]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "drift-audit.toml", '[cast]\nann = "refs/ann.png"\nbob = "refs/bob.png"\n')
    assert invoke("a.mp4", "--cast", "bob=new/bob.jpg", "--cast", "cy=cy.png", "-q").exit_code == 0
    cast = {m.name: m.image for m in seen[0].cast}
    assert cast == {
        "ann": Path("refs/ann.png"),
        "bob": Path("new/bob.jpg"),
        "cy": Path("cy.png"),
    }


def test_fail_on_per_kind_decides_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_clip: MakeClip, fake_models: dict
) -> None:
    a, b = make_clip("a.mp4", RED), make_clip("b.mp4", BLUE)
    out = tmp_path / "r.json"
    assert invoke(a, b, "--json", out, "-q").exit_code == 1  # a swap: fail findings
    fails = {f["kind"] for f in json.loads(out.read_text())["findings"] if f["severity"] == "fail"}
    assert fails
    monkeypatch.chdir(tmp_path)
    never = "\n".join(f'{kind} = "never"' for kind in sorted(fails))
    write(tmp_path / "drift-audit.toml", f"[fail_on]\n{never}\n")
    result = invoke(a, b, "--json", out, "-q")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["summary"]["verdict"] == "pass"
    assert {f["kind"] for f in data["findings"] if f["severity"] == "fail"} == fails  # still told


def test_a_warn_kind_can_fail_the_run_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_clip: MakeClip, fake_models: dict
) -> None:
    a = make_clip("a.mp4", RED)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(a.read_bytes())
    assert invoke(a, copy, "-q").exit_code == 0  # duplicate_clip is a warning
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "drift-audit.toml", '[fail_on]\nduplicate_clip = "warn"\n')
    assert invoke(a, copy, "-q").exit_code == 1
    # and --fail-on warn fails on every warning but a kind set to never
    write(tmp_path / "drift-audit.toml", '[fail_on]\nduplicate_clip = "never"\n')
    assert invoke(a, copy, "--fail-on", "warn", "-q").exit_code == 0
