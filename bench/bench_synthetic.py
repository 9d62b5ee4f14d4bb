"""Benchmark the `synthetic-data` pipeline: a fresh project and the reference
solution, each stage's wall and CPU time, measured in one run.

    python bench/bench_synthetic.py [--only fresh|reference] [--repro]

Runs every stage command of `dvc.yaml` in order (what `dvc repro` runs, without
DVC's own bookkeeping), in a project rendered into a temporary directory, and
prints per stage: its last line of output (the figures it measured), wall
seconds, CPU seconds (the stage and its worker processes), and the share of
the pipeline's wall time. The last lines give the
two totals and their ratio (reference / fresh), and CPU / wall (how much the
stage's worker processes ran in parallel). Goals on an idle 2-core machine:
fresh <= 60 s, reference <= 120 s; on a shared machine read the CPU column and
the ratios, not the wall times.

With --repro, each state is instead a project made by `dlpath new` (git and
DVC set up) whose `dvc repro` is timed as a learner runs it: DVC's own work
(hashing, the lock file, the cache) included, wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml
from _timing import bench_env, load, repro, timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_pipeline(root: Path, env: dict[str, str]) -> list[tuple[str, float, float]]:
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    rows = []
    for name, stage in stages.items():
        wall, cpu, out = timed(stage["cmd"], root, env)
        rows.append((name, wall, cpu))
        said = [line for line in out.splitlines() if line.strip()]
        print(f"  ... {name}: {wall:.1f} s wall, {cpu:.1f} s cpu"
              f"{': ' + said[-1] if said else ''}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("fresh", "reference"))
    parser.add_argument("--repro", action="store_true",
                        help="time `dvc repro` of git+DVC projects instead of each stage")
    args = parser.parse_args()
    from dlpath import scaffold, solutions

    env = bench_env()
    totals = {}
    with tempfile.TemporaryDirectory() as tmp:
        for state in ("fresh", "reference"):
            if args.only and args.only != state:
                continue
            root = scaffold.create_project("synthetic-data", "proj", Path(tmp) / state,
                                           git=args.repro, dvc=args.repro).path
            if state == "reference":
                solutions.apply_reference(root)
            if args.repro:
                totals[state], cpu = repro(root, env)
                print(f"dvc repro, {state}: {totals[state]:.1f} s wall, {cpu:.1f} s CPU "
                      f"(load average {load():.1f})", flush=True)
                continue
            rows = run_pipeline(root, env)
            wall = sum(r[1] for r in rows)
            cpu = sum(r[2] for r in rows)
            totals[state] = wall
            print(f"\n{state}: {'stage':<10} {'wall s':>7} {'cpu s':>7} {'share':>6}")
            for name, seconds, used in rows:
                print(f"{'':>{len(state) + 1}} {name:<10} {seconds:7.1f} {used:7.1f} "
                      f"{seconds / wall:6.0%}")
            print(f"{'':>{len(state) + 1}} {'total':<10} {wall:7.1f} {cpu:7.1f}   "
                  f"(cpu / wall {cpu / wall:.2f}; load average {load():.1f})",
                  flush=True)
    if len(totals) == 2:
        print(f"\nreference / fresh wall time: {totals['reference'] / totals['fresh']:.2f}")


if __name__ == "__main__":
    main()
