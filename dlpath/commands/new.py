"""``dlpath new`` and ``dlpath templates``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dlpath.commands import guard


@guard
def new(
    template: Annotated[str, typer.Argument(help="Template name (see 'dlpath templates').")],
    name: Annotated[
        str | None, typer.Argument(help="Project directory name [default: my-TEMPLATE].")
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Where to create the project.")
    ] = Path("."),
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Ask nothing: take the default for every question.")
    ] = False,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Answer a template question: key=value (repeatable)."),
    ] = None,
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Do not create a git repository.")
    ] = False,
    no_dvc: Annotated[bool, typer.Option("--no-dvc", help="Do not initialise DVC.")] = False,
) -> None:
    """Create a hands-on project with git and DVC ready.

    The template's questions are asked first (from a terminal, or one line
    each from a pipe: printf 'Ada\\n7\\n' | dlpath new ...); --no-input takes
    every default."""
    from dlpath import console, scaffold

    project_name = f"my-{template}" if name is None else name
    params = scaffold.parse_params(param or [])
    if not no_input:
        # Every question before the first spinner: a prompt under a spinner is hidden.
        scaffold.check_new(template, project_name, output_dir, params=params,
                           git=not no_git, dvc=not no_dvc)
        interactive = sys.stdin.isatty()
        params = scaffold.ask(template, project_name, params,
                              console.prompter(echo=not interactive), interactive=interactive)
    result = scaffold.create_project(
        template,
        project_name,
        output_dir,
        params=params,
        no_input=True,
        git=not no_git,
        dvc=not no_dvc,
        step=console.step,
    )
    console.render_new_project(result)


@guard
def templates_(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the project templates."""
    from dlpath import console, templates

    console.render_templates(list(templates.available().values()), as_json=json_)
