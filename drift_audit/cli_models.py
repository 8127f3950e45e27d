"""`drift-audit models`: list the embedders' weights, or install facenet's from a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from drift_audit.cli_output import die

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
        raise die(str(exc)) from None
    Console(highlight=False).print(f"installed {target}  sha256 {sha256_of(target)}")
