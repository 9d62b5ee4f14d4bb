"""What ``challenge``, ``credential`` and ``leaderboard submit`` record in the
learner's progress (dlpath.progress): the challenge runs, and the roadmap
steps these commands complete (``completion: {command: ...}`` in
roadmap.yaml). Updates are read-modify-write under the progress lock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dlpath import progress as progress_mod

#: the roadmap step each command completes
STEPS = {"challenge": "fresh-data-retests", "credential": "micro-credentials",
         "leaderboard": "leaderboards"}


@contextmanager
def _progress() -> Iterator[progress_mod.Progress]:
    transaction: Callable[..., Any] | None = getattr(progress_mod, "transaction", None)
    if transaction is not None:  # locked read-modify-write
        with transaction() as prog:
            yield prog
        return
    prog = progress_mod.load()
    yield prog
    progress_mod.save(prog)


def _complete(prog: progress_mod.Progress, command: str, when: str) -> None:
    step = STEPS[command]
    if not prog.is_done(step) or prog.steps[step].get("by") == "learner":
        prog.steps[step] = {"done_at": when, "by": command}


def complete_step(command: str, when: str | None = None) -> list[str]:
    """Mark the roadmap step ``command`` completes as done; the warnings met."""
    with _progress() as prog:
        _complete(prog, command, when or progress_mod.now())
        return list(prog.warnings)


def record_challenge(result) -> list[str]:
    """Keep a challenge run (dlpath.challenge.Result) in the progress file:
    its last run, a short history, and when it last passed."""
    with _progress() as prog:
        entry = prog.challenges.get(result.template)
        if not isinstance(entry, dict):
            entry = {"passed_at": None, "history": []}
        run = result.record()
        history = [h for h in entry.get("history", []) if isinstance(h, dict)]
        from dlpath.challenge import HISTORY

        entry["history"] = (history + [run])[-HISTORY:]
        entry["last"] = run
        entry["due_months"] = result.due_months
        if result.passed:
            entry["passed_at"] = result.at
            entry["passed_commit"] = result.commit
            _complete(prog, "challenge", result.at)
        prog.challenges[result.template] = entry
        return list(prog.warnings)
