"""The command functions: each parses its options, calls one core function and
renders the result. Errors are turned into messages in one place:
:func:`guard`."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from dlpath.errors import DlpathError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def debug_enabled() -> bool:
    return os.environ.get("DLPATH_DEBUG", "") not in ("", "0")


def guard(fn: F) -> F:
    """Run a command body, turning every failure into one line and an exit code.

    Tracebacks are shown only with ``dlpath --debug`` (or DLPATH_DEBUG=1).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from dlpath import console

        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except DlpathError as exc:
            if debug_enabled():
                console.err.print_exception()
            console.error(exc.message, exc.hint)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            console.error("Interrupted; nothing was left half-made.")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:  # a bug in dlpath: say so without a traceback
            if debug_enabled():
                console.err.print_exception()
            console.error(
                f"Unexpected error: {type(exc).__name__}: {exc}",
                hint="Run again with 'dlpath --debug ...' for the traceback, and report it.",
            )
            raise typer.Exit(int(ExitCode.FAILURE)) from None

    return wrapper  # type: ignore[return-value]
