"""One error type for everything dlpath reports to a learner.

The CLI catches :class:`DlpathError` in one place and turns it into a single
red line on stderr (plus an optional hint) and the error's exit code. Core
modules raise it and never print.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: a milestone is not met, or an operation failed midway
    FAILURE = 1
    #: bad usage or bad input (unknown template, malformed rubric, ...)
    USAGE = 2
    #: Ctrl-C: the shell convention 128 + SIGINT
    INTERRUPTED = 130


class DlpathError(Exception):
    """An error with a one-line message, an optional hint and an exit code."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None, exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class UsageError(DlpathError):
    """Bad input from the learner: exit code 2."""

    exit_code = ExitCode.USAGE
