"""Errors raised by the library. Only cli.py prints them and picks exit codes."""

from __future__ import annotations


class DriftAuditError(Exception):
    """Base class: its message is one line that says what went wrong and what to do."""


class ConfigError(DriftAuditError):
    """An option is out of range or options contradict each other (exit code 2)."""


class InputError(DriftAuditError):
    """A clip or image cannot be read. Carries the path it is about."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        return InputError, (self.path, self.reason)  # pickles (a child process's scan)


class ModelError(DriftAuditError):
    """A model or its weights cannot be loaded."""


class OutputError(DriftAuditError):
    """A report cannot be written where it was asked for."""
