"""The `drift-audit` command's entry point: signals are recorded first, then the
command line is imported and run (see interrupts.install)."""

from __future__ import annotations

from typing import NoReturn


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
        code: object = 0
    except SystemExit as done:
        code = done.code
    finally:
        # The exit code is decided and every report is whole. While Python shuts down
        # it puts the default handlers back, and a SIGTERM then killed the process
        # (exit -15 in 1 of 20 soak runs, --jobs 2): the rest of the exit ignores them.
        for sig in interrupts.SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
    exit_now(code)


def exit_now(code: object) -> NoReturn:
    """Exit with `code` (as `sys.exit` takes it) without the interpreter's teardown,
    which nothing here needs once the command has returned: every report is written
    and closed, every thread and child process joined. With torch imported the teardown
    took about 1 s of one core at the end of every run (measured: 1.09 s from a
    script's last line to its process's end, 0.07 s with `os._exit`). After Ray was
    imported the exit is the usual one, so that Ray's own exit handlers run."""
    import contextlib
    import os
    import sys

    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    if "ray" in sys.modules:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to say
            stream.flush()
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    os._exit(code)
