"""Benchmark the multimodal template's pipeline, printing one run's figures.

    python bench/bench_multimodal.py [--keep] [--stages]

1. `dvc repro` of a fresh project (no learner code: baselines and the
   decision-level fusion). Budget: 60 s on an idle 2-core machine.
2. `dvc repro` of a project holding the reference solution, from nothing
   (every stage: 3 seeds of each answerer, the dual encoder). Budget: 120 s.
3. dlpath's probe on the reference (what every `dlpath check` of a goal pays).
4. With ``--stages``: each stage again, alone (``python -m proj.STAGE``), in
   the fresh and in the reference project, to see where the time goes (the
   sum is the repro's time less DVC's own work).

Each line gives wall seconds, the CPU seconds of the processes it started
(user + system), the ratio of wall time to the budget, and the load average
when it ended: on a busy machine wall time exceeds CPU time, and CPU time
itself grows with contention, so compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import bench_env, load, repro, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGETS = {"fresh repro": 60.0, "reference repro": 120.0, "probe": 30.0}
STAGES = ("generate", "baselines", "train", "contrastive", "evaluate")


def report(label: str, wall: float, cpu: float) -> None:
    if label not in BUDGETS:
        print(f"{label:24s} wall {wall:6.1f} s  cpu {cpu:6.1f} s  load {load():.1f}", flush=True)
        return
    print(f"{label:16s} wall {wall:6.1f} s  cpu {cpu:6.1f} s  wall/budget "
          f"{wall / BUDGETS[label]:.2f}  cpu/budget {cpu / BUDGETS[label]:.2f}  load {load():.1f}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the projects")
    parser.add_argument("--stages", action="store_true",
                        help="then time each stage alone, in both projects")
    args = parser.parse_args()

    from dlpath import scaffold, solutions

    work = Path(tempfile.mkdtemp(prefix="dlpath-bench-mm-"))
    # `python` in the stages' commands is this interpreter, as in a learner's venv.
    env = bench_env(work / "home")

    try:
        fresh = scaffold.create_project("multimodal", "proj", work / "fresh").path
        reference = scaffold.create_project("multimodal", "proj", work / "reference").path
        solutions.apply_reference(reference)
        report("fresh repro", *repro(fresh, env))
        report("reference repro", *repro(reference, env))
        probe = ROOT / "templates" / "multimodal" / "hidden" / "probe.py"
        code = ("import importlib.util, sys; from pathlib import Path; "
                f"spec = importlib.util.spec_from_file_location('p', {str(probe)!r}); "
                "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
                f"sys.path.append({str(reference)!r}); "
                f"print(m.measure(Path({str(reference)!r}), 1))")
        report("probe", *timed([sys.executable, "-c", code], reference, env)[:2])
        if args.stages:
            for name, root in (("fresh", fresh), ("reference", reference)):
                for stage in STAGES:
                    report(f"{name} {stage}",
                           *timed([sys.executable, "-m", f"proj.{stage}"], root, env)[:2])
    finally:
        if args.keep:
            print(f"projects kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
