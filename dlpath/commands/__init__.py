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


def os_error_line(exc: OSError) -> tuple[str, str | None]:
    """A one-line cause and hint for an error of the operating system."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    hints = {
        errno.ENOSPC: ("The disk is full", "Free some space, then run the command again."),
        errno.EDQUOT: ("Your disk quota is used up", "Free some space, then run it again."),
        errno.EACCES: ("No permission", "Check the permissions of that path (ls -l)."),
        errno.EPERM: ("Not permitted", "Check the permissions of that path (ls -l)."),
        errno.EROFS: ("The file system is read-only", "Work in a writable folder."),
        errno.ENOTDIR: ("A file stands where a folder is needed", "Move that file away."),
        errno.EISDIR: ("A folder stands where a file is needed", "Move that folder away."),
    }
    cause, hint = hints.get(exc.errno, (exc.strerror or type(exc).__name__, None))
    return f"{cause}{where}.", hint


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
        except OSError as exc:  # the machine, not dlpath: one line with the cause
            if debug_enabled():
                console.err.print_exception()
            message, hint = os_error_line(exc)
            console.error(message, hint)
            raise typer.Exit(int(ExitCode.FAILURE)) from None
        except Exception as exc:  # a bug in dlpath: say so without a traceback
            if debug_enabled():
                console.err.print_exception()
            console.error(
                f"Unexpected error: {type(exc).__name__}: {exc}",
                hint="Run again with 'dlpath --debug ...' for the traceback, and report it.",
            )
            raise typer.Exit(int(ExitCode.FAILURE)) from None

    return wrapper  # type: ignore[return-value]
