"""Benchmark `dlpath --help` and `dlpath new`, printing ratios measured in one run.

    python bench/bench_new.py [--repeat 5] [--template quantization]
                              [--ccds-template PATH]

1. `dlpath --help` against `--help` of a bare Typer app with the same
   commands (the floor for a Typer CLI; goal: ratio about 1.0): dlpath must
   not import DVC, cookiecutter, GitPython or rich for --help.
2. `dlpath new TEMPLATE --no-input` (render, git init, DVC set up with a
   local remote, first commit) against `ccds --no-input` of
   cookiecutter-data-science (render only: no git repository, no DVC).
   Goal: ratio <= 1.0. ccds needs its template on disk: a checkout of
   drivendataorg/cookiecutter-data-science given with --ccds-template (or
   $CCDS_TEMPLATE), else the clone ccds itself keeps in
   ~/.cookiecutters/cookiecutter-data-science. Without one (or without the
   `ccds` command: pip install cookiecutter-data-science) that line is skipped.
3. `dlpath new` against doing the same by hand with the command-line tools:
   cookiecutter (on the same merged template), git init, dvc init, three
   `dvc config`/`dvc remote` calls, git add and git commit. Goal: <= 0.6.

Each figure is the median wall time of --repeat runs, each in a fresh
directory, the compared commands interleaved so that a change in the
machine's load hits all of them alike. The load average is printed: on a
loaded machine the absolute times grow, the ratios much less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent

#: a Typer app with dlpath's commands and nothing else (its --help is the floor)
BARE_TYPER = '''
import typer

app = typer.Typer(name="dlpath", help="Learn deep learning by building.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)

@app.callback()
def root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
         version: bool = typer.Option(False, "--version", help="Show the version.")) -> None:
    """Root."""

for name in {names!r}:
    def command(path: str = typer.Argument(".", help="A path.")) -> None:
        """A command."""
    app.command(name)(command)

app(prog_name="dlpath")
'''


def run(cmd: list[str], work: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=work / "proj" if (work / "proj").exists() else work, env=env,
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def medians(routes: dict[str, object], repeat: int, env: dict[str, str]) -> dict[str, float]:
    """Median seconds of each route; each route is a function work -> commands, run in
    turn in a fresh folder; the routes are interleaved."""
    times: dict[str, list[float]] = {name: [] for name in routes}
    for _ in range(repeat):
        for name, make in routes.items():
            work = Path(tempfile.mkdtemp(prefix="dlpath-bench-"))
            try:
                times[name].append(sum(run(cmd, work, env) for cmd in make(work)))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return {name: statistics.median(ts) for name, ts in times.items()}


def ccds_template(given: str | None) -> Path | None:
    candidates = [given, os.environ.get("CCDS_TEMPLATE"),
                  str(Path.home() / ".cookiecutters" / "cookiecutter-data-science")]
    for candidate in candidates:
        if candidate and (Path(candidate).expanduser() / "ccds.json").is_file():
            return Path(candidate).expanduser().resolve()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--template", default="quantization")
    parser.add_argument("--ccds-template", help="a checkout of cookiecutter-data-science")
    args = parser.parse_args()
    ccds_dir = ccds_template(args.ccds_template)
    ccds_bin = BIN / "ccds"

    home = Path(tempfile.mkdtemp(prefix="dlpath-bench-home-"))
    env = {
        **os.environ,
        "HOME": str(home),
        "DLPATH_HOME": str(home / "dlpath"),
        "DVC_NO_ANALYTICS": "1",
        "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]]),
    }
    # Python as a learner runs it: bytecode cached (see bench_check.py)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    dlpath = [sys.executable, "-m", "dlpath"]

    from dlpath.cli import app

    names = [c.name for c in app.registered_commands]
    bare = home / "bare_typer.py"
    bare.write_text(BARE_TYPER.format(names=names))
    helps = medians({
        "dlpath": lambda w: [[*dlpath, "--help"]],
        "bare": lambda w: [[sys.executable, str(bare), "--help"]],
        "typer": lambda w: [[sys.executable, "-c", "import typer"]],
    }, args.repeat, env)

    # The by-hand route renders the same merged template dlpath renders.
    from dlpath import questions, scaffold, templates

    template = templates.get(args.template)
    staged = Path(tempfile.mkdtemp(prefix="dlpath-bench-template-"))
    scaffold._stage(template, questions.merged(template), staged)

    def by_hand(work: Path) -> list[list[str]]:
        proj = work / "proj"
        dvc = [str(BIN / "dvc")]
        return [
            [str(BIN / "cookiecutter"), str(staged), "--no-input", "-o", str(work),
             "_project_name=proj", "_package_name=proj"],
            ["git", "-C", str(proj), "init", "-q"],
            [*dvc, "init", "-q"],
            [*dvc, "config", "core.analytics", "false"],
            [*dvc, "config", "core.check_update", "false"],
            [*dvc, "remote", "add", "-d", "local", str(work / "remote")],
            ["git", "-C", str(proj), "add", "-A"],
            ["git", "-C", str(proj), "commit", "-q", "-m", "first"],
        ]

    routes = {
        "dlpath": lambda w: [[*dlpath, "new", args.template, "proj", "--no-input", "-o",
                              str(w)]],
        "by hand": by_hand,
    }
    if ccds_dir is not None and ccds_bin.exists():
        routes["ccds"] = lambda w: [[str(ccds_bin), str(ccds_dir), "--no-input", "-o", str(w)]]
    news = medians(routes, args.repeat, env)
    load = os.getloadavg()[0]
    shutil.rmtree(staged, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)

    print(f"{args.repeat} runs each, interleaved; load average {load:.1f} on "
          f"{os.cpu_count()} CPUs")
    print(f"dlpath --help              {helps['dlpath']:6.3f} s   bare Typer app, same "
          f"{len(names)} commands {helps['bare']:6.3f} s   (python -c 'import typer' "
          f"{helps['typer']:.3f} s)")
    print(f"ratio help/bare Typer      {helps['dlpath'] / helps['bare']:6.2f}   (goal ~1.0)")
    if "ccds" in news:
        print(f"dlpath new {args.template:<16}{news['dlpath']:6.3f} s   ccds --no-input "
              f"(cookiecutter-data-science, no git, no DVC) {news['ccds']:6.3f} s")
        print(f"ratio new/ccds             {news['dlpath'] / news['ccds']:6.2f}   (goal <= 1.0)")
    else:
        print("ccds: skipped (pip install cookiecutter-data-science, and pass "
              "--ccds-template PATH to a checkout of its template)")
    print(f"dlpath new {args.template:<16}{news['dlpath']:6.3f} s   by hand "
          f"(cookiecutter+git+dvc CLIs) {news['by hand']:6.3f} s")
    print(f"ratio new/by-hand          {news['dlpath'] / news['by hand']:6.2f}   (goal <= 0.60)")


if __name__ == "__main__":
    main()
