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


def _render_ranking(ranking) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dlpath import console

    spec = ranking.spec
    arrow = {"higher": "↑", "lower": "↓"}
    where = f"board {ranking.board}" if ranking.board else "this project's experiments"
    title = (f"{ranking.template}: {where}, by {spec.metric.key} {arrow[spec.metric.direction]}"
             + "".join(f", then {m.key} {arrow[m.direction]}" for m in spec.tie_breakers))
    caption = None if ranking.board else (
        f"meets: every metric threshold of milestone {spec.milestone} holds for that "
        "experiment (dlpath check judges the rest)")
    table = Table(title=escape(title), caption=escape(caption) if caption else None)
    table.add_column("#", justify="right")
    table.add_column("learner" if ranking.board else "experiment")
    table.add_column("commit" if ranking.board else "rev")
    for m in spec.metrics:
        table.add_column(escape(m.key), justify="right")
    table.add_column(f"passes {escape(spec.milestone)}" if ranking.board
                     else f"meets {escape(spec.milestone)}")
    if not ranking.board:
        table.add_column("params changed")
    for row in ranking.rows:
        mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "—"}[row.meets]
        name = escape(row.name) + (" [dim](baseline)[/]" if row.baseline else "")
        cells = [str(row.rank) if row.rank else "—", name, row.rev[:8]]
        cells += [_fmt(row.metrics.get(m.key)) for m in spec.metrics] + [mark]
        if not ranking.board:
            cells.append(escape(", ".join(f"{k}={v}" for k, v in row.params.items())) or "")
        table.add_row(*cells)
    console.out.print(table)
    if not ranking.rows:
        console.out.print("No entries yet." if ranking.board else
                          "No experiments yet: dvc exp run --set-param KEY=VALUE")
    for entry, reason in ranking.rejected:
        console.err.print(f"[yellow]Rejected[/] {escape(entry)}: {escape(reason)}")


@guard
def leaderboard(
    args: Annotated[list[str] | None, typer.Argument(
        help="Rank (default), or 'submit' to add the project to --board; then the project "
        "(default: here).",
        metavar="[submit] [PATH]")] = None,
    board: Annotated[str | None, typer.Option(
        "--board", help="A class board: a folder, git+URL (or a .git location), dvc://REMOTE "
        "or a URL DVC knows (s3://, gs://, ssh://...).")] = None,
    template: Annotated[str | None, typer.Option(
        "--template", help="The template a board ranks (default: its board.json's).")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="submit: your name on the board (default: git's user.name).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank this project's DVC experiments, or a class board's verified entries."""
    from rich.markup import escape

    from dlpath import boards, console
    from dlpath import leaderboard as leaderboard_mod
    from dlpath.errors import UsageError

    args = list(args or [])
    submitting = bool(args) and args[0] == "submit"
    if submitting:
        args = args[1:]
    if len(args) > 1:
        raise UsageError(f"Too many arguments: {' '.join(args)}",
                         hint="dlpath leaderboard [submit] [PATH] [--board LOCATION]")
    path = Path(args[0]) if args else Path(".")
    if submitting:
        if not board:
            raise UsageError("submit needs --board LOCATION.",
                             hint="For example: dlpath leaderboard submit --board "
                                  "/shared/class-board")
        done = boards.submit(path, board, name=name)
        _warn(done.warnings)
        if json_:
            console.print_json({"board": done.board, "entry": done.entry,
                                "template": done.template, "metric": done.metric,
                                "commit": done.commit, "created_board": done.created_board})
            return
        made = " (a new board)" if done.created_board else ""
        console.err.print(f"[green]✓[/] Submitted to {escape(done.board)}{made}: "
                          f"{escape(done.entry)} (commit {done.commit[:8]}, "
                          f"{_fmt(done.metric)})")
        console.err.print(f"  See the ranking: dlpath leaderboard --board {escape(board)}")
        return
    if board:
        ranking = boards.rank(board, where=path, template=template)
    else:
        ranking = leaderboard_mod.in_project(path)
    if json_:
        console.print_json(ranking.to_json())
    else:
        _render_ranking(ranking)
