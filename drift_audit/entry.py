"""The `drift-audit` command's entry point: signals are recorded first, then the
command line is imported and run (see interrupts.install)."""

from __future__ import annotations


def main() -> None:
    import signal

    from drift_audit import interrupts

    interrupts.install()
    try:
        try:
            from drift_audit.cli import main as run
        except Exception as exc:  # a broken install: still one line and exit 3, never 1
            import sys

            from drift_audit import crash

            sys.exit(crash.report(exc))
        run()
    finally:
        # The exit code is decided and every report is whole. While Python shuts down
        # it puts the default handlers back, and a SIGTERM then killed the process
        # (exit -15 in 1 of 20 soak runs, --jobs 2): the rest of the exit ignores them.
        for sig in interrupts.SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
