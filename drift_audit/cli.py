"""The command line: options -> AuditConfig -> audit() -> reports and an exit code.

The only module that prints or exits. Heavy imports wait until a command runs.
"""

from __future__ import annotations

import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from drift_audit import __version__, interrupts
from drift_audit.cli_output import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_PASS,
    REPORT_KINDS,
    die,
    error_line,
)
from drift_audit.decode import registry as decoders
from drift_audit.errors import DriftAuditError, OutputError
from drift_audit.identity.embedders import registry as embedders

if TYPE_CHECKING:
    from collections.abc import Callable

    from drift_audit.config import AuditConfig, CastMember
    from drift_audit.errors import InputError
    from drift_audit.types import Report


EPILOG = (
    "Exit codes: 0 no finding at or above --fail-on; 1 such findings; 2 usage error or "
    "an unreadable input (every readable clip is still audited); 3 internal error (one "
    "line naming a log file with the traceback); 130 / 143 interrupted. "
    "Config: drift-audit.toml in the current folder, or --config PATH: option defaults "
    "(long names without the dashes), a [cast] table and a [fail_on] table of finding "
    "kind = fail / warn / never; flags win. "
    "Environment: DRIFT_AUDIT_CACHE the analysis cache folder (crash logs in its logs/), "
    "else XDG_CACHE_HOME/drift-audit, else ~/.cache/drift-audit; DRIFT_AUDIT_HOME where "
    "`models import` installs weights (its models/), else XDG_DATA_HOME/drift-audit; "
    "TORCH_HOME where facenet-pytorch caches its download; GITHUB_ACTIONS=true turns "
    "on --github. "
    "Models: `drift-audit models` lists embedder weights (--json for JSON), "
    "`drift-audit models import PATH` installs facenet weights."
)


# From the embedder registry (which imports no model), so a new embedder is a new
# row there; mypy cannot read members built at run time.
Embedder = StrEnum("Embedder", [(n, n) for n in embedders.CHOICES])  # type: ignore[misc]


# From the decoder registry (which imports no backend): likewise.
Decoder = StrEnum("Decoder", [(n, n) for n in decoders.DECODERS])  # type: ignore[misc]


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Executor(StrEnum):
    local = "local"
    ray = "ray"


class FailOn(StrEnum):
    fail = "fail"
    warn = "warn"
    never = "never"


err = Console(stderr=True, highlight=False, soft_wrap=True)


def _parse_cast(values: list[str]) -> tuple[CastMember, ...]:
    from drift_audit.config import CastMember

    members = []
    for value in values:
        name, sep, image = value.partition("=")
        if not sep or not name.strip() or not image.strip():
            raise die(f"--cast {value!r}: expected NAME=IMAGE")
        members.append(CastMember(name.strip(), Path(image.strip())))
    return tuple(members)


audit_app = typer.Typer(
    add_completion=True,  # --install-completion / --show-completion
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _load_config_file(ctx: typer.Context, param: object, given: Path | None) -> Path | None:
    """--config (eager, so it runs before the other options take their defaults): the
    config file's option defaults become click's default_map, which flags override;
    its cast and [fail_on] wait in ctx.meta for the command."""
    if ctx.resilient_parsing:  # shell completion: read nothing
        return given
    from drift_audit import config_file
    from drift_audit.errors import ConfigError

    try:
        path = config_file.find(given)
        if path is None:
            return None
        options: dict[str, config_file.Option] = {}
        for p in ctx.command.params:
            if p.param_type_name != "option" or p.name in _NOT_IN_CONFIG:
                continue
            # typer's own record of the annotation (click's types say less)
            kind = getattr(getattr(p, "type_descriptor", None), "annotation", None)
            option = config_file.Option(
                str(p.name),
                kind if isinstance(kind, type) else None,
                bool(p.multiple),
                kind is Path or p.metavar == "PATH",
            )
            options.update(config_file.keys_for(p.opts, option))
        loaded = config_file.load(path, options)
    except ConfigError as exc:
        raise die(str(exc)) from None
    ctx.default_map = {**(ctx.default_map or {}), **loaded.defaults}
    ctx.meta[_CONFIG_FILE] = loaded
    return path


_CONFIG_FILE = "drift_audit.config_file"
_NOT_IN_CONFIG = {"config_path", "version", "cast", "install_completion", "show_completion", "help"}


@audit_app.command(epilog=EPILOG)
def audit_command(
    ctx: typer.Context,
    clips: Annotated[
        list[str],
        typer.Argument(
            help="Clips in story order: videos, stills (PNG, JPEG, WebP, TIFF, BMP, AVIF), "
            "folders (their videos and stills in name order; each skipped file is listed), "
            "or - to read paths from stdin, one per line or NUL-separated.",
            show_default=False,
        ),
    ],
    # --- issue 13 inputs and conventions (inputs.py, decode/stills.py, config_file.py) ---
    sequence: Annotated[
        bool,
        typer.Option(
            "--sequence",
            help="Each folder given is one clip: an image sequence of numbered stills "
            "(frame_0001.png ...) at --fps; gaps, repeated numbers and mixed sizes are refused.",
        ),
    ] = False,
    fps: Annotated[
        float,
        typer.Option("--fps", help="Frame rate of an image sequence, and of a still."),
    ] = 24.0,
    null: Annotated[
        bool,
        typer.Option(
            "--null",
            "-0",
            help="Paths on stdin (-) are NUL-separated, as `find -print0` writes them "
            "(found by itself when the input holds a NUL).",
        ),
    ] = False,
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file of option defaults, cast and fail-on per finding kind "
            "[default: drift-audit.toml in the current folder, if any].",
            metavar="PATH",
            is_eager=True,
            callback=_load_config_file,
        ),
    ] = None,
    # --- end issue 13 inputs and conventions ---
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json", help="Write the JSON report to PATH, or to stdout with -.", metavar="PATH"
        ),
    ] = None,
    html_out: Annotated[
        Path | None,
        typer.Option("--html", help="Write a self-contained HTML report to PATH.", metavar="PATH"),
    ] = None,
    sheet_out: Annotated[
        Path | None,
        typer.Option(
            "--contact-sheet",
            help="Write a contact sheet (characters x clips, findings) to PATH: .png, .jpg, .webp.",
            metavar="PATH",
        ),
    ] = None,
    # --- issue 13 outputs and provenance (report/junit.py, csv_report.py, otio_report.py,
    # github.py; provenance.py) ---
    junit_out: Annotated[
        Path | None,
        typer.Option("--junit", help="Write JUnit XML (Jenkins, GitLab) to PATH.", metavar="PATH"),
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Write one CSV row per finding to PATH.", metavar="PATH"),
    ] = None,
    otio_out: Annotated[
        Path | None,
        typer.Option(
            "--otio",
            help="Write an OpenTimelineIO timeline (clips in story order, a marker per "
            "finding) to PATH; needs the [otio] extra.",
            metavar="PATH",
        ),
    ] = None,
    github: Annotated[
        bool,
        typer.Option(
            "--github",
            help="Print GitHub Actions annotations (::error ...) for the findings; on by "
            "itself when GITHUB_ACTIONS=true.",
        ),
    ] = False,
    require_provenance: Annotated[
        bool,
        typer.Option(
            "--require-provenance",
            help="A clip without a C2PA manifest, or with an invalid one, is a fail finding.",
        ),
    ] = False,
    trust_anchors: Annotated[
        Path | None,
        typer.Option(
            "--trust-anchors",
            help="PEM file of the certificate authorities whose C2PA signers are trusted "
            "(e.g. the C2PA trust list); without it no signer is.",
            metavar="PEM",
        ),
    ] = None,
    # --- end issue 13 outputs and provenance ---
    cast: Annotated[
        list[str] | None,
        typer.Option(
            "--cast",
            help="NAME=IMAGE reference for a character; repeat for each.",
            metavar="NAME=IMAGE",
        ),
    ] = None,
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            help="CSV, JSON or YAML file: clips (index, file name or glob) -> the --cast "
            "names expected in them; missing and unexpected characters are checked "
            "against it.",
            metavar="FILE",
        ),
    ] = None,
    tracks_dir: Annotated[
        Path | None,
        typer.Option(
            "--tracks",
            help="Write every tracked face box to DIR in MOTChallenge text, one "
            "<clip index>-<stem>.txt per clip.",
            metavar="DIR",
        ),
    ] = None,
    embedder: Annotated[
        Embedder,
        typer.Option(
            help="Face embedder; auto = facenet when its weights are installed, else dlib."
        ),
    ] = Embedder[embedders.AUTO],
    weights: Annotated[
        Path | None, typer.Option(help="Local facenet vggface2 weights file.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Same-person similarity threshold (default: the embedder's calibrated one)."
        ),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option(help="Lowest finding severity that fails the run.")
    ] = FailOn.fail,
    extras_fail: Annotated[
        bool,
        typer.Option(
            "--extras-fail",
            help="Extras (characters small or blurred wherever they appear) fail like "
            "leads and count in swaps; by default their identity findings only warn.",
        ),
    ] = False,
    sample_fps: Annotated[
        float, typer.Option(help="Frames per second sent to face detection.")
    ] = 5.0,
    redetect: Annotated[
        float,
        typer.Option(
            help="Seconds between full-frame face detections in a shot; frames between "
            "them search only around tracked faces. 0 = every sampled frame."
        ),
    ] = 1.0,
    min_face: Annotated[int, typer.Option(help="Smallest face side detected, in pixels.")] = 32,
    confidence: Annotated[float, typer.Option(help="Smallest face detector confidence.")] = 0.92,
    faces_per_track: Annotated[int, typer.Option(help="Best faces embedded per track.")] = 5,
    batch_size: Annotated[int, typer.Option(help="Faces per embedder batch.")] = 32,
    decoder: Annotated[Decoder, typer.Option(help="Video decoder backend.")] = Decoder["auto"],
    device: Annotated[Device, typer.Option(help="Where models run.")] = Device.auto,
    clip_timeout: Annotated[
        float, typer.Option(help="Seconds allowed per clip; 0 = no limit.")
    ] = 0.0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Clips analysed in parallel.")] = 1,
    lanes: Annotated[
        int, typer.Option(help="Clips in flight side by side in one process (threads).")
    ] = 2,
    executor: Annotated[
        Executor,
        typer.Option(
            help="Where clips are analysed: this machine, or Ray actors (the [ray] extra)."
        ),
    ] = Executor.local,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster to join (HOST:PORT, ray://HOST:PORT, auto) with --executor "
            "ray [default: start a local one].",
            metavar="ADDR",
        ),
    ] = None,
    threads: Annotated[int, typer.Option(help="Torch threads per process on the CPU.")] = 1,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Per-clip analysis cache folder [default: ~/.cache/drift-audit]."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the cache.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or terminal report on stderr.")
    ] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Audit character drift across CLIPS given in story order."""
    from drift_audit.config import AuditConfig
    from drift_audit.errors import ConfigError
    from drift_audit.inputs import collect
    from drift_audit.script import load_script

    file_config = ctx.meta.get(_CONFIG_FILE)
    try:
        config = AuditConfig(
            script=load_script(script) if script is not None else None,
            tracks_dir=tracks_dir,
            sample_fps=sample_fps,
            redetect_s=redetect,
            min_face_px=min_face,
            detect_confidence=confidence,
            faces_per_track=faces_per_track,
            embed_batch=batch_size,
            embedder=embedder.value,
            weights=weights,
            threshold=threshold,
            decoder=decoder.value,
            device=device.value,
            fail_on=fail_on.value,
            fail_on_kind=file_config.fail_on_kind if file_config else (),
            extras_fail=extras_fail,
            cast=_merge_cast(file_config, _parse_cast(cast or [])),
            clip_timeout_s=clip_timeout,
            jobs=jobs,
            lanes=lanes,
            executor=executor.value,
            ray_address=ray_address,
            threads=threads,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            require_provenance=require_provenance,
            trust_anchors=trust_anchors,
            sequence_fps=fps,
        )
        if weights is not None and not weights.is_file():
            raise ConfigError(f"--weights {weights}: no such file")
        outputs = _outputs(json_out, html_out, sheet_out, junit_out, csv_out, otio_out)
        _check_extras(require_provenance, otio_out, trust_anchors)
    except (ConfigError, OutputError) as exc:
        raise die(str(exc)) from None

    given = collect(clips, null=null, sequence=sequence)
    for skipped in given.skipped:
        warning_line(f"{skipped.path}: skipped: {skipped.reason}")
    for line in given.repeated:
        warning_line(line)
    if not given.clips:
        raise die("no clips given (stdin was empty)")
    if config.script is not None:
        try:
            config.script.check_clips([_shown(p) for p in given.clips])
        except ConfigError as exc:
            raise die(str(exc)) from None

    report = _run(given.clips, config, quiet)
    interrupts.check()  # a signal during the last stage: the previous report stays

    for clip in report.unreadable:
        error_line(clip.error or f"{clip.path}: unreadable")
    _write_reports(report, outputs, json_out == "-", quiet)
    if config.tracks_dir is not None:
        _write_tracks(report, config.tracks_dir)
    _annotate(report, github, json_out == "-")
    if not quiet or json_out != "-":
        from drift_audit.report.terminal import render

        # stdout carries the results: the table, unless it already carries JSON.
        render(report, err if json_out == "-" else _Stdout(highlight=False, soft_wrap=True))
    interrupts.check()  # the new reports are whole; the signal still decides the code
    if report.unreadable:
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FINDINGS if report.failed else EXIT_PASS)


def warning_line(message: str) -> None:
    """One unwrapped warning line on stderr: something left out, the run goes on."""
    sys.stderr.write(f"drift-audit: warning: {' '.join(message.split())}\n")
    sys.stderr.flush()


def _merge_cast(file_config: object, flags: tuple[CastMember, ...]) -> tuple[CastMember, ...]:
    """The config file's [cast], with each --cast NAME=IMAGE replacing the member of
    its name or joining them."""
    from drift_audit.config import CastMember

    named = {member.name for member in flags}
    kept = [CastMember(n, image) for n, image in getattr(file_config, "cast", ()) if n not in named]
    return (*kept, *flags)  # a name given twice by flags stays an error (AuditConfig)


class _Stdout(Console):
    """stdout for the terminal report. A reader that stops reading (`| head`) cuts the
    table, not the verdict: rich would exit 1 (the findings code) on the broken pipe;
    here the rest of the table goes to /dev/null and the exit code stays the audit's."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _stdout_to_devnull()


def _stdout_to_devnull() -> None:
    """Point fd 1 at /dev/null, so that Python's flush at exit finds no broken pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _outputs(
    json_out: str | None,
    html_out: Path | None,
    sheet_out: Path | None,
    junit_out: Path | None = None,
    csv_out: Path | None = None,
    otio_out: Path | None = None,
) -> dict[str, Path]:
    """option -> the regular file its report replaces, each checked before any work.

    Raises:
        OutputError: a report cannot be written there (see files.report_target).
        ConfigError: two reports name the same file (one would overwrite the other).
    """
    from drift_audit.errors import ConfigError
    from drift_audit.files import report_target

    given = {
        "--json": Path(json_out) if json_out not in (None, "-") else None,
        "--html": html_out,
        "--contact-sheet": sheet_out,
        "--junit": junit_out,
        "--csv": csv_out,
        "--otio": otio_out,
    }
    outputs: dict[str, Path] = {}
    seen: dict[Path, str] = {}
    for option, path in given.items():
        if path is None:
            continue
        target = report_target(path, option)
        key = target.resolve()
        if key in seen:
            raise ConfigError(f"{seen[key]} and {option} name the same file {path}")
        seen[key] = option
        outputs[option] = target
    if sheet_out is not None:
        from drift_audit.report.formats import image_format

        image_format(sheet_out)  # a format it cannot write is refused before any work
    return outputs


def _write_reports(
    report: Report, outputs: dict[str, Path], json_to_stdout: bool, quiet: bool = False
) -> None:
    """Every asked-for report, each written whole or not at all, and a line on stderr
    naming each file written (unless quiet). Each path is checked again: the audit took
    time, and a path may have become a FIFO or a link since."""
    from drift_audit.files import report_target, write_atomic
    from drift_audit.report import json as json_report

    def write(option: str, render: Callable[[], str | bytes]) -> None:
        write_atomic(report_target(outputs[option], option), render())
        if not quiet:
            sys.stderr.write(f"drift-audit: wrote {REPORT_KINDS[option]} {outputs[option]}\n")
            sys.stderr.flush()

    try:
        if json_to_stdout:
            _to_stdout(json_report.dumps(report))
        if "--json" in outputs:
            write("--json", lambda: json_report.dumps(report))
        if "--html" in outputs:
            from drift_audit.report.html import render_html

            write("--html", lambda: render_html(report))
        if "--contact-sheet" in outputs:
            from drift_audit.report.contact_sheet import render_contact_sheet
            from drift_audit.report.formats import image_format

            fmt = image_format(outputs["--contact-sheet"])
            write("--contact-sheet", lambda: render_contact_sheet(report, fmt))
        if "--junit" in outputs:
            from drift_audit.report.junit import render_junit

            write("--junit", lambda: render_junit(report))
        if "--csv" in outputs:
            from drift_audit.report.csv_report import render_csv

            write("--csv", lambda: render_csv(report))
        if "--otio" in outputs:
            from drift_audit.report.otio_report import render_otio

            write("--otio", lambda: render_otio(report))
    except OutputError as exc:
        raise die(str(exc)) from None


def _shown(clip: Path | InputError) -> str:
    """A clip argument as a path string (the one an unreadable clip was given as)."""
    return str(clip) if isinstance(clip, Path) else clip.path


def _write_tracks(report: Report, folder: Path) -> None:
    """--tracks: one MOTChallenge text file per readable clip, each written whole."""
    from drift_audit.files import write_atomic
    from drift_audit.report.mot import mot_files

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in mot_files(report).items():
            write_atomic(folder / name, text)
    except OSError as exc:
        raise die(f"--tracks {folder}: cannot write ({exc.strerror or exc})") from None


def _check_extras(
    require_provenance: bool, otio_out: Path | None, trust_anchors: Path | None = None
) -> None:
    """What an asked-for feature needs is installed, before any work.

    Raises:
        ConfigError: c2pa-python (--require-provenance) or opentimelineio (--otio) is
            missing (the message says what to install), or --trust-anchors cannot be
            read.
    """
    from drift_audit.errors import ConfigError

    if trust_anchors is not None:
        from drift_audit.provenance import load_trust_anchors

        load_trust_anchors(trust_anchors)

    if require_provenance:
        from drift_audit.provenance import available

        missing = available()
        if missing is not None:
            raise ConfigError(f"--require-provenance cannot read manifests: {missing}")
    if otio_out is not None:
        from drift_audit.report.otio_report import missing as otio_missing

        needs = otio_missing()
        if needs is not None:
            raise ConfigError(needs)


def _annotate(report: Report, flag: bool, json_to_stdout: bool) -> None:
    """GitHub Actions annotations (report/github.py): on stdout, where GitHub reads
    workflow commands, unless stdout carries the JSON; then on stderr."""
    from drift_audit.report import github

    if not github.enabled(flag):
        return
    stream = sys.stderr if json_to_stdout else sys.stdout
    try:
        stream.write(github.render_annotations(report))
        stream.flush()
    except OSError:
        pass  # a closed stream: the reports and the exit code still stand


def _to_stdout(text: str) -> None:
    """The JSON on stdout; a closed or full stdout is a one-line error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        raise OutputError(f"--json -: cannot write to stdout ({exc.strerror or exc})") from None


def _run(inputs: list[Path | InputError], config: AuditConfig, quiet: bool) -> Report:
    from drift_audit.pipeline import audit

    show = not quiet and err.is_terminal
    try:
        if not show:
            return audit(inputs, config)
        import shutil

        from drift_audit.progress import TerminalProgress

        def write(text: str) -> None:
            sys.stderr.write(text)
            sys.stderr.flush()

        progress = TerminalProgress(len(inputs), write, lambda: shutil.get_terminal_size().columns)
        try:
            return audit(inputs, config, hook=progress)
        finally:
            progress.close()  # the report starts on a clean line
    except DriftAuditError as exc:
        raise die(str(exc)) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point: `drift-audit models ...` or `drift-audit [OPTIONS] CLIPS...`.

    Every way out is a documented exit code: the command's own, 2 for a usage error,
    128 + the signal for SIGINT / SIGTERM, and 3 for anything unexpected (a bug: one
    line, and the traceback in a log file, `crash.report`), never 1, the findings code.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "--version" in args[: args.index("--") if "--" in args else len(args)]:
        print(f"drift-audit {__version__}")
        sys.exit(0)
    try:
        with interrupts.watching():
            interrupts.check()  # a signal during the imports: no work starts
            code = _dispatch(args)
    except interrupts.Interrupted as exc:
        # No second signal may cut the exit short; a report is written atomically.
        for sig in interrupts.SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        error_line("interrupted" if exc.signum == signal.SIGINT else "terminated")
        sys.exit(128 + exc.signum)
    except Exception as exc:  # a bug: its own code, never the findings code
        from drift_audit import crash

        sys.exit(crash.report(exc, args))
    sys.exit(code)


def _dispatch(args: list[str]) -> int:
    """Run the command; its exit code. Typer runs outside its standalone mode, which
    would exit 1 for an EOFError (as "Aborted!") or a closed stdout."""
    if args[:1] == ["models"]:
        from drift_audit.cli_models import models_app

        app, args, prog = models_app, args[1:], "drift-audit models"
    else:
        app, prog = audit_app, "drift-audit"
    try:
        code = app(args, prog_name=prog, standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: typer's own message
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            error_line(str(exc))
        return EXIT_INPUT
    except typer.Abort as exc:  # what typer makes of an EOFError: a bug here
        raise (exc.__cause__ if isinstance(exc.__cause__, Exception) else exc) from None
    return code if isinstance(code, int) else EXIT_PASS
