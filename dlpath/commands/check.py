"""``dlpath check``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dlpath.commands import guard
from dlpath.formats import FORMATS, HIDDEN_VISIBILITIES

Format = Enum("Format", {f: f for f in FORMATS}, type=str)
HiddenVisibility = Enum("HiddenVisibility", {v: v for v in HIDDEN_VISIBILITIES}, type=str)


@guard(json_errors=False)  # its formats have error documents of their own
def check(
    path: Annotated[Path, typer.Argument(help="The project (default: here).")] = Path("."),
    milestone: Annotated[
        list[str] | None,
        typer.Option("--milestone", "-m", help="Check this milestone only (repeat for more)."),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    no_commands: Annotated[
        bool, typer.Option("--no-commands", help="Skip checks that run commands (tests).")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Reuse no cached result: run every check afresh.")
    ] = False,
    grade: Annotated[
        bool,
        typer.Option("--grade", help="Grader mode: a clean checkout of a commit, nothing "
                                     "cached, the pipeline re-run, every number computed "
                                     "by dlpath (for instructors and CI)."),
    ] = False,
    commit: Annotated[
        str, typer.Option("--commit", help="With --grade: the commit to grade.")
    ] = "HEAD",
    format_: Annotated[Format | None, typer.Option(
        "--format", help="Write a results document for a grading platform (docs/check-json.md)."
    )] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the document to this file instead of stdout.")] = None,
    hidden_visibility: Annotated[HiddenVisibility | None, typer.Option(
        "--hidden-visibility", help="gradescope: when students see hidden checks "
        "(default: after_published)")] = None,
) -> None:
    """Check the project's milestones and say exactly what is missing."""
    from dlpath import checker, console
    from dlpath.commands import results_document
    from dlpath.errors import UsageError

    doc = results_document.Emitter.choose(format_, json_, output, hidden_visibility, path)
    with doc.on_error():
        if commit != "HEAD" and not grade:
            raise UsageError("--commit needs --grade (a local check looks at your working "
                             "tree).")
        if grade:
            from dlpath import grader

            report = grader.evaluate_commit(path, commit, milestone=milestone,
                                            run_commands=not no_commands)
        else:
            report = checker.evaluate(path, milestone=milestone, run_commands=not no_commands,
                                      use_cache=not no_cache)
    console.render_report_warnings(report)
    if doc.wanted:
        doc.emit(report)
    else:
        console.render_report(report)
    raise typer.Exit(report.exit_code)
