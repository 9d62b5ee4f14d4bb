"""Benchmark `dlpath check`, printing ratios measured in one run.

    python bench/bench_check.py [--repeat 5]

On a freshly generated and reproduced `quantization` project:
1. `dlpath check --no-commands` against one `dvc status` command-line call
   (goal: ratio <= 1.0);
2. a cached re-run of the command checks (`dlpath check`, second time)
   against the same `dvc status` call (goal: ratio <= 1.2).
Each figure is the median wall time of --repeat subprocess runs.
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


def median_time(cmd: list[str], cwd: Path, env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dlpath-bench-check-"))
    env = {**os.environ, "HOME": str(work), "DLPATH_HOME": str(work / "dlpath"),
           "DVC_NO_ANALYTICS": "1",
           "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]])}
    (work / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = b@example.com\n")
    dlpath = [sys.executable, "-m", "dlpath"]
    try:
        subprocess.run([*dlpath, "new", "quantization", "p", "--no-input", "-o", str(work)],
                       env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
        project = work / "p"
        subprocess.run([str(BIN / "dvc"), "repro"], cwd=project, env=env, check=True,
                       capture_output=True)
        status_t = median_time([str(BIN / "dvc"), "status"], project, env, args.repeat)
        no_cmd_t = median_time([*dlpath, "check", "--no-commands"], project, env, args.repeat)
        subprocess.run([*dlpath, "check"], cwd=project, env=env, capture_output=True)  # fill
        cached_t = median_time([*dlpath, "check"], project, env, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"dvc status (CLI)             {status_t:6.3f} s")
    print(f"dlpath check --no-commands   {no_cmd_t:6.3f} s   ratio {no_cmd_t / status_t:5.2f}"
          "   (goal <= 1.0)")
    print(f"dlpath check (cached)        {cached_t:6.3f} s   ratio {cached_t / status_t:5.2f}"
          "   (goal <= 1.2)")


if __name__ == "__main__":
    main()
