"""``dlpath reset``: put groundwork exercise files back to their starting
state, keeping the learner's version as a backup, and ``reset --undo``:
bring the last backup back.

Backups live in ``.dlpath/backups/<exercise>/<time>.py``, a folder that
ignores itself in git (its own ``.gitignore``), so a reset never dirties the
working tree. Nothing here deletes a learner's text: every overwrite is
preceded by a backup of what was there.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dlpath import groundwork
from dlpath.errors import UsageError
from dlpath.fsutil import atomic_write_text
from dlpath.project import META_DIR

BACKUPS = "backups"


@dataclass(frozen=True)
class Reset:
    exercise: groundwork.Exercise
    path: Path
    #: False when the file is already at its starting state (nothing to do)
    changed: bool
    backup: Path | None = None
    #: other exercises whose files import this one (they break until it is solved again)
    importers: tuple[groundwork.Exercise, ...] = field(default_factory=tuple)


def backup_dir(root: Path, exercise: groundwork.Exercise) -> Path:
    return root / META_DIR / BACKUPS / exercise.id


def backups(root: Path, exercise: groundwork.Exercise) -> list[Path]:
    """The exercise's backups, oldest first."""
    folder = backup_dir(root, exercise)
    return sorted(folder.glob("*.py")) if folder.is_dir() else []


def _new_backup(root: Path, exercise: groundwork.Exercise, text: bytes) -> Path:
    base = root / META_DIR / BACKUPS
    base.mkdir(parents=True, exist_ok=True)
    ignore = base / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# dlpath reset's backups: local to this checkout.\n*\n",
                          encoding="utf-8")
    folder = backup_dir(root, exercise)
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    n = 1
    while (candidate := folder / f"{stamp}-{n:03d}.py").exists() or candidate.is_symlink():
        n += 1  # never overwrite a backup, nor follow a link planted at its name
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(text)
    return candidate


def plan(root: Path, ids: list[str] | None) -> list[Reset]:
    """What resetting ``ids`` (None: every exercise) would change, without changing it."""
    exercises = groundwork.load()
    chosen = exercises if ids is None else [groundwork.get(i, exercises) for i in ids]
    out = []
    for e in chosen:
        path = root / e.file
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        users = () if ids is None else tuple(
            u for u in groundwork.importers(root, e, exercises) if u.id not in ids)
        out.append(Reset(e, path, changed=current != groundwork.starting_text(e),
                         importers=users))
    return out


def apply(resets: list[Reset], root: Path) -> list[Reset]:
    """Restore each changed file, keeping the learner's version as a backup first."""
    done = []
    for r in resets:
        if not r.changed:
            done.append(r)
            continue
        backup = None
        if r.path.exists():
            backup = _new_backup(root, r.exercise, r.path.read_bytes())
            shutil.copymode(r.path, backup)
        atomic_write_text(r.path, groundwork.starting_text(r.exercise))
        done.append(Reset(r.exercise, r.path, True, backup, r.importers))
    return done


@dataclass(frozen=True)
class Undone:
    exercise: groundwork.Exercise
    path: Path
    #: the backup that was brought back (removed from the backups)
    restored: Path
    #: where the file's text before the undo went, when it held anything but the start
    kept: Path | None
    #: backups left for this exercise
    left: int


def undo(root: Path, exercise_id: str) -> Undone:
    """Bring back the exercise's last backup, which leaves the list. The
    current text, unless it is just the starting stub, becomes a backup
    itself first: undo never loses work."""
    exercise = groundwork.get(exercise_id, command="dlpath reset --undo")
    found = backups(root, exercise)
    if not found:
        raise UsageError(f"No backup of {exercise.file} to bring back.",
                         hint=f"dlpath reset {exercise.id} keeps one each time it resets the "
                         "file.")
    last = found[-1]
    path = root / exercise.file
    kept = None
    if path.is_file() and path.read_text(encoding="utf-8") != groundwork.starting_text(exercise):
        kept = _new_backup(root, exercise, path.read_bytes())
    atomic_write_text(path, last.read_text(encoding="utf-8"))
    last.unlink()
    return Undone(exercise, path, last, kept, len(backups(root, exercise)))
