"""The command cache: a command check's result is reused while nothing it
depends on changed.

The key covers the check's definition, the name and content of every input
file (its ``inputs`` globs, or every file git tracks plus untracked,
non-ignored ones), and the environment the command runs in: the interpreter
(path and version), the installed packages (the listing of every
site-packages folder: ``pip install`` or ``uninstall`` changes it) and
``PATH``. So after ``pip install pytest`` a check runs again instead of
replaying "No module named pytest". An outcome caused by the environment
(:func:`environmental`) is never kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from functools import lru_cache
from pathlib import Path

from dlpath import project
from dlpath.checks.base import Context
from dlpath.fsutil import is_within
from dlpath.rubric import Check

#: bump to drop every cached command result (a change in what the key covers)
CACHE_FORMAT = 2


def input_files(ctx: Context, inputs: list[str] | None) -> list[Path]:
    """The files a command check's result depends on: its ``inputs`` globs, or
    every file git tracks plus untracked, non-ignored ones (without git: every
    file outside hidden folders). dlpath's own state file never counts."""
    memo_key = tuple(inputs or ())
    if memo_key in ctx.input_memo:
        return ctx.input_memo[memo_key]
    if inputs:
        files = {p for pattern in inputs for p in ctx.root.glob(pattern)
                 if p.is_file() and is_within(p, ctx.root)}
    elif ctx.has_git:
        files = {ctx.path(p) for p in ctx.gitstate.listed() if ctx.path(p).is_file()}
    else:
        files = {p for p in ctx.root.rglob("*") if p.is_file() and not any(
            part.startswith(".") or part == "__pycache__"
            for part in p.relative_to(ctx.root).parts[:-1])}
    state_dir = ctx.path(project.META_DIR)
    found = sorted(f for f in files
                   if not (f.parent == state_dir and f.name.startswith(project.STATE_FILE)))
    ctx.input_memo[memo_key] = found
    return found


def _file_digest(ctx: Context, path: Path) -> bytes:
    if path not in ctx.digest_memo:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        ctx.digest_memo[path] = digest.digest()
    return ctx.digest_memo[path]


@lru_cache(maxsize=1)
def _site_dirs() -> tuple[str, ...]:
    import site

    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        dirs.append(site.getusersitepackages())
    return tuple(d for d in dict.fromkeys(dirs) if os.path.isdir(d))


def environment_key() -> str:
    """The interpreter, the installed packages and PATH, as one string.

    A folder's modification time changes when an entry is added, removed or
    renamed in it: installing, upgrading or removing a distribution changes
    its ``*.dist-info`` folder in site-packages.
    """
    from dlpath import __version__

    parts = [CACHE_FORMAT, __version__, sys.executable, sys.version, os.environ.get("PATH", "")]
    for folder in _site_dirs():
        try:
            parts.append(f"{folder}:{os.stat(folder).st_mtime_ns}")
        except OSError:
            parts.append(f"{folder}:missing")
    return json.dumps(parts)


def cache_key(ctx: Context, check: Check, extra: str, files: list[Path]) -> str:
    """A hash of the check's definition, of the environment, and of the name
    and content of every input."""
    digest = hashlib.sha256(json.dumps([check.kind, check.args, extra, environment_key()],
                                       sort_keys=True, default=str).encode())
    for f in files:
        digest.update(f.relative_to(ctx.root).as_posix().encode() + b"\0")
        digest.update(_file_digest(ctx, f))
    return digest.hexdigest()
