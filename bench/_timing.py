"""What the template benchmarks share: an environment in which generated
projects run as in a learner's venv, and the wall and CPU time of a command
(``dvc repro``, one stage) measured the same way in every script.

CPU seconds are those of the command and every process it started
(``RUSAGE_CHILDREN``): the stages run one thread each, one after the other, so
on an idle machine the wall time is about the CPU time, and on a busy one the
CPU time is the better guide.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def bench_env(home: Path | None = None) -> dict[str, str]:
    """os.environ for a project's commands: `python` is this interpreter, DVC
    never waits on the network, and with ``home`` nothing touches the user's
    HOME, dlpath directory or git identity."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1",
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        env.update({"HOME": str(home), "DLPATH_HOME": str(home / "dlpath"),
                    "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
                    "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"})
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str] | str, cwd: Path, env: dict[str, str] | None = None
          ) -> tuple[float, float, str]:
    """Run ``cmd`` (a string goes through the shell, as dvc.yaml's commands
    do); (wall seconds, CPU seconds, its stdout). A failure ends the benchmark
    with the command's last output."""
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, shell=isinstance(cmd, str), cwd=cwd, env=env,
                          capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    if done.returncode:
        shown = cmd if isinstance(cmd, str) else " ".join(cmd)
        raise SystemExit(f"{shown} failed in {cwd}:\n{(done.stderr or done.stdout)[-2000:]}")
    return wall, cpu, done.stdout


def repro(root: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """``dvc repro`` in ``root`` as a learner runs it; (wall, CPU) seconds."""
    wall, cpu, _ = timed([sys.executable, "-m", "dvc", "repro"], root, env)
    return wall, cpu


def load() -> float:
    """The one-minute load average: say how busy the machine was."""
    return os.getloadavg()[0]

