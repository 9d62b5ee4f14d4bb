"""``dlpath check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlpath.commands import guard


@guard
def check(
    path: Annotated[Path, typer.Argument(help="The project (default: here).")] = Path("."),
    milestone: Annotated[
        str | None, typer.Option("--milestone", "-m", help="Check one milestone only.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    no_commands: Annotated[
        bool, typer.Option("--no-commands", help="Skip checks that run commands (tests).")
    ] = False,
) -> None:
    """Check the project's milestones and say exactly what is missing."""
    from dlpath import checker, console

    report = checker.evaluate(path, milestone=milestone, run_commands=not no_commands)
    console.render_report_warnings(report)
    if json_:
        console.print_json(report.to_json())
    else:
        console.render_report(report)
    raise typer.Exit(report.exit_code)
