"""What the command line says on stderr when it stops, and the exit codes it uses."""

from __future__ import annotations

import sys

import typer

EXIT_PASS = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3  # a bug in drift-audit: never the findings code


def error_line(message: str) -> None:
    """One unwrapped line on stderr, whatever the terminal width."""
    sys.stderr.write(f"drift-audit: error: {' '.join(message.split())}\n")
    sys.stderr.flush()


def die(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    error_line(message)
    return typer.Exit(code)


REPORT_KINDS = {
    "--json": "JSON report",
    "--html": "HTML report",
    "--contact-sheet": "contact sheet",
    "--junit": "JUnit XML",
    "--csv": "CSV of findings",
    "--otio": "OpenTimelineIO timeline",
}
"""Report option -> how the line naming a written report file calls it."""
