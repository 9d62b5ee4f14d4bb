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


def guard(fn: F | None = None, *, json_errors: bool = True) -> Any:
    """Run a command body, turning every failure into one line and an exit code.

    Tracebacks are shown only with ``dlpath --debug`` (or DLPATH_DEBUG=1). A
    command run with ``--json`` also gets, on stdout, one JSON object that
    says so (``status: "error"``, the message, hint and exit code), so a
    script that reads stdout never gets nothing. ``json_errors=False`` is for
    a command that writes its own documents for errors (``check``'s formats).
    """
    if fn is None:
        return functools.partial(guard, json_errors=json_errors)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from dlpath import console

        def fail(message: str, hint: str | None, code: int) -> typer.Exit:
            console.error(message, hint)
            if json_errors and kwargs.get("json_"):
                console.print_json({"status": "error", "message": message, "hint": hint,
                                    "exit_code": code})
            return typer.Exit(code)

        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except DlpathError as exc:
            if debug_enabled():
                console.err.print_exception()
            raise fail(exc.message, exc.hint, int(exc.exit_code)) from None
        except KeyboardInterrupt:
            raise fail("Interrupted; nothing was left half-made.", None,
                       int(ExitCode.INTERRUPTED)) from None
        except OSError as exc:  # the machine, not dlpath: one line with the cause
            if debug_enabled():
                console.err.print_exception()
            message, hint = os_error_line(exc)
            raise fail(message, hint, int(ExitCode.FAILURE)) from None
        except Exception as exc:  # a bug in dlpath: say so without a traceback
            if debug_enabled():
                console.err.print_exception()
            raise fail(f"Unexpected error: {type(exc).__name__}: {exc}",
                       "Run again with 'dlpath --debug ...' for the traceback, and report it.",
                       int(ExitCode.FAILURE)) from None

    return wrapper  # type: ignore[return-value]
