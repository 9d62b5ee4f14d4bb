"""Where dlpath finds its packaged data and where it keeps per-user state.

Every path dlpath uses comes from this module, so tests can redirect all of
them with one environment variable (``DLPATH_HOME``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

APP_NAME = "dlpath"


def package_dir() -> Path:
    return Path(str(resources.files("dlpath")))


def templates_dir() -> Path:
    """The directory holding the project templates.

    In a wheel they are shipped as ``dlpath/templates``; in a source checkout
    (or an editable install) they sit at the top of the repository.
    """
    shipped = package_dir() / "templates"
    if shipped.is_dir():
        return shipped
    return package_dir().parent / "templates"


def docs_dir() -> Path:
    """dlpath's documentation: shipped as ``dlpath/docs`` in a wheel, at the
    top of the repository in a source checkout (as :func:`templates_dir`)."""
    shipped = package_dir() / "docs"
    if shipped.is_dir():
        return shipped
    return package_dir().parent / "docs"


def doc(name: str) -> str:
    """Where a learner finds the document ``name`` (e.g. ``rubric-format.md``)
    on this machine: the full path of the installed copy, so that a hint
    naming it works wherever dlpath was installed from."""
    return str(docs_dir() / name)


def data_dir() -> Path:
    """Packaged data: the roadmap, the groundwork exercise metadata, schemas."""
    return package_dir() / "data"


def user_dir() -> Path:
    """Per-user state: progress, the default DVC remotes.

    ``DLPATH_HOME`` overrides the platform default (tests use it; so can a
    learner who keeps everything on another disk).
    """
    override = os.environ.get("DLPATH_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def usable_user_dir(path: Path | None = None) -> Path:
    """dlpath's per-user folder (or ``path`` inside it), created if need be;
    a DlpathError with the one-line cause where it cannot be used (a file in
    its place, no permission, a read-only or full disk)."""
    import errno

    from dlpath.errors import DlpathError

    folder = path or user_dir()
    where = ("DLPATH_HOME" if os.environ.get("DLPATH_HOME") else "dlpath's per-user folder")
    hint = ("Point DLPATH_HOME at a folder you can write, e.g. export "
            "DLPATH_HOME=~/.dlpath" if os.environ.get("DLPATH_HOME")
            else "Make your home folder writable, or set DLPATH_HOME to a folder you can write.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents)
                        if p.exists() and not p.is_dir()), folder)
        raise DlpathError(f"{where} ({blocker}) is a file, not a folder.", hint=hint) from None
    except OSError as exc:
        cause = ("the disk is full" if exc.errno == errno.ENOSPC
                 else exc.strerror or type(exc).__name__)
        raise DlpathError(f"{where} ({folder}) cannot be created: {cause}.", hint=hint) from None
    if not folder.is_dir():
        raise DlpathError(f"{where} ({folder}) is not a folder.", hint=hint)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DlpathError(f"{where} ({folder}) is not writable.", hint=hint)
    return folder


def remotes_dir() -> Path:
    """Parent of the local DVC remotes that new projects use by default."""
    return user_dir() / "remotes"


def progress_file() -> Path:
    return user_dir() / "progress.json"
