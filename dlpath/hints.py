"""``dlpath hint`` and ``dlpath solution``: the help a learner asked for,
given one level at a time and recorded honestly.

Hints come in three levels per exercise (dlpath/data/groundwork.yaml): the
concept, an approach, the key step; never code. Each ``dlpath hint`` shows
the levels reached so far plus the next one. The reference solution (the
exercise file's solution regions) is shown once the exercise's milestone
has passed, or earlier after an explicit confirmation.

Both are recorded in the project's ``.dlpath/state.json`` under
``assistance``, and ``dlpath check`` shows them next to the milestone::

    "assistance": {"backprop": {"hint_level": 2,
                                "hints": [{"level": "concept", "at": "<iso time>"}, ...],
                                "solution": {"at": "<iso time>", "before_passing": true}}}
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlpath import results
from dlpath.errors import DlpathError, ExitCode, UsageError

if TYPE_CHECKING:  # imported where used: `dlpath check` reads no exercise
    from dlpath import groundwork

KEY = "assistance"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record(state: dict[str, Any], exercise_id: str) -> dict[str, Any]:
    """The assistance record of one exercise in a loaded state (empty when none)."""
    found = state.get(KEY, {}).get(exercise_id)
    return found if isinstance(found, dict) else {}


def summary(state: dict[str, Any], milestone: str) -> dict[str, Any] | None:
    """What ``dlpath check`` reports about the help used on ``milestone``:
    {"hints": level reached, "hint_levels": 3, "solution_viewed": "before passing" |
    "after passing"}, or None when none was used."""
    rec = record(state, milestone)
    level = rec.get("hint_level") if isinstance(rec.get("hint_level"), int) else 0
    viewed = rec.get("solution") if isinstance(rec.get("solution"), dict) else None
    if not level and viewed is None:
        return None
    from dlpath import groundwork

    out: dict[str, Any] = {"hints": level, "hint_levels": len(groundwork.LEVELS)}
    if viewed is not None:
        out["solution_viewed"] = "before passing" if viewed.get("before_passing") \
            else "after passing"
    return out


def describe(summary_: dict[str, Any] | None) -> str | None:
    """One line for a report: "hints 2 of 3 · solution viewed before passing"."""
    if not summary_:
        return None
    parts = []
    if summary_.get("hints"):
        parts.append(f"hints {summary_['hints']} of {summary_['hint_levels']}")
    if summary_.get("solution_viewed"):
        parts.append(f"solution viewed {summary_['solution_viewed']}")
    return " · ".join(parts) or None


def passed(state: dict[str, Any], exercise_id: str) -> bool:
    entry = state.get("milestones", {}).get(exercise_id)
    return bool(isinstance(entry, dict) and entry.get("first_passed"))


def current(root: Path, exercises: list[groundwork.Exercise] | None = None
            ) -> groundwork.Exercise | None:
    """The exercise the learner is on: the first not passing (as last
    checked) whose prerequisites pass, as ``dlpath next`` picks it."""
    from dlpath import groundwork

    exercises = exercises if exercises is not None else groundwork.load()
    milestones = results.load(root)["milestones"]
    solved = {e.id for e in exercises
              if ((milestones.get(e.id) or {}).get("last") or {}).get("status") == "pass"}
    ready = groundwork.in_order(exercises, solved)
    return ready[0] if ready else None


def _pick(root: Path, exercise_id: str | None, command: str) -> groundwork.Exercise:
    from dlpath import groundwork

    exercises = groundwork.load()
    if exercise_id is not None:
        return groundwork.get(exercise_id, exercises, command=command)
    found = current(root, exercises)
    if found is None:
        raise UsageError("Every exercise passes: there is no current one.",
                         hint=f"Name one: {command} EXERCISE (e.g. {command} backprop)")
    return found


# ------------------------------------------------------------- hints


@dataclass(frozen=True)
class Hints:
    exercise: groundwork.Exercise
    #: (level name, text) for every level revealed so far, the new one last
    shown: list[tuple[str, str]]
    #: whether this call revealed a level not seen before
    new: bool

    @property
    def level(self) -> int:
        return len(self.shown)

    @property
    def last(self) -> bool:
        from dlpath import groundwork

        return self.level == len(groundwork.LEVELS)


def reveal(root: Path, exercise_id: str | None = None) -> Hints:
    """Reveal the next hint level of an exercise (the current one when None)
    and record it; past the last level, show them all again."""
    from dlpath import groundwork

    exercise = _pick(root, exercise_id, "dlpath hint")
    outcome: dict[str, Any] = {}

    def change(state: dict[str, Any]) -> None:
        rec = state.setdefault(KEY, {}).setdefault(exercise.id, {})
        level = rec.get("hint_level") if isinstance(rec.get("hint_level"), int) else 0
        new = level < len(groundwork.LEVELS)
        if new:
            level += 1
            rec["hint_level"] = level
            rec.setdefault("hints", []).append(
                {"level": groundwork.LEVELS[level - 1], "at": _now()})
        outcome.update(level=level, new=new)

    try:
        results.update(root, change)
    except OSError as exc:
        raise DlpathError(f"Cannot record the hint in {results.state_path(root)}: "
                          f"{exc.strerror}.", hint="Check the folder's permissions.") from None
    shown = list(zip(groundwork.LEVELS, exercise.hints, strict=True))[:outcome["level"]]
    return Hints(exercise, shown, outcome["new"])


# ------------------------------------------------------------- solutions


class NeedsConfirmation(DlpathError):
    """The solution of an exercise whose milestone has not passed yet."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Solution:
    exercise: groundwork.Exercise
    #: (function, what it teaches, reference code dedented) per solution region
    parts: list[tuple[str, str, str]]
    #: the milestone had passed before this viewing
    passed: bool


def solution(root: Path, exercise_id: str, confirmed: bool = False) -> Solution:
    """The reference solution of an exercise, recorded as viewed. Before the
    exercise's milestone has passed it takes ``confirmed``; otherwise
    NeedsConfirmation says how to confirm."""
    from dlpath import groundwork

    exercise = groundwork.get(exercise_id, command="dlpath solution")
    done = passed(results.load(root), exercise.id)
    if not done and not confirmed:
        raise NeedsConfirmation(
            f"{exercise.id} has not passed yet: seeing the solution now turns the exercise "
            "into reading. Try 'dlpath hint " + exercise.id + "' first.",
            hint=f"To see it anyway (recorded as viewed before passing): "
                 f"dlpath solution {exercise.id} --yes")
    regions = groundwork.learner_file(exercise).regions()
    parts = [(r.function or exercise.file, r.todo, textwrap.dedent("".join(r.solution)))
             for r in regions]

    def change(state: dict[str, Any]) -> None:
        rec = state.setdefault(KEY, {}).setdefault(exercise.id, {})
        before = not done or bool((rec.get("solution") or {}).get("before_passing"))
        rec["solution"] = {"at": _now(), "before_passing": before}

    try:
        results.update(root, change)
    except OSError as exc:
        raise DlpathError(f"Cannot record the viewing in {results.state_path(root)}: "
                          f"{exc.strerror}.", hint="Check the folder's permissions.") from None
    return Solution(exercise, parts, done)
