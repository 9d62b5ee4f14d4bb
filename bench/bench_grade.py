"""Benchmark grader mode (`dlpath check --grade`) against a normal check,
printing ratios measured in one run.

    python bench/bench_grade.py [--repeat 3] [--template groundwork]

On a generated project with every exercise solved (groundwork: 12 pytest
checks, visible and hidden) or a generated, reproduced and committed one
(quantization: its pipeline re-run in grader mode), each run as a learner
would, in a subprocess:

* local, cold: `dlpath check --no-cache` (every check runs; what a first
  check after a change costs);
* local, warm: `dlpath check` with nothing changed (the command cache hit);
* grade: `dlpath check --grade` (a clean clone of HEAD, outputs fetched, the
  pipeline re-run, nothing cached).

Each figure is the median wall time of --repeat runs, the three commands
interleaved so that a change in the machine's load hits all of them.
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

DLPATH = [sys.executable, "-m", "dlpath"]
ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def build(template: str, where: Path, env: dict[str, str]) -> Path:
    subprocess.run([*DLPATH, "new", template, "proj", "--no-input", "-o", str(where)],
                   env=env, check=True, capture_output=True)
    root = where / "proj"
    if template == "groundwork":
        for solution in (ROOT / "tests" / "groundwork_solutions").glob("*.py"):
            shutil.copy(solution, root / "exercises" / solution.name)
    else:
        sys.path.insert(0, str(ROOT))
        from tests.template_helpers import solve

        solve(root)
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-q"], cwd=root, env=env,
                   check=True, capture_output=True)
    for cmd in (["git", "add", "-A"], ["git", "commit", "-qm", "solved"]):
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "dvc", "push", "-q"], cwd=root, env=env,
                   check=True, capture_output=True)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--template", default="groundwork")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlpath-bench-grade-") as tmp:
        env = {**os.environ, "DLPATH_HOME": str(Path(tmp, "home")), "DVC_NO_ANALYTICS": "1"}
        root = build(args.template, Path(tmp), env)
        run([*DLPATH, "check"], root, env)  # fill the cache
        times: dict[str, list[float]] = {"cold": [], "warm": [], "grade": []}
        for _ in range(args.repeat):
            times["cold"].append(run([*DLPATH, "check", "--no-cache"], root, env))
            times["warm"].append(run([*DLPATH, "check"], root, env))
            times["grade"].append(run([*DLPATH, "check", "--grade"], root, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.template}, median of {args.repeat} (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    print(f"  local check, warm cache      {med['warm']:7.2f} s")
    print(f"  local check, --no-cache      {med['cold']:7.2f} s")
    print(f"  grader mode (--grade)        {med['grade']:7.2f} s")
    print(f"  grade / local cold           {med['grade'] / med['cold']:7.2f}x")
    print(f"  grade / local warm           {med['grade'] / med['warm']:7.2f}x")


if __name__ == "__main__":
    main()
