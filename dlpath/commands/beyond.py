"""``dlpath challenge``, ``credential``, ``verify`` and ``leaderboard``: each
parses its options, calls one core function (dlpath.challenge,
dlpath.credentials, dlpath.verify, dlpath.leaderboard, dlpath.boards) and
renders the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlpath.commands import guard

#: a drop on fresh data larger than this share of the test figure is called out
LARGE_DROP = 0.05


def _warn(warnings: list[str]) -> None:
    from rich.markup import escape

    from dlpath import console

    for warning in warnings:
        console.err.print(f"[yellow]Warning:[/] {escape(warning)}")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _render_challenge(result) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dlpath import console

    out = console.out
    out.print(f"[bold]Challenge ({escape(result.template)}):[/] {escape(result.shift)}")
    out.print(f"[dim]Fresh data drawn now (seed {result.seed}) for commit "
              f"{result.commit[:8]}, in {result.seconds:.1f} s; nothing was written to the "
              "project.[/]")
    table = Table(show_lines=False)
    for name in ("score", "your test split", "fresh data", "drop", "needs", ""):
        table.add_column(name, justify="left" if name in ("score", "") else "right")
    for s in result.scores:
        mark = "[green]✓[/]" if s.passed else "[red]✗[/]"
        drop = s.drop
        table.add_row(escape(s.label), _fmt(s.test), _fmt(s.value) if s.value is not None
                      else escape(s.note or "—"), _fmt(drop) if drop is not None else "—",
                      f"{s.op} {s.threshold:g}", mark)
    if result.error is None:
        out.print(table)
    if result.error is not None:
        console.err.print(f"[red]✗ {escape(result.error)}[/]")
    big = [s for s in result.scores if s.drop is not None and s.test
           and s.drop > LARGE_DROP * abs(s.test)]
    for s in big:
        out.print(f"[yellow]{escape(s.label)} is {s.drop:.3g} worse on fresh data than on your "
                  "test split:[/] a model that learned the skill holds on new data. Did you "
                  "tune on the test split, or train on too narrow a variety? Try augmenting "
                  "the training data or regularising, then repro and challenge again.")
    if result.passed:
        out.print(f"[green]✓ Passed.[/] Recorded in your progress; due again on "
                  f"{result.due_at[:10]}. Get a credential: dlpath credential challenge")
    else:
        out.print("[red]✗ Not passed.[/] Recorded in your progress; improve the model, "
                  "dvc repro, commit, and challenge again (each run draws new data).")


@guard
def challenge(
    path: Annotated[Path, typer.Argument(help="The project (default: here).")] = Path("."),
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Re-test your trained model on fresh, shifted data dlpath draws now."""
    from dlpath import challenge as challenge_mod
    from dlpath import console

    result = challenge_mod.run(path)
    _warn(result.warnings)
    if json_:
        console.print_json(result.to_json())
    else:
        _render_challenge(result)
    raise typer.Exit(result.exit_code)


@guard
def credential(
    what: Annotated[str | None, typer.Argument(
        help="A milestone id that passes, or 'challenge' (runs it now).")] = None,
    path: Annotated[Path, typer.Argument(help="The project (default: here).")] = Path("."),
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Where to write it (default: dlpath's per-user folder).")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="Your name in the credential (default: git's user.name).")] = None,
    show_key: Annotated[bool, typer.Option(
        "--show-key", help="Print your public key (did:key) for others to pin, and exit.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the credential too.")] = False,
) -> None:
    """Issue a signed Open Badges 3.0 credential for a passed milestone or challenge."""
    from rich.markup import escape

    from dlpath import console, credentials, keys
    from dlpath.errors import UsageError

    if show_key:
        console.out.print(keys.my_did())
        return
    if not what:
        raise UsageError("Name what the credential is for: a milestone id, or 'challenge'.",
                         hint="For example: dlpath credential edge-ready")
    issued = credentials.issue(path, what, output=output, name=name)
    _warn(issued.warnings)
    if json_:
        console.print_json(issued.credential)
    console.err.print(f"[green]✓[/] Credential for {escape(issued.what)} at commit "
                      f"{issued.commit[:8]}, signed by {escape(issued.did)}")
    console.err.print(f"  Written to {escape(str(issued.path))}")
    console.err.print(f"  Anyone can check it: dlpath verify {escape(str(issued.path))} "
                      "--project PATH")


@guard
def verify(
    file: Annotated[Path, typer.Argument(help="The credential (JSON).")],
    project: Annotated[Path | None, typer.Option(
        "--project", help="Re-run its evidence on this project (a clean checkout of the "
        "commit).")] = None,
    key: Annotated[str | None, typer.Option(
        "--key", help="Require this signer (the learner's did:key).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Verify a dlpath credential: its signature and, with --project, its evidence."""
    from rich.markup import escape

    from dlpath import console
    from dlpath import verify as verify_mod

    result = verify_mod.verify(file, project=project, key=key)
    if json_:
        console.print_json(result.to_json())
        return
    console.out.print(f"[green]✓ Verified:[/] {escape(result.achievement)} "
                      f"({escape(result.template)}, commit {result.commit[:8]}), "
                      f"issued {escape(result.issued)} to {escape(result.subject)}")
    for line in result.confirmed:
        console.out.print(f"  [green]✓[/] {escape(line)}")
    if result.project is None:
        console.out.print("  [dim]Evidence not re-run: add --project PATH to check it "
                          "against the learner's repository.[/]")
