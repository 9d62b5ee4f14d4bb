"""``dlpath watch``: re-run an exercise's checks each time its file is saved.

A real file watcher (watchfiles: native notifications, a burst of saves
batched into one event) watches the groundwork project. Saving
``exercises/<id>.py`` runs the checks of that exercise (``dlpath check -m
<id>``: visible and hidden tests, recorded like any check); what the
pipeline, DVC, git and dlpath itself write (``.dvc``, ``dvclive``, ``data``,
``models``, ``metrics``, ``plots``, ``.dlpath``...) never triggers a run.

Nothing here prints: :func:`run` hands each :class:`Event` to a callback
(the CLI renders it). It returns when ``stop`` is set, and a Ctrl-C
(KeyboardInterrupt) propagates to the caller, which leaves cleanly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dlpath import checker, groundwork, hints

#: folders whose changes never trigger a run (outputs, caches, environments)
IGNORED_DIRS = {".git", ".dvc", ".dlpath", "dvclive", "data", "models", "metrics", "plots",
                "__pycache__", ".pytest_cache", ".ruff_cache", ".venv", "venv",
                ".ipynb_checkpoints", ".mypy_cache", "node_modules"}
DEBOUNCE_MS = 400
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+?)(?: - (.*))?$", re.MULTILINE)


@dataclass(frozen=True)
class Event:
    #: started | running | result
    kind: str
    exercise: groundwork.Exercise | None
    #: files (relative) whose change started this run
    changed: tuple[str, ...] = ()
    report: checker.MilestoneReport | None = None
    #: the first failing test or check, and what to try (the check's hint)
    failure: str | None = None
    hint: str | None = None
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.status == "pass"


def first_failure(report: checker.MilestoneReport) -> tuple[str | None, str | None, list[str]]:
    """(what failed first, the hint to show, a few lines of detail) in a
    milestone's report: the first failing pytest test of a visible check,
    else the first failing check's message."""
    for c in report.checks:
        if c.status not in ("fail", "error"):
            continue
        if c.visible and c.output:
            found = _FAILED.search(c.output)
            if found:
                detail = [found.group(2)] if found.group(2) else [
                    line.strip() for line in c.output.splitlines() if line.startswith("E ")][:4]
                return found.group(1), c.hint, detail
        what = c.id if c.visible else f"{c.id} (hidden)"
        return f"{what}: {c.message}", c.hint, []
    return None, None, []


def _relevant(root: Path, path: str) -> str | None:
    """The project-relative path of a changed Python file worth a run, or None."""
    try:
        rel = Path(path).resolve().relative_to(root)
    except ValueError:
        return None
    if rel.suffix != ".py" or any(part in IGNORED_DIRS for part in rel.parts[:-1]):
        return None
    return rel.as_posix()


def targets(root: Path, changed: Iterable[str],
            exercises: list[groundwork.Exercise]) -> list[groundwork.Exercise]:
    """The exercises whose files are among the changed paths, in exercise order."""
    rels = {r for r in (_relevant(root, p) for p in changed) if r}
    return [e for e in exercises if e.file in rels]


def check(root: Path, exercise: groundwork.Exercise, changed: tuple[str, ...] = ()) -> Event:
    report = checker.evaluate(root, milestone=exercise.id)
    milestone = report.milestones[0]
    failure, hint, details = first_failure(milestone)
    return Event("result", exercise, changed, milestone, failure, hint, details)


def _filter(root: Path):
    from watchfiles import DefaultFilter

    class ExerciseFilter(DefaultFilter):
        def __init__(self) -> None:
            super().__init__(ignore_dirs=tuple(IGNORED_DIRS))

        def __call__(self, change, path: str) -> bool:
            return super().__call__(change, path) and _relevant(root, path) is not None

    return ExerciseFilter()


def run(root: Path, on_event: Callable[[Event], None], *, exercise: str | None = None,
        stop: threading.Event | None = None) -> None:
    """Watch ``root`` until ``stop`` is set (or Ctrl-C): check the current
    exercise once, then each exercise whose file is saved."""
    from watchfiles import watch

    root = root.resolve()
    exercises = groundwork.load()
    current = groundwork.get(exercise, exercises, command="dlpath watch -e") if exercise \
        else hints.current(root, exercises)
    on_event(Event("started", current))
    if current is not None:
        on_event(Event("running", current))
        on_event(check(root, current))
    for changes in watch(root, watch_filter=_filter(root), stop_event=stop,
                         debounce=DEBOUNCE_MS, raise_interrupt=True, yield_on_timeout=False):
        paths = [p for _, p in changes]
        for target in targets(root, paths, exercises):
            changed = (target.file,)
            on_event(Event("running", target, changed))
            on_event(check(root, target, changed))
