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
    EXIT_INTERNAL,
    EXIT_PASS,
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
    "an unreadable input (every readable clip is still audited); 3 internal error; "
    "130 / 143 interrupted. "
    "Models: `drift-audit models` lists embedder weights, `drift-audit models import PATH` "
    "installs facenet weights."
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


audit_app = typer.Typer(add_completion=False, rich_markup_mode=None)


@audit_app.command(epilog=EPILOG)
def audit_command(
    clips: Annotated[
        list[str],
        typer.Argument(
            help="Clips in story order: files, folders (their videos in name order), or - to read "
            "paths from stdin, one per line.",
            show_default=False,
        ),
    ],
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
            help="Write a PNG contact sheet (characters x clips) to PATH.",
            metavar="PATH",
        ),
    ] = None,
    cast: Annotated[
        list[str] | None,
        typer.Option(
            "--cast",
            help="NAME=IMAGE reference for a character; repeat for each.",
            metavar="NAME=IMAGE",
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
    from drift_audit.inputs import expand

    try:
        config = AuditConfig(
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
            extras_fail=extras_fail,
            cast=_parse_cast(cast or []),
            clip_timeout_s=clip_timeout,
            jobs=jobs,
            executor=executor.value,
            ray_address=ray_address,
            threads=threads,
            cache_dir=cache_dir,
            use_cache=not no_cache,
        )
        if weights is not None and not weights.is_file():
            raise ConfigError(f"--weights {weights}: no such file")
        outputs = _outputs(json_out, html_out, sheet_out)
    except (ConfigError, OutputError) as exc:
        raise die(str(exc)) from None

    inputs = expand(clips)
    if not inputs:
        raise die("no clips given (stdin was empty)")

    report = _run(inputs, config, quiet)
    interrupts.check()  # a signal during the last stage: the previous report stays

    for clip in report.unreadable:
        error_line(clip.error or f"{clip.path}: unreadable")
    _write_reports(report, outputs, json_out == "-")
    if not quiet or json_out != "-":
        from drift_audit.report.terminal import render

        # stdout carries the results: the table, unless it already carries JSON.
        render(report, err if json_out == "-" else Console(highlight=False, soft_wrap=True))
    interrupts.check()  # the new reports are whole; the signal still decides the code
    if report.unreadable:
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FINDINGS if report.failed else EXIT_PASS)


def _outputs(
    json_out: str | None, html_out: Path | None, sheet_out: Path | None
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
    return outputs


def _write_reports(report: Report, outputs: dict[str, Path], json_to_stdout: bool) -> None:
    """Every asked-for report, each written whole or not at all. Each path is checked
    again: the audit took time, and a path may have become a FIFO or a link since."""
    from drift_audit.files import report_target, write_atomic
    from drift_audit.report import json as json_report

    def write(option: str, render: Callable[[], str | bytes]) -> None:
        write_atomic(report_target(outputs[option], option), render())

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

            write("--contact-sheet", lambda: render_contact_sheet(report))
    except OutputError as exc:
        raise die(str(exc)) from None


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
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("starting", total=None)

            def hook(stage: str, done: int, total: int) -> None:
                progress.update(task, description=stage, completed=done, total=total or None)

            return audit(inputs, config, hook=hook)
    except DriftAuditError as exc:
        raise die(str(exc)) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point: `drift-audit models ...` or `drift-audit [OPTIONS] CLIPS...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--version" in args[: args.index("--") if "--" in args else len(args)]:
        print(f"drift-audit {__version__}")
        sys.exit(0)
    try:
        with interrupts.watching():
            interrupts.check()  # a signal during the imports: no work starts
            if args[:1] == ["models"]:
                from drift_audit.cli_models import models_app

                models_app(args[1:], prog_name="drift-audit models")
            else:
                audit_app(args, prog_name="drift-audit")
    except interrupts.Interrupted as exc:
        # No second signal may cut the exit short; a report is written atomically.
        for sig in interrupts.SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        error_line("interrupted" if exc.signum == signal.SIGINT else "terminated")
        sys.exit(128 + exc.signum)
    except Exception as exc:  # a bug: its own code, never the findings code
        error_line(f"internal error: {type(exc).__name__}: {exc} (a bug; please report it)")
        sys.exit(EXIT_INTERNAL)
