"""SIGINT and SIGTERM, recorded by the handler and acted on at safe points.

The handler only records the signal. Raising from it would unwind whatever the main
thread was doing at that instant (a cache write, a lock held around the stderr
redirect, an import of a native module: an `ImportError` that became a clip error),
and would leave the decode threads running into interpreter shutdown, where CPython
kills them with a forced unwind that aborts the process. Instead the pipeline calls
`check()` at safe points (per detection batch, every few dozen decoded frames, at
clip boundaries, in the worker wait loop); it raises `Interrupted`, every `finally`
stops and joins its threads, and cli.py exits with 128 + the signal number.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []


class Interrupted(BaseException):  # a BaseException: no `except Exception` swallows it
    """A SIGINT or SIGTERM arrived; raised at the next safe point."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _record(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)


def received() -> int | None:
    """The first signal received since `watching()` began, or None."""
    return _received[0] if _received else None


def forget() -> None:
    """In a forked child: the signals the parent received are the parent's."""
    _received.clear()


def check() -> None:
    """A safe point: raise Interrupted when a signal has arrived."""
    if _received:
        raise Interrupted(_received[0])


def install() -> None:
    """Record SIGINT / SIGTERM from now until the process ends. The command line's
    entry point calls it first, before its imports take their few hundred
    milliseconds, so that a signal in that time is recorded too rather than raising
    KeyboardInterrupt in the middle of an import."""
    for sig in SIGNALS:
        signal.signal(sig, _record)


@contextmanager
def watching() -> Iterator[None]:
    """Record SIGINT / SIGTERM instead of acting on them, for the block's duration
    (main thread only; elsewhere, signals are left as they are). Under `install()`
    it changes nothing, and keeps a signal already recorded."""
    if threading.current_thread() is not threading.main_thread() or all(
        signal.getsignal(sig) is _record for sig in SIGNALS
    ):
        yield
        return
    _received.clear()
    previous = {sig: signal.signal(sig, _record) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def ignore_in_worker() -> None:
    """Worker processes leave SIGINT to their parent, which stops them: a Ctrl-C in the
    terminal reaches the whole process group, and a worker's own KeyboardInterrupt
    traceback would only clutter the terminal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
