"""Benchmark `dlpath check`, printing ratios measured in one run.

    python bench/bench_check.py [--repeat 7] [--quick] [--baseline DIR]

1. On a generated and reproduced `quantization` project: `dlpath check
   --no-commands` against one `dvc status` command-line call on the same
   project. Timed twice: re-run with nothing changed (DVC's answers reused
   from the last check, DVC not even imported; goal: ratio <= 0.3), and
   with the state file removed before each run (DVC asked afresh, as after any
   change to the pipeline, its files or the remote; goal: ratio <= 1.0).
2. On a generated and reproduced `groundwork` project (12 command checks:
   pytest on visible and packaged hidden tests): a cached re-run of
   `dlpath check` against one `dvc status` call on that project (goal: ratio
   <= 1.2). The first, uncached run is timed once for comparison.

Each figure is the median wall time of --repeat subprocess runs (after one
untimed run each), the runs of the compared commands interleaved so that a
change in the machine's load hits both. ``--baseline DIR`` times the
``check --no-commands`` of another dlpath source tree in the same runs (e.g.
``git archive COMMIT dlpath templates docs | tar -x -C DIR``), so a before and
after come from one run. Two reference lines say where the time goes: dlpath's command-line
start-up alone (`dlpath --version`), and the DVC work `check` cannot avoid
(`Repo().status()` through DVC's Python API, in a fresh interpreter).
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
DLPATH = [sys.executable, "-m", "dlpath"]
DVC = [str(BIN / "dvc")]
DVC_API = [sys.executable, "-c", "from dvc.repo import Repo; r = Repo('.'); r.status(); "
           "r.status(cloud=True)"]


def once(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def medians(cmds: dict[str, list[str]], cwd: Path, env: dict[str, str],
            repeat: int) -> dict[str, float]:
    for cmd in cmds.values():  # warm: bytecode compiled, reference rendered
        once(cmd, cwd, env)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            times[name].append(once(cmd, cwd, env))
    return {name: statistics.median(ts) for name, ts in times.items()}


def generate(template: str, work: Path, env: dict[str, str]) -> Path:
    subprocess.run([*DLPATH, "new", template, template, "--no-input", "-o", str(work)],
                   env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    project = work / template
    subprocess.run([*DVC, "repro"], cwd=project, env=env, check=True, capture_output=True)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="only the quantization part (no groundwork test run)")
    parser.add_argument("--baseline", type=Path,
                        help="another dlpath source tree (dlpath/, templates/, docs/) whose "
                             "check --no-commands is timed in the same runs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dlpath-bench-check-"))
    env = {**os.environ, "HOME": str(work), "DLPATH_HOME": str(work / "dlpath"),
           "DVC_NO_ANALYTICS": "1", "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]])}
    # Python as a learner runs it: bytecode cached (pip compiles an installed
    # dlpath and DVC alike; with this set, only an editable dlpath recompiles
    # every module on every run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (work / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = b@example.com\n")
    try:
        quant = generate("quantization", work, env)
        fresh = ["sh", "-c", f"rm -f .dlpath/state.json && exec {sys.executable} -m dlpath "
                 "check --no-commands"]
        baseline = {"baseline": ["env", f"PYTHONPATH={args.baseline.resolve()}", *DLPATH,
                                 "check", "--no-commands"]} if args.baseline else {}
        first = medians({
            "dvc status": [*DVC, "status"],
            "no-commands": [*DLPATH, "check", "--no-commands"],
            **baseline,
            "fresh": fresh,
            "version": [*DLPATH, "--version"],
            "dvc api": DVC_API,
        }, quant, env, args.repeat)
        second: dict[str, float] = {}
        if not args.quick:
            ground = generate("groundwork", work, env)
            uncached = once([*DLPATH, "check"], ground, env)  # fills the cache
            second = medians({
                "dvc status": [*DVC, "status"],
                "cached": [*DLPATH, "check"],
            }, ground, env, args.repeat)
        load = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def line(label: str, seconds: float, base: float, goal: str = "") -> None:
        print(f"  {label:<44}{seconds:6.3f} s   ratio {seconds / base:5.2f}   {goal}")

    print(f"quantization, reproduced ({args.repeat} runs each, load average {load:.1f}):")
    line("dvc status (CLI)", first["dvc status"], first["dvc status"])
    line("dlpath check --no-commands, nothing changed", first["no-commands"],
         first["dvc status"], "(goal <= 0.3)")
    if "baseline" in first:
        line("  the same, baseline source tree", first["baseline"], first["dvc status"])
    line("dlpath check --no-commands, DVC asked afresh", first["fresh"], first["dvc status"],
         "(goal <= 1.0)")
    line("  reference: dlpath --version (start-up)", first["version"], first["dvc status"])
    line("  reference: DVC API status + cloud status", first["dvc api"], first["dvc status"])
    if not second:
        return
    print("groundwork, reproduced, 12 command checks:")
    line("dvc status (CLI)", second["dvc status"], second["dvc status"])
    line("dlpath check, first run (runs the tests)", uncached, second["dvc status"])
    line("dlpath check, cached re-run", second["cached"], second["dvc status"], "(goal <= 1.2)")


if __name__ == "__main__":
    main()
