"""`drift-audit models`: list the embedders' weights, or install facenet's from a file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from drift_audit.cli_output import die

models_app = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
    help="List or install face embedder weights.",
)


@models_app.callback()
def models_list(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list as JSON, on stdout.")
    ] = False,
) -> None:
    """List embedders, where their weights are, and their sha256."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _embedders()
    if as_json:
        import json

        text = json.dumps({"embedders": rows}, indent=2, sort_keys=True) + "\n"
    else:
        text = "".join(_line(row) + "\n" for row in rows)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the list was cut, nothing failed
        devnull = os.open(os.devnull, os.O_WRONLY)  # Python's flush at exit goes here
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _embedders() -> list[dict[str, Any]]:
    """One row per embedder: name, installed, path, sha256, and for a missing one
    where it was looked for and how to install it."""
    from drift_audit.errors import ModelError
    from drift_audit.files import sha256_of
    from drift_audit.identity.embedders.dlib import dlib_model_files
    from drift_audit.identity.embedders.weights import (
        FACENET_FILE,
        find_facenet_weights,
        models_dir,
        torch_hub_facenet,
    )

    rows: list[dict[str, Any]] = []
    try:
        _, resnet = dlib_model_files()
        rows.append(_row("dlib", resnet, sha256_of(resnet)))
    except ModelError as exc:
        rows.append({**_row("dlib", None, None), "problem": str(exc)})
    facenet = find_facenet_weights()
    if facenet is None:
        rows.append(
            {
                **_row("facenet", None, None),
                "looked_in": [str(models_dir() / FACENET_FILE), str(torch_hub_facenet())],
                "install": "drift-audit models import PATH, or it downloads on first use "
                "of --embedder facenet",
            }
        )
    else:
        rows.append(_row("facenet", facenet, sha256_of(facenet)))
    return rows


def _row(name: str, path: Path | None, sha256: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "installed": path is not None,
        "path": str(path) if path else None,
        "sha256": sha256,
    }


def _line(row: dict[str, Any]) -> str:
    name = f"{row['name']:<8} "
    if row["installed"]:
        return f"{name}installed  {row['path']}  sha256 {row['sha256']}"
    if "problem" in row:
        return f"{name}missing    {row['problem']}"
    return (
        f"{name}missing    (looked for {row['looked_in'][0]} and facenet-pytorch's cache; "
        "install with `drift-audit models import PATH`, or it downloads on first use of "
        "--embedder facenet)"
    )


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
        raise die(str(exc)) from None
    Console(highlight=False).print(f"installed {target}  sha256 {sha256_of(target)}")
