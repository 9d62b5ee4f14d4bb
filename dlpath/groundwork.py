"""The groundwork exercises: their metadata (dlpath/data/groundwork.yaml,
validated on load), the starting and reference text of each exercise file
(from its solution regions, dlpath.solutions), and which exercises import
which.

``dlpath reset`` (dlpath.reset), ``hint`` and ``solution`` (dlpath.hints),
``watch`` (dlpath.watch) and ``next`` (dlpath.tutor) build on it.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from dlpath import project, resources, solutions
from dlpath.errors import DlpathError, ExitCode, UsageError

FORMAT_VERSION = 2
TEMPLATE = "groundwork"
#: the hint levels, in the order ``dlpath hint`` reveals them
LEVELS = ("concept", "approach", "key_step")
LEVEL_TITLES = {"concept": "the concept", "approach": "an approach", "key_step": "the key step"}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Exercise:
    id: str
    file: str
    concept: str
    prerequisites: tuple[str, ...]
    difficulty: int
    #: one text per level of LEVELS
    hints: tuple[str, ...]

    @property
    def module(self) -> str:
        """The exercise's module as the project imports it (``exercises.softmax``)."""
        return PurePosixPath(self.file).with_suffix("").as_posix().replace("/", ".")

    @property
    def test(self) -> str:
        return f"tests/test_{self.id}.py"


def _err(path: Path, where: str, problem: str) -> DlpathError:
    return DlpathError(f"{path}: {where}: {problem}", exit_code=ExitCode.USAGE)


def _text(value: object) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


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
        for name in ("file", "concept"):
            if _text(raw.get(name)) is None:
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
        hints = raw.get("hints")
        if not isinstance(hints, dict):
            raise _err(path, f"{where}.hints", f"must map {', '.join(LEVELS)} to texts")
        extra = sorted(set(hints) - set(LEVELS))
        if extra:
            raise _err(path, f"{where}.hints.{extra[0]}", f"is not a level ({', '.join(LEVELS)})")
        for level in LEVELS:
            if _text(hints.get(level)) is None:
                raise _err(path, f"{where}.hints.{level}", "is required (a string)")
        found.append(Exercise(id=eid, file=file.as_posix(), concept=raw["concept"].strip(),
                              prerequisites=tuple(prereqs), difficulty=difficulty,
                              hints=tuple(_text(hints[level]) for level in LEVELS)))
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


def get(exercise_id: str, exercises: list[Exercise] | None = None,
        command: str = "dlpath reset") -> Exercise:
    """The exercise ``exercise_id``; a UsageError lists them and suggests the
    closest id, as ``command ID``."""
    exercises = exercises if exercises is not None else load()
    for e in exercises:
        if e.id == exercise_id:
            return e
    ids = [e.id for e in exercises]
    close = difflib.get_close_matches(exercise_id, ids, n=1)
    raise UsageError(
        f"Unknown exercise '{exercise_id}'. Exercises: {', '.join(ids)}.",
        hint=f"Did you mean '{command} {close[0]}'?" if close else None,
    )


def for_file(rel: str, exercises: list[Exercise] | None = None) -> Exercise | None:
    """The exercise whose file is ``rel`` (relative, POSIX), if any."""
    for e in exercises if exercises is not None else load():
        if e.file == rel:
            return e
    return None


# ------------------------------------------------------------- files


def learner_file(exercise: Exercise) -> solutions.LearnerFile:
    """The packaged exercise file with its solution regions. Exercise files
    hold no Jinja and live outside the package folder, so the same file is
    every project's start and reference."""
    from dlpath import templates

    source = templates.get(TEMPLATE).path / templates.PROJECT_DIR / exercise.file
    if not source.is_file():
        raise DlpathError(f"dlpath's copy of {exercise.file} is missing.",
                          hint="Reinstall dlpath: pip install --force-reinstall dlpath")
    return solutions.LearnerFile(source=source, rel=exercise.file)


def starting_text(exercise: Exercise) -> str:
    """The exercise file as ``dlpath new`` wrote it (the stubs)."""
    return learner_file(exercise).released()


def reference_text(exercise: Exercise) -> str:
    """The reference solution of the exercise file."""
    return learner_file(exercise).reference()


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


def imported_modules(text: str) -> set[str]:
    """The modules a Python text imports (``from exercises import softmax``
    counts as exercises.softmax); an unparsable text imports nothing known."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def importers(root: Path, exercise: Exercise,
              exercises: list[Exercise] | None = None) -> list[Exercise]:
    """The other exercises whose files, as they are now in the project at
    ``root``, import ``exercise``'s module, directly or through another
    exercise (network imports backprop, which imports softmax)."""
    exercises = exercises if exercises is not None else load()
    imports: dict[str, set[str]] = {}
    for other in exercises:
        path = root / other.file
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        imports[other.id] = imported_modules(text)
    found: dict[str, Exercise] = {}
    todo = [exercise]
    while todo:
        current = todo.pop()
        for other in exercises:
            if other.id not in found and other.id != exercise.id \
                    and current.module in imports[other.id]:
                found[other.id] = other
                todo.append(other)
    return [e for e in exercises if e.id in found]


def in_order(exercises: list[Exercise], solved: set[str]) -> list[Exercise]:
    """Unsolved exercises whose prerequisites are all solved, in file order."""
    return [e for e in exercises
            if e.id not in solved and all(p in solved for p in e.prerequisites)]
