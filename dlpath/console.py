"""The two consoles (data on stdout, messages on stderr) and the renderers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def error(message: str, hint: str | None = None) -> None:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        err.print(f"[dim]Hint:[/] {escape(hint)}")


@contextmanager
def step(label: str) -> Iterator[None]:
    """A spinner while a step runs, then a tick (or a cross) on its line."""
    ok = False
    try:
        with err.status(f"{label}…", spinner="dots"):
            yield
        ok = True
    finally:
        err.print(f"[green]✓[/] {label}" if ok else f"[red]✗[/] {label}")


def print_json(data: object) -> None:
    import json

    # Plain print: rich would wrap long lines and break the JSON.
    out.file.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    out.file.flush()


def render_templates(items: list, as_json: bool = False) -> None:
    if as_json:
        print_json(
            [
                {"name": t.name, "version": t.version, "phase": t.phase, "step": t.step,
                 "description": t.description}
                for t in items
            ]
        )
        return
    from rich.table import Table

    table = Table(title="dlpath templates", title_justify="left")
    table.add_column("template", style="bold cyan")
    table.add_column("phase")
    table.add_column("what you build")
    for t in items:
        table.add_row(t.name, t.phase, t.description)
    out.print(table)


def render_new_project(result) -> None:
    err.print(f"\n[bold green]Created[/] {escape(str(result.path))} "
              f"from the '{result.template.name}' template.")
    if result.remote is not None:
        err.print(f"DVC remote (default, local): {escape(str(result.remote))}")
    if result.used_fallback_identity:
        err.print(
            "[yellow]git has no user.name/user.email here, so the first commit was made as "
            "'dlpath'.[/] Set yours before your next commit:\n"
            '  git config --global user.name "Your Name"\n'
            '  git config --global user.email "you@example.com"'
        )
    err.print("\nNext:")
    for command in result.next_commands:
        out.print(f"  {escape(command)}")
