"""Benchmark `dlpath --help` and `dlpath new`, printing ratios measured in one run.

    python bench/bench_new.py [--repeat 5] [--template quantization]

1. `dlpath --help` against `python -c "import typer"` (the floor for a Typer
   app): dlpath must not import DVC, cookiecutter or GitPython for --help.
2. `dlpath new TEMPLATE --no-input` against doing the same by hand with the
   command-line tools: cookiecutter (on the same merged template), git init,
   dvc init, three `dvc config`/`dvc remote` calls, git add and git commit.
   Goal: ratio <= 0.6.

Each figure is the median wall time of --repeat runs, each in a fresh directory.
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


def timed(commands: list[list[str]], work: Path, env: dict[str, str]) -> float:
    """Run the commands in turn; each runs in work/proj once that exists."""
    start = time.perf_counter()
    for cmd in commands:
        cwd = work / "proj" if (work / "proj").exists() else work
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True,
                       stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(repeat: int, make_commands, env) -> float:
    times = []
    for _ in range(repeat):
        work = Path(tempfile.mkdtemp(prefix="dlpath-bench-"))
        try:
            times.append(timed(make_commands(work), work, env))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--template", default="quantization")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="dlpath-bench-home-"))
    env = {
        **os.environ,
        "HOME": str(home),
        "DLPATH_HOME": str(home / "dlpath"),
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]]),
    }
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    dlpath = [sys.executable, "-m", "dlpath"]

    help_t = median_of(args.repeat, lambda w: [[*dlpath, "--help"]], env)
    typer_t = median_of(args.repeat, lambda w: [[sys.executable, "-c", "import typer"]], env)

    # The by-hand route renders the same merged template dlpath renders.
    from dlpath import scaffold, templates

    template = templates.get(args.template)
    staged = Path(tempfile.mkdtemp(prefix="dlpath-bench-template-"))
    scaffold._stage(template, scaffold._merged_questions(template), staged)

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

    hand_t = median_of(args.repeat, by_hand, env)
    def with_dlpath(work: Path) -> list[list[str]]:
        return [[*dlpath, "new", args.template, "proj", "--no-input", "-o", str(work)]]

    new_t = median_of(args.repeat, with_dlpath, env)
    shutil.rmtree(staged, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)

    print(f"dlpath --help            {help_t:6.3f} s   python -c 'import typer' {typer_t:6.3f} s")
    print(f"ratio help/typer         {help_t / typer_t:6.2f}")
    print(f"dlpath new {args.template:<14}{new_t:6.3f} s   by hand (cookiecutter+git+dvc CLIs) "
          f"{hand_t:6.3f} s")
    print(f"ratio new/by-hand        {new_t / hand_t:6.2f}   (goal <= 0.60)")


if __name__ == "__main__":
    main()
