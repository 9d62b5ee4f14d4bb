"""``dlpath next``, ``roadmap``, ``done`` and ``undo``: each parses its
arguments, calls one core function (dlpath.tutor) and renders the result.
The groundwork exercise commands (hint, solution, watch, reset) are in
dlpath.commands.exercise."""

from __future__ import annotations

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
