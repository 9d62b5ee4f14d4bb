"""The groundwork exercise commands: ``dlpath hint``, ``solution``, ``watch``
and ``reset``. Each parses its arguments, calls one core function
(dlpath.hints, dlpath.watch, dlpath.reset) and renders the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dlpath.commands import guard

PathOption = Annotated[Path, typer.Option("--path", help="The groundwork project.")]


def _ask(question: str) -> bool:
    """A yes/no question on the terminal (never when stdin is not one)."""
    return sys.stdin.isatty() and typer.confirm(question, default=False, err=True)


@guard
def hint(
    exercise: Annotated[str | None, typer.Argument(
        help="The exercise (default: the one you are on).")] = None,
    path: PathOption = Path("."),
) -> None:
    """Show the next hint level of an exercise: concept, approach, key step (never code)."""
    from rich.markup import escape

    from dlpath import console, groundwork, hints

    root = groundwork.groundwork_root(path)
    found = hints.reveal(root, exercise)
    e = found.exercise
    console.err.print(f"[bold]{escape(e.id)}[/] ({escape(e.file)}): hint "
                      f"{found.level} of {len(groundwork.LEVELS)}"
                      + ("" if found.new else " [dim](all levels shown)[/]"))
    for i, (level, text) in enumerate(found.shown, 1):
        style = "bold" if i == found.level and found.new else "dim"
        console.out.print(f"[{style}]{i}. {groundwork.LEVEL_TITLES[level].capitalize()}:[/] "
                          f"{escape(text)}")
    if not found.last:
        console.err.print(f"[dim]Still stuck? Run 'dlpath hint {e.id}' again for the next "
                          "level. Hints you use are shown in dlpath check.[/]")
    else:
        console.err.print(f"[dim]That was the last level. Then: python -m pytest -q {e.test}; "
                          f"the reference: dlpath solution {e.id} (once it passes).[/]")


@guard
def solution(
    exercise: Annotated[str, typer.Argument(help="The exercise (e.g. softmax).")],
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Show it even before the exercise passes (recorded).")] = False,
    path: PathOption = Path("."),
) -> None:
    """Show an exercise's reference solution: once it passes, or after confirming."""
    from rich.markup import escape
    from rich.syntax import Syntax

    from dlpath import console, groundwork, hints

    root = groundwork.groundwork_root(path)
    try:
        found = hints.solution(root, exercise, confirmed=yes)
    except hints.NeedsConfirmation as exc:
        if not _ask(f"{exc.message} Show the solution anyway (recorded as viewed before "
                    "passing)?"):
            if sys.stdin.isatty():
                console.err.print("Nothing was shown.")
                raise typer.Exit(1) from None
            raise
        found = hints.solution(root, exercise, confirmed=True)
    e = found.exercise
    when = "after it passed" if found.passed else "before it passed (recorded)"
    console.err.print(f"[bold]Reference solution of {escape(e.file)}[/], viewed {when}:")
    for function, todo, code in found.parts:
        console.out.print(f"\n[bold cyan]{escape(function)}[/] [dim]({escape(todo)})[/]")
        console.out.print(Syntax(code.rstrip("\n"), "python", theme="ansi_dark",
                                 background_color="default"))
    console.err.print("\n[dim]Compare it with yours: what would you keep, what would you "
                      "change?[/]")


def _render_watch_event(event) -> None:
    from rich.markup import escape

    from dlpath import console

    e = event.exercise
    if event.kind == "started":
        where = f"exercise {escape(e.id)} ({escape(e.file)})" if e else "every exercise passes"
        console.err.print(f"[bold]Watching[/] the exercises ({where}). Save a file to check it; "
                          "Ctrl-C to stop.")
        return
    if event.kind == "running":
        why = f" ({escape(', '.join(event.changed))} changed)" if event.changed else ""
        console.err.print(f"\n[dim]Checking {escape(e.id)}{why}…[/]")
        return
    m = event.report
    if event.passed:
        console.out.print(f"[green]✓ {escape(e.id)} passes[/] ({m.score}/{m.max_score} points, "
                          "hidden checks included). Next: dlpath next")
        return
    console.out.print(f"[red]✗ {escape(e.id)}[/] {m.score}/{m.max_score} points. "
                      f"First failure: [bold]{escape(event.failure or '?')}[/]")
    for line in event.details:
        console.out.print(f"  [dim]{escape(line)}[/]")
    if event.hint:
        console.out.print(f"[yellow]→ {escape(event.hint)}[/]")
    console.out.print(f"[dim]Stuck? dlpath hint {escape(e.id)}[/]")


@guard
def watch(
    path: PathOption = Path("."),
    exercise: Annotated[str | None, typer.Option(
        "--exercise", "-e", help="Start with this exercise (default: the one you are on).")
    ] = None,
) -> None:
    """Re-run an exercise's checks each time you save its file; Ctrl-C to stop."""
    from dlpath import console, groundwork
    from dlpath import watch as watch_mod

    root = groundwork.groundwork_root(path)
    try:
        watch_mod.run(root, _render_watch_event, exercise=exercise)
    except KeyboardInterrupt:
        pass
    console.err.print("Stopped watching.")


@guard
def reset(
    exercise: Annotated[str | None, typer.Argument(help="The exercise id (e.g. vectors).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Reset every exercise.")] = False,
    undo: Annotated[bool, typer.Option(
        "--undo", help="Bring back the last backup of EXERCISE instead.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    path: PathOption = Path("."),
) -> None:
    """Restore groundwork exercises to their starting state (your version is kept as a backup)."""
    from rich.markup import escape

    from dlpath import console, groundwork
    from dlpath import reset as reset_mod
    from dlpath.errors import UsageError

    if all_ == (exercise is not None):
        raise UsageError("Name one exercise, or pass --all (not both).",
                         hint="For example: dlpath reset vectors")
    root = groundwork.groundwork_root(path)
    if undo:
        if all_:
            raise UsageError("--undo brings back one exercise at a time.",
                             hint="For example: dlpath reset --undo vectors")
        done = reset_mod.undo(root, exercise)
        console.err.print(f"[green]✓[/] Brought back {escape(done.exercise.file)} "
                          f"from {escape(done.restored.name)}")
        if done.kept is not None:
            kept = done.kept.relative_to(root).as_posix()
            console.err.print(f"  (the version it replaced is kept: {escape(kept)})")
        return
    plan = reset_mod.plan(root, None if all_ else [exercise])
    changed = [r for r in plan if r.changed]
    if not changed:
        console.err.print("Nothing to reset: already at the starting state.")
        return
    names = ", ".join(r.exercise.file for r in changed)
    for r in changed:
        if r.importers:
            users = ", ".join(u.file for u in r.importers)
            verb = "imports" if len(r.importers) == 1 else "import"
            console.err.print(f"[yellow]Warning:[/] {escape(users)} {verb} "
                              f"{escape(r.exercise.file)} (directly or not): their tests fail "
                              f"until you solve {escape(r.exercise.id)} again (or 'dlpath reset "
                              f"--undo {escape(r.exercise.id)}').")
    if not yes:
        again = "dlpath reset --all --yes" if all_ else f"dlpath reset {exercise} --yes"
        if not sys.stdin.isatty():
            raise UsageError(f"Refusing to reset {names} without confirmation.",
                             hint=f"Run '{again}' to confirm (your version is kept as a backup).")
        if not typer.confirm(f"Reset {names} to the starting state? "
                             "(your version is kept as a backup)", default=False):
            console.err.print("Nothing was changed.")
            raise typer.Exit(1)
    for r in reset_mod.apply(changed, root):
        kept = f" (your version: {r.backup.relative_to(root)})" if r.backup else ""
        console.err.print(f"[green]✓[/] Reset {escape(r.exercise.file)}{escape(kept)}")
    console.err.print(f"[dim]Undo: dlpath reset --undo {changed[0].exercise.id}[/]")
