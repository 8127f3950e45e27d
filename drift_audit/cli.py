"""The command line: options -> AuditConfig -> audit() -> reports and an exit code.

The only module that prints or exits. Heavy imports wait until a command runs.
"""

from __future__ import annotations

import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from drift_audit import __version__
from drift_audit.errors import DriftAuditError, OutputError

EXIT_PASS = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2

EPILOG = (
    "Exit codes: 0 no finding at or above --fail-on; 1 such findings; 2 usage error or "
    "an unreadable input (every readable clip is still audited). "
    "Models: `drift-audit models` lists embedder weights, `drift-audit models import PATH` "
    "installs facenet weights."
)


class Embedder(StrEnum):
    auto = "auto"
    dlib = "dlib"
    facenet = "facenet"


class Decoder(StrEnum):
    auto = "auto"
    decord = "decord"
    opencv = "opencv"
    torchcodec = "torchcodec"


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class FailOn(StrEnum):
    fail = "fail"
    warn = "warn"
    never = "never"


err = Console(stderr=True, highlight=False, soft_wrap=True)


class _Signalled(BaseException):  # a BaseException, like KeyboardInterrupt
    """Raised by our SIGINT / SIGTERM handlers. Not a KeyboardInterrupt: click would
    catch that and exit 1 ("Aborted!"), and the conventional codes are 130 / 143."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    raise _Signalled(signum)


def _error_line(message: str) -> None:
    """One unwrapped line on stderr, whatever the terminal width."""
    sys.stderr.write(f"drift-audit: error: {' '.join(message.split())}\n")
    sys.stderr.flush()


def _die(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    _error_line(message)
    return typer.Exit(code)


def _parse_cast(values: list[str]) -> tuple:  # type: ignore[type-arg]
    from drift_audit.config import CastMember

    members = []
    for value in values:
        name, sep, image = value.partition("=")
        if not sep or not name.strip() or not image.strip():
            raise _die(f"--cast {value!r}: expected NAME=IMAGE")
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
    ] = Embedder.auto,
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
    decoder: Annotated[Decoder, typer.Option(help="Video decoder backend.")] = Decoder.auto,
    device: Annotated[Device, typer.Option(help="Where models run.")] = Device.auto,
    clip_timeout: Annotated[
        float, typer.Option(help="Seconds allowed per clip; 0 = no limit.")
    ] = 0.0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Clips analysed in parallel.")] = 1,
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
    from drift_audit.files import check_writable, write_atomic
    from drift_audit.inputs import expand
    from drift_audit.report import json as json_report

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
            cast=_parse_cast(cast or []),
            clip_timeout_s=clip_timeout,
            jobs=jobs,
            threads=threads,
            cache_dir=cache_dir,
            use_cache=not no_cache,
        )
        if weights is not None and not weights.is_file():
            raise ConfigError(f"--weights {weights}: no such file")
        json_path = Path(json_out) if json_out not in (None, "-") else None
        if json_path is not None:
            check_writable(json_path)
        for option, out_path in (("--html", html_out), ("--contact-sheet", sheet_out)):
            if out_path is not None:
                check_writable(out_path, option)
    except (ConfigError, OutputError) as exc:
        raise _die(str(exc)) from None

    inputs = expand(clips)
    if not inputs:
        raise _die("no clips given (stdin was empty)")

    report = _run(inputs, config, quiet)

    for clip in report.unreadable:
        _error_line(clip.error or f"{clip.path}: unreadable")
    try:
        text = json_report.dumps(report)
        if json_path is not None:
            write_atomic(json_path, text)
        elif json_out == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        if html_out is not None:
            from drift_audit.report.html import render_html

            write_atomic(html_out, render_html(report))
        if sheet_out is not None:
            from drift_audit.report.contact_sheet import render_contact_sheet

            write_atomic(sheet_out, render_contact_sheet(report))
    except OutputError as exc:
        raise _die(str(exc)) from None
    if not quiet or json_out != "-":
        from drift_audit.report.terminal import render

        # stdout carries the results: the table, unless it already carries JSON.
        render(report, err if json_out == "-" else Console(highlight=False, soft_wrap=True))
    if report.unreadable:
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FINDINGS if report.failed else EXIT_PASS)


def _run(inputs: list, config: object, quiet: bool):  # type: ignore[type-arg, no-untyped-def]
    from drift_audit.pipeline import audit

    show = not quiet and err.is_terminal
    try:
        if not show:
            return audit(inputs, config)  # type: ignore[arg-type]
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

            return audit(inputs, config, hook=hook)  # type: ignore[arg-type]
    except DriftAuditError as exc:
        raise _die(str(exc)) from None


models_app = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,
    invoke_without_command=True,
    help="List or install face embedder weights.",
)


@models_app.callback()
def models_list(ctx: typer.Context) -> None:
    """List embedders, where their weights are, and their sha256."""
    if ctx.invoked_subcommand is not None:
        return
    from drift_audit.errors import ModelError
    from drift_audit.files import sha256_of
    from drift_audit.identity.embedders.dlib import dlib_model_files
    from drift_audit.identity.embedders.weights import (
        FACENET_FILE,
        find_facenet_weights,
        models_dir,
    )

    out = Console(highlight=False)
    try:
        _, resnet = dlib_model_files()
        out.print(f"dlib     installed  {resnet}  sha256 {sha256_of(resnet)}")
    except ModelError as exc:
        out.print(f"dlib     missing    {exc}")
    facenet = find_facenet_weights()
    if facenet is None:
        out.print(
            f"facenet  missing    (looked for {models_dir() / FACENET_FILE} and facenet-pytorch's "
            "cache; install with `drift-audit models import PATH`, or it downloads on first "
            "use of --embedder facenet)"
        )
    else:
        out.print(f"facenet  installed  {facenet}  sha256 {sha256_of(facenet)}")


@models_app.command("import")
def models_import(
    path: Annotated[Path, typer.Argument(help="A vggface2 InceptionResnetV1 weights file.")],
) -> None:
    """Check that PATH loads as facenet vggface2 weights and install it for later runs."""
    from drift_audit.errors import ModelError
    from drift_audit.files import sha256_of
    from drift_audit.identity.embedders.weights import import_facenet_weights

    try:
        target = import_facenet_weights(path)
    except ModelError as exc:
        raise _die(str(exc)) from None
    Console(highlight=False).print(f"installed {target}  sha256 {sha256_of(target)}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: `drift-audit models ...` or `drift-audit [OPTIONS] CLIPS...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--version" in args[: args.index("--") if "--" in args else len(args)]:
        print(f"drift-audit {__version__}")
        sys.exit(0)
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args[:1] == ["models"]:
            models_app(args[1:], prog_name="drift-audit models")
        else:
            audit_app(args, prog_name="drift-audit")
    except (_Signalled, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, _Signalled) else signal.SIGINT
        # No second signal may cut the exit short; the report is already safe (atomic).
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        _error_line("interrupted" if signum == signal.SIGINT else "terminated")
        sys.exit(128 + signum)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
