"""The Typer app: it only registers commands (see dlpath.commands).

Heavy libraries (DVC, cookiecutter, GitPython, torch) are imported inside the
command bodies, so ``dlpath --help`` stays fast.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from dlpath import __version__
from dlpath.commands import beyond as beyond_cmd
from dlpath.commands import check as check_cmd
from dlpath.commands import exercise as exercise_cmd
from dlpath.commands import new as new_cmd
from dlpath.commands import tutor as tutor_cmd


def _typer() -> typer.Typer:
    return typer.Typer(
        name="dlpath",
        help="Learn deep learning by building: projects with git and DVC ready, "
        "milestone checks, and a roadmap that says what to do next.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help: typer's rich help labels every flag "<bool>" (typer 0.29),
        # and plain help needs no rich import, so --help stays fast.
        rich_markup_mode=None,
    )


app = _typer()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dlpath {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    if debug:
        os.environ["DLPATH_DEBUG"] = "1"


app.command("new")(new_cmd.new)
app.command("templates")(new_cmd.templates_)
app.command("check")(check_cmd.check)
app.command("next")(tutor_cmd.next_)
app.command("roadmap")(tutor_cmd.roadmap_)
app.command("done")(tutor_cmd.done)
app.command("undo")(tutor_cmd.undo)
app.command("hint")(exercise_cmd.hint)
app.command("solution")(exercise_cmd.solution)
app.command("watch")(exercise_cmd.watch)
app.command("reset")(exercise_cmd.reset)
app.command("challenge")(beyond_cmd.challenge)
app.command("credential")(beyond_cmd.credential)
app.command("verify")(beyond_cmd.verify)
app.command("leaderboard")(beyond_cmd.leaderboard)


def _app_for(args: list[str]) -> typer.Typer:
    """The app that runs ``dlpath ARGS``: for ``dlpath COMMAND ...`` an app
    with the root options and that one command, else (``--help``, ``--version``,
    a misspelt command) the whole app. Click builds every registered command's
    parameters before it runs one (~40 ms of CPU for fifteen commands, a tenth
    of a ``dlpath check --no-commands``); what the command parses, prints and
    returns is the same."""
    wanted = [c for c in app.registered_commands if args and c.name == args[0]]
    if not wanted:
        return app
    one = _typer()
    one.registered_callback = app.registered_callback
    one.registered_commands = wanted
    return one


def main() -> None:
    import gc
    import sys

    try:
        _app_for(sys.argv[1:])(prog_name="dlpath")
    finally:
        # The process ends here. Its last garbage collections would walk every
        # object the run made (~40 ms of CPU after a `dlpath check`, an eighth
        # of it) to free memory the exit frees anyway; files are closed and
        # flushed as always.
        gc.freeze()
