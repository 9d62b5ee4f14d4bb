"""The groundwork exercises: their metadata (dlpath/data/groundwork.yaml,
validated on load) and ``dlpath reset``, which puts an exercise file back to
its starting state while keeping the learner's version as a backup.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from dlpath import project, resources, templates
from dlpath.errors import DlpathError, ExitCode, UsageError
from dlpath.fsutil import atomic_write_text

FORMAT_VERSION = 1
TEMPLATE = "groundwork"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Exercise:
    id: str
    file: str
    concept: str
    prerequisites: tuple[str, ...]
    difficulty: int
    hint: str


def _err(path: Path, where: str, problem: str) -> DlpathError:
    return DlpathError(f"{path}: {where}: {problem}", exit_code=ExitCode.USAGE)


def parse(data: object, path: Path) -> list[Exercise]:
    """Validate the exercise metadata; every error names the file and the field."""
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise _err(path, "format_version", f"must be {FORMAT_VERSION}")
    raw_list = data.get("exercises")
    if not isinstance(raw_list, list) or not raw_list:
        raise _err(path, "exercises", "must be a non-empty list")
    found: list[Exercise] = []
    for i, raw in enumerate(raw_list):
        where = f"exercises[{i}]"
        if not isinstance(raw, dict):
            raise _err(path, where, "must be a mapping")
        eid = raw.get("id")
        if not isinstance(eid, str) or not _ID.match(eid):
            raise _err(path, f"{where}.id", "must match [a-z0-9-]+")
        where = f"exercises[{eid}]"
        if any(e.id == eid for e in found):
            raise _err(path, f"{where}.id", "is used twice")
        for name in ("file", "concept", "hint"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise _err(path, f"{where}.{name}", "is required (a string)")
        file = PurePosixPath(raw["file"])
        if file.is_absolute() or ".." in file.parts or file.suffix != ".py":
            raise _err(path, f"{where}.file", "must be a .py file inside the project")
        difficulty = raw.get("difficulty")
        if isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
            raise _err(path, f"{where}.difficulty", "must be 1, 2 or 3")
        prereqs = raw.get("prerequisites", [])
        if not isinstance(prereqs, list) or not all(isinstance(p, str) for p in prereqs):
            raise _err(path, f"{where}.prerequisites", "must be a list of exercise ids")
        unknown = [p for p in prereqs if p not in {e.id for e in found}]
        if unknown:
            # Prerequisites must come earlier in the file: this also rules out cycles.
            raise _err(path, f"{where}.prerequisites",
                       f"'{unknown[0]}' is not an exercise listed before '{eid}'")
        found.append(Exercise(id=eid, file=file.as_posix(), concept=raw["concept"].strip(),
                              prerequisites=tuple(prereqs), difficulty=difficulty,
                              hint=" ".join(raw["hint"].split())))
    return found


def metadata_path() -> Path:
    return resources.data_dir() / "groundwork.yaml"


def load(path: Path | None = None) -> list[Exercise]:
    path = path or metadata_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _err(path, "file", f"cannot read the exercise list: {exc}") from None
    return parse(data, path)


def get(exercise_id: str, exercises: list[Exercise] | None = None) -> Exercise:
    exercises = exercises if exercises is not None else load()
    for e in exercises:
        if e.id == exercise_id:
            return e
    ids = [e.id for e in exercises]
    close = difflib.get_close_matches(exercise_id, ids, n=1)
    raise UsageError(
        f"Unknown exercise '{exercise_id}'. Exercises: {', '.join(ids)}.",
        hint=f"Did you mean 'dlpath reset {close[0]}'?" if close else None,
    )


def starting_text(exercise: Exercise) -> str:
    """The exercise file as `dlpath new` wrote it. Exercise files hold no Jinja
    (a test makes sure), so the template's file is the rendered file."""
    source = templates.get(TEMPLATE).path / templates.PROJECT_DIR / exercise.file
    try:
        return source.read_text(encoding="utf-8")
    except OSError as exc:
        raise DlpathError(f"dlpath's copy of {exercise.file} is missing ({exc.strerror}).",
                          hint="Reinstall dlpath: pip install --force-reinstall dlpath") from None


def groundwork_root(where: Path) -> Path:
    """The groundwork project at or above ``where``, or a UsageError saying how to get one."""
    root = project.find_root(where)
    meta = project.load_meta(root) if root else None
    if meta is None or meta.template != TEMPLATE:
        raise UsageError(
            f"'{where.resolve()}' is not inside a groundwork project.",
            hint="Create one with 'dlpath new groundwork my-groundwork', then cd into it "
            "(or pass --path).",
        )
    return root


@dataclass(frozen=True)
class Reset:
    exercise: Exercise
    path: Path
    #: False when the file is already at its starting state (nothing to do)
    changed: bool
    backup: Path | None = None


def plan(root: Path, ids: list[str] | None) -> list[Reset]:
    """What resetting ``ids`` (None: every exercise) would change, without changing it."""
    exercises = load()
    chosen = exercises if ids is None else [get(i, exercises) for i in ids]
    out = []
    for e in chosen:
        path = root / e.file
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        out.append(Reset(e, path, changed=current != starting_text(e)))
    return out


def _backup_path(path: Path) -> Path:
    """``vectors.py.bak``, then ``.bak-2``, ``.bak-3``...: never an existing file."""
    candidate, n = path.with_name(path.name + ".bak"), 1
    while candidate.exists() or candidate.is_symlink():  # a dangling link too: never follow it
        n += 1
        candidate = path.with_name(f"{path.name}.bak-{n}")
    return candidate


def apply(resets: list[Reset]) -> list[Reset]:
    """Restore each changed file, moving the learner's version to a backup first."""
    done = []
    for r in resets:
        if not r.changed:
            done.append(r)
            continue
        backup = None
        if r.path.exists():
            backup = _backup_path(r.path)
            # O_EXCL: never write through a link planted at the backup's name
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as fh:
                fh.write(r.path.read_bytes())
            shutil.copymode(r.path, backup)
        atomic_write_text(r.path, starting_text(r.exercise))
        done.append(Reset(r.exercise, r.path, True, backup))
    return done


def in_order(exercises: list[Exercise], solved: set[str]) -> list[Exercise]:
    """Unsolved exercises whose prerequisites are all solved, in file order."""
    return [e for e in exercises
            if e.id not in solved and all(p in solved for p in e.prerequisites)]
