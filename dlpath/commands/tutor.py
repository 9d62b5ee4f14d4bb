"""``dlpath next``, ``dlpath roadmap``, ``dlpath done`` and ``dlpath undo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlpath.commands import guard


@guard
def next_(
    path: Annotated[Path, typer.Argument(help="A project, or anywhere (default: here).")] = Path(
        "."),
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say the single most useful next step, and the command to run."""
    from dataclasses import asdict

    from dlpath import console, tutor

    suggestion, warnings = tutor.next_step(path)
    for warning in warnings:
        console.err.print(f"[yellow]Warning:[/] {warning}")
    if json_:
        console.print_json(asdict(suggestion))
    else:
        console.render_suggestion(suggestion)


@guard
def roadmap_(
    path: Annotated[Path, typer.Argument(help="A project, or anywhere.")] = Path("."),
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the whole roadmap with your progress."""
    from dlpath import console, tutor

    view = tutor.view(path)
    for warning in view.warnings:
        console.err.print(f"[yellow]Warning:[/] {warning}")
    if json_:
        console.print_json(view.to_json())
    else:
        console.render_roadmap(view)


@guard
def done(step: Annotated[str, typer.Argument(help="A self-reported step id.")]) -> None:
    """Mark a self-reported roadmap step as done."""
    from dlpath import console, tutor

    marked = tutor.mark(step, done=True)
    console.err.print(f"[green]✓[/] Done: {marked.title}. Next: dlpath next")


@guard
def undo(step: Annotated[str, typer.Argument(help="A self-reported step id.")]) -> None:
    """Mark a self-reported roadmap step as not done."""
    from dlpath import console, tutor

    marked = tutor.mark(step, done=False)
    console.err.print(f"Not done: {marked.title}.")
