"""Benchmark the `xai` template's pipeline, printing figures measured in one run.

    python bench/bench_xai.py [--keep DIR]

1. A fresh project (`dlpath new xai`, no learner code): `dvc repro` wall time
   against the 60 s budget of a fresh project's first run.
2. The reference solution from scratch (a second project, the solution
   regions applied before its first `dvc repro`): wall time against the
   120 s budget.
3. dlpath's own measurement of the reference project (the template's probe,
   as `dlpath check` runs it), wall time.

Every stage runs on one CPU thread (`threads: 1`). The budgets are for an
idle 2-core machine. Every stage runs on one thread, one after the other, so
idle wall time is about the CPU time of the run, which the script prints too:
on a busy machine it is the better guide (though contention inflates it as
well, ~2.5x at a load of 10 on 2 cores). It also times `python -c "import
torch"` (about 1 s idle) and prints the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _timing import bench_env, load, repro, timed

FRESH_BUDGET_S, REFERENCE_BUDGET_S = 60.0, 120.0


def torch_import_s() -> float:
    return timed([sys.executable, "-c", "import torch"], Path.cwd())[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="make the projects here and keep them")
    args = parser.parse_args()
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    env = bench_env()
    from dlpath import scaffold, solutions, templates
    from dlpath.checks import probe

    with tempfile.TemporaryDirectory(prefix="bench-xai-") as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        calibration = [torch_import_s()]
        load_at_start = load()
        fresh = scaffold.create_project("xai", "fresh", where / "a").path
        reference = scaffold.create_project("xai", "reference", where / "b").path
        solutions.apply_reference(reference)
        fresh_s, fresh_cpu = repro(fresh, env)
        reference_s, reference_cpu = repro(reference, env)
        start = time.perf_counter()
        measured = probe.measure(reference, probe.probe_path(templates.get("xai").path))
        probe_s = time.perf_counter() - start
        calibration.append(torch_import_s())
    factor = sum(calibration) / len(calibration)
    print(f"load average at start {load_at_start:.1f}; `import torch` {calibration[0]:.2f} s "
          f"before, {calibration[1]:.2f} s after (about 1 s on an idle machine)")
    print(f"fresh dvc repro:      {fresh_s:6.1f} s = {fresh_s / FRESH_BUDGET_S:.2f}x its "
          f"{FRESH_BUDGET_S:.0f} s budget")
    print(f"reference dvc repro:  {reference_s:6.1f} s = {reference_s / REFERENCE_BUDGET_S:.2f}x "
          f"its {REFERENCE_BUDGET_S:.0f} s budget; {reference_s / fresh_s:.2f}x the fresh run")
    print(f"CPU time (every stage is one thread, one after the other: on an idle machine the "
          f"wall time is about this): fresh {fresh_cpu:.1f} s, reference {reference_cpu:.1f} s")
    print(f"probe (dlpath check): {probe_s:6.1f} s"
          + (f" (error: {measured.error})" if measured.error else ""))
    print(f"scaled to an idle machine by the import-torch factor {factor:.2f}: fresh "
          f"{fresh_s / factor:.0f} s, reference {reference_s / factor:.0f} s, "
          f"probe {probe_s / factor:.0f} s (a rough guide only)")


if __name__ == "__main__":
    main()
