"""The two consoles (data on stdout, messages on stderr) and the renderers.

``console.out`` and ``console.err`` are made on first use: rich's console
costs ~30 ms to import, and ``check --json`` or ``--format`` write their
document without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _consoles() -> tuple[Any, Any]:
    """(out, err), made once."""
    made = globals().get("_made")
    if made is None:
        from rich.console import Console

        # emoji=False: rich would turn ":key:" in "did:key:z6Mk..." (or any
        # learner's text with colons) into an emoji.
        made = (Console(highlight=False, soft_wrap=True, emoji=False),
                Console(stderr=True, highlight=False, soft_wrap=True, emoji=False))
        globals()["_made"] = made
    return made


def __getattr__(name: str) -> Any:
    if name in ("out", "err"):
        return _consoles()[name == "err"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def escape(text: str) -> str:
    """``rich.markup.escape``: ``text`` shown as it is, never read as markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def error(message: str, hint: str | None = None) -> None:
    err = _consoles()[1]
    err.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        err.print(f"[dim]Hint:[/] {escape(hint)}")


@contextmanager
def step(label: str) -> Iterator[None]:
    """A spinner while a step runs, then a tick (or a cross) on its line."""
    err = _consoles()[1]
    ok = False
    try:
        with err.status(f"{label}…", spinner="dots"):
            yield
        ok = True
    finally:
        err.print(f"[green]✓[/] {label}" if ok else f"[red]✗[/] {label}")


def prompter(echo: bool = False):
    """A dlpath.questions Prompter: the question on stderr, one line read from
    stdin (stdout stays for data: click's prompt writes a space there). At the
    end of input it answers None; Ctrl-C raises KeyboardInterrupt as anywhere.
    ``echo``: write the answer after the question, for answers piped in (a
    terminal shows what was typed; a pipe does not, and the questions would
    run together on one line)."""
    import sys

    err = _consoles()[1]

    def ask(question, default: str, error: str | None) -> str | None:
        if error:
            err.print(f"[red]{escape(error)}[/]")
        label = escape(question.label)
        if question.choices:
            label += " (" + ", ".join(f"{i} = {escape(c)}" for i, c in
                                      enumerate(question.choices, 1)) + ")"
        elif question.kind == "yes/no":
            label += " (yes/no)"
        err.print(f"[bold]{label}[/] [dim]\\[{escape(default)}][/]: ", end="")
        err.file.flush()
        line = sys.stdin.readline()
        if not line:
            err.print()
            return None
        answer = line.rstrip("\r\n")
        if echo:  # an empty line takes the default: show which
            err.print(escape(answer) if answer.strip() else f"[dim]{escape(default)}[/]")
        return answer

    return ask


def print_json(data: object) -> None:
    import json
    import sys

    # Plain print (where console.out writes): rich would wrap long lines and
    # break the JSON; no console is made for it.
    made = globals().get("_made")
    stream = made[0].file if made is not None else sys.stdout
    stream.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    stream.flush()


def render_templates(items: list, as_json: bool = False) -> None:
    out = _consoles()[0]
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
    out, err = _consoles()
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


_MARK = {"pass": "[green]✓ pass[/]", "fail": "[red]✗ fail[/]", "error": "[magenta]! error[/]",
         "skipped": "[dim]- skipped[/]"}


def render_report_warnings(report) -> None:
    """What the learner should know whatever the output format (stderr)."""
    lines = [f"[yellow]Warning:[/] {escape(line)}" for line in getattr(report, "warnings", [])]
    if report.tampered:
        lines.append(f"[yellow]Edited since the project was generated:[/] "
                     f"{escape(', '.join(report.tampered))} (checks that rely on them do not "
                     "count)")
    grade = getattr(report, "grade", None)
    if grade:
        lines.append(f"[bold]Grader mode:[/] commit {escape(str(grade.get('commit', ''))[:12])} "
                     "in a clean checkout; nothing cached, every number computed here.")
    for line in lines:  # no console made where there is nothing to say (--json)
        _consoles()[1].print(line)


def render_report(report) -> None:
    """The check report: one table per milestone, then the score and totals.

    The text is kept (the last few renderings of each project, in dlpath's
    per-user cache) under a digest of all it was made from: what the report
    shows (:func:`_report_view`), the console's settings, and the code that
    renders (this file, rich). A check whose report did not change (``check
    --no-commands`` re-run on an unchanged project) writes the kept text,
    character for character what rendering gives, without importing rich's
    tables or measuring them (~45 ms, a sixth of such a check's CPU).
    """
    out = _consoles()[0]
    view = _report_view(report)
    memo = _render_memo(report, view, out)
    if memo is not None:
        path, key = memo
        text = _memo_text(path, key)
        if text is None:
            with out.capture() as captured:
                _render_view(view, out)
            text = captured.get()
            _keep_memo(path, key, text)
        out.file.write(text)
        out.file.flush()
        return
    _render_view(view, out)


def _report_view(report) -> dict:
    """Everything the report's text shows, as plain data (rich markup)."""
    milestones = []
    for m in report.milestones:
        title = f"{escape(m.title)}  [dim]({m.id}, {m.score}/{m.max_score} points)[/]"
        helped = getattr(m, "assistance", None)
        if helped:  # hints and solutions used are part of the record (dlpath.hints)
            from dlpath.hints import describe

            title += f"  [yellow]({escape(describe(helped) or '')})[/]"
        rows = []
        for c in m.checks:
            name = c.id if c.visible else f"{c.id} [dim](hidden)[/]"
            detail = escape(c.message)
            if c.cached:
                detail += " [dim](cached)[/]"
            if c.status in ("fail", "error"):
                detail += f"\n[yellow]→ {escape(c.hint)}[/]"
                if c.output and c.visible:
                    tail = "\n".join(c.output.strip().splitlines()[-6:])
                    detail += f"\n[dim]{escape(tail)}[/]"
            rows.append([name, _MARK[c.status], f"{c.score}/{c.max_score}", detail])
        milestones.append({"title": title, "rows": rows})
    vp, vt = report.tally(True)
    hp, ht = report.tally(False)
    hidden = f"  Hidden checks passed: {hp}/{ht}." if ht else ""
    lines = [f"\nScore: [bold]{report.score}/{report.max_score}[/] points.  "
             f"Visible checks passed: {vp}/{vt}.{hidden}"]
    if report.used_cache:
        lines.append(f"[dim]{report.used_cache} check result(s) reused from the last check: "
                     "nothing they depend on changed.[/]")
    if report.status != "pass":
        lines.append("Run [bold]dlpath next[/] for what to do first.")
    elif report.skipped:
        # Never "all passed" while some checks did not run (hidden ones among them).
        lines.append(f"[green]Every check that ran passed;[/] {report.skipped} skipped "
                     "(--no-commands): run [bold]dlpath check[/] for all of them.")
    elif not getattr(report, "hidden_included", True):
        lines.append("[bold green]All checks passed[/] (of a hand-written rubric, not a "
                     "dlpath template's).")
    else:
        lines.append("[bold green]All checks passed, hidden ones included.[/]" if ht
                     else "[bold green]All checks passed.[/]")
    return {"milestones": milestones, "lines": lines}


def _render_view(view: dict, out) -> None:
    from rich.table import Table

    for m in view["milestones"]:
        table = Table(title=m["title"], title_justify="left", show_lines=False, expand=False)
        table.add_column("check")
        table.add_column("result")
        table.add_column("points", justify="right")
        table.add_column("details")
        for row in m["rows"]:
            table.add_row(*row)
        out.print(table)
    for line in view["lines"]:
        out.print(line)


#: bump when a kept rendering may differ from a fresh one for the same key
_MEMO_FORMAT = 1
#: renderings kept per project (``check`` and ``check --no-commands`` differ)
_MEMO_KEPT = 4


def _render_memo(report, view: dict, out) -> tuple[Any, str] | None:
    """The file a rendering of ``report`` is kept in, and the digest of all
    it depends on; None where the console does not write plain text (a legacy
    Windows console, Jupyter, a recording) or nothing can be kept."""
    if out.legacy_windows or out.is_jupyter or out.record or getattr(report, "root", None) \
            is None:
        return None
    import hashlib
    import json
    import os

    import rich

    from dlpath import __version__
    from dlpath.resources import user_dir

    def stamp(path: str) -> list[int]:
        st = os.stat(path)
        return [st.st_mtime_ns, st.st_size]

    options = out.options
    try:
        rich_dir = os.path.dirname(rich.__file__)
        code = [_MEMO_FORMAT, __version__, stamp(__file__), stamp(rich_dir),
                *(stamp(os.path.join(rich_dir, f)) for f in ("console.py", "table.py"))]
        folder = user_dir() / "cache" / "render"
    except (OSError, TypeError):
        return None
    settings = [out.width, out.color_system, out.no_color, out.is_terminal,
                out.is_dumb_terminal, out.encoding, out.tab_size, out.soft_wrap,
                options.ascii_only, options.min_width, options.max_width, options.justify,
                options.overflow, options.no_wrap, options.highlight, options.markup]
    key = hashlib.sha256(json.dumps([view, settings, code], default=str).encode()).hexdigest()
    project = hashlib.sha256(str(report.root).encode()).hexdigest()[:32]
    return folder / project / key[:32], key


def _memo_text(path, key: str) -> str | None:
    """The kept rendering under ``key`` (marked as just used), or None."""
    import os

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            if fh.readline().rstrip("\n") != key:
                return None
            text = fh.read()
        os.utime(path)  # the newest are kept (_keep_memo)
        return text
    except (OSError, UnicodeDecodeError):
        return None


def _keep_memo(path, key: str, text: str) -> None:
    """Keep a rendering, and only the project's :data:`_MEMO_KEPT` newest (a
    cache: never fsynced, and a failure to write it is no error)."""
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(f"{key}\n{text}")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        kept = sorted((e.stat().st_mtime_ns, e.path) for e in os.scandir(path.parent)
                      if not e.name.startswith("."))
        for _, old in kept[:-_MEMO_KEPT]:
            os.unlink(old)
    except OSError:
        pass


def render_suggestion(s) -> None:
    out = _consoles()[0]
    label = {"practice": "Deliberate practice", "review": "Spaced review",
             "paper": "Implement a paper", "finished": "Finished"}.get(s.kind, "Next")
    out.print(f"[bold cyan]{label}:[/] [bold]{escape(s.title)}[/]")
    out.print(f"[dim]Why:[/] {escape(s.why)}")
    out.print(f"[dim]Do:[/]  {escape(s.do)}")
    out.print(f"[dim]Run:[/] [bold]{escape(s.command)}[/]")
    if getattr(s, "based_on", None):
        out.print(f"[dim]{escape(s.based_on)}[/]")


def render_roadmap(view) -> None:
    """The roadmap as a tree. Each step's id (what ``dlpath done`` takes) is
    never cut: where the line is too long for the terminal the title gives
    way (ending in …). Steps only the learner can vouch for say so."""
    out = _consoles()[0]
    from rich.text import Text
    from rich.tree import Tree

    tag = "self-reported"
    steps = view.roadmap.steps

    def title_of(step) -> str:
        mark = "✓" if step.id in view.done else "→" if step.id == view.current else " "
        effort = f" ({step.effort})" if step.id == view.current and step.effort else ""
        return f"{mark} {step.title}{effort}"

    id_width = max((len(s.id) for s in steps), default=0)
    # "│   ├── " before each step, a space between the columns
    room = out.width - 8 - id_width - 1 - (len(tag) + 1) * any(s.self_reported for s in steps)
    title_width = max(12, min(room - 1, max((len(title_of(s)) for s in steps), default=0)))
    tree = Tree("[bold]dlpath roadmap[/]")
    for phase in view.roadmap.phases:
        done = sum(s.id in view.done for s in phase.steps)
        total = len(phase.steps)
        filled = round(20 * done / total) if total else 0
        bar = "█" * filled + "░" * (20 - filled)
        branch = tree.add(f"[bold]{escape(phase.title)}[/]  {bar} {done}/{total}")
        for step in phase.steps:
            style = ("green" if step.id in view.done
                     else "bold yellow" if step.id == view.current else "")
            line = Text(title_of(step), style=style)
            line.truncate(title_width, overflow="ellipsis", pad=True)
            line.append(" ")
            line.append(step.id, style="cyan" if step.self_reported else "dim")
            if step.self_reported:
                line.append(" " * (id_width - len(step.id) + 1) + tag, style="dim")
            branch.add(line)
    out.print(tree, soft_wrap=False, crop=False)
    if any(s.self_reported for s in steps):
        out.print(f"[dim]{tag}: no check sees it; when you have done it, run[/] "
                  "[bold]dlpath done STEP-ID[/]")
    for due in getattr(view, "due", ()):  # challenges on fresh data gone stale
        where = f" {due.project}" if due.project else ""
        out.print(f"[bold yellow]Due again:[/] the {escape(due.template)} challenge (passed "
                  f"{escape(due.passed_at[:10])}): [bold]dlpath challenge{escape(where)}[/]")
