"""``dlpath next``, ``roadmap``, ``done``, ``undo`` and ``reset``: each parses
its arguments, calls one core function (dlpath.tutor, dlpath.groundwork) and
renders the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dlpath.commands import guard


def _warn(warnings: list[str]) -> None:
    from rich.markup import escape

    from dlpath import console

    for warning in warnings:
        console.err.print(f"[yellow]Warning:[/] {escape(warning)}")


@guard
def next_(
    path: Annotated[Path, typer.Argument(help="A project, or anywhere (default: here).")] = Path(
        "."),
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say the single most useful next step, why, and the command to run."""
    from dataclasses import asdict

    from dlpath import console, tutor

    result = tutor.next_step(path)
    _warn(result.warnings)
    if json_:
        console.print_json(asdict(result.suggestion))
    else:
        console.render_suggestion(result.suggestion)


@guard
def roadmap_(
    path: Annotated[Path, typer.Argument(help="A project, or anywhere.")] = Path("."),
    json_: Annotated[bool, typer.Option("--json", help="Print JSON (docs/roadmap.md).")] = False,
) -> None:
    """Show the whole roadmap with your progress per phase."""
    from dlpath import console, tutor

    view = tutor.view(path)
    _warn(view.warnings)
    if json_:
        console.print_json(view.to_json())
    else:
        console.render_roadmap(view)


@guard
def done(step: Annotated[str, typer.Argument(help="A self-reported step id.")]) -> None:
    """Mark a self-reported roadmap step as done."""
    from rich.markup import escape

    from dlpath import console, tutor

    marked = tutor.mark(step, done=True)
    _warn(marked.warnings)
    state = "Done" if marked.changed else "Already done"
    console.err.print(f"[green]✓[/] {state}: {escape(marked.step.title)}. Next: dlpath next")


@guard
def undo(step: Annotated[str, typer.Argument(help="A self-reported step id.")]) -> None:
    """Mark a self-reported roadmap step as not done."""
    from rich.markup import escape

    from dlpath import console, tutor

    marked = tutor.mark(step, done=False)
    _warn(marked.warnings)
    state = "Not done any more" if marked.changed else "Was not marked done"
    console.err.print(f"{state}: {escape(marked.step.title)}.")


@guard
def reset(
    exercise: Annotated[str | None, typer.Argument(help="The exercise id (e.g. vectors).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Reset every exercise.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    path: Annotated[Path, typer.Option("--path", help="The groundwork project.")] = Path("."),
) -> None:
    """Restore groundwork exercises to their starting state (your version is kept as a backup)."""
    from rich.markup import escape

    from dlpath import console, groundwork
    from dlpath.errors import UsageError

    if all_ == (exercise is not None):
        raise UsageError("Name one exercise, or pass --all (not both).",
                         hint="For example: dlpath reset vectors")
    root = groundwork.groundwork_root(path)
    plan = groundwork.plan(root, None if all_ else [exercise])
    changed = [r for r in plan if r.changed]
    if not changed:
        console.err.print("Nothing to reset: already at the starting state.")
        return
    names = ", ".join(r.exercise.file for r in changed)
    if not yes:
        again = "dlpath reset --all --yes" if all_ else f"dlpath reset {exercise} --yes"
        if not sys.stdin.isatty():
            raise UsageError(f"Refusing to reset {names} without confirmation.",
                             hint=f"Run '{again}' to confirm (your version is kept as a backup).")
        if not typer.confirm(f"Reset {names} to the starting state? "
                             "(your version is kept as a backup)", default=False):
            console.err.print("Nothing was changed.")
            raise typer.Exit(1)
    for r in groundwork.apply(changed):
        kept = f" (your version: {r.backup.relative_to(root)})" if r.backup else ""
        console.err.print(f"[green]✓[/] Reset {escape(r.exercise.file)}{escape(kept)}")
