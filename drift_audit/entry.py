"""The `drift-audit` command's entry point: signals are recorded first, then the
command line is imported and run (see interrupts.install)."""

from __future__ import annotations


def main() -> None:
    from drift_audit import interrupts

    interrupts.install()
    from drift_audit.cli import main as run

    run()
