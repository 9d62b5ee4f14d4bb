"""The speed-up the vectorise exercise grades, measured as its tests measure it.

    python bench/bench_vectorise.py [--rounds 3]

On two (2000, 64) arrays, in one process, with the groundwork template's own
timing rule (tests/exercise_rules.py: the loop and the candidate timed
alternately, five times each, medians compared; the loop timed on 4 rows and
scaled up): the reference solution's `pairwise_distances` (one matrix
product), and the (n, m, d) broadcast, against the loop version. The
threshold the checks apply is 20x. Prints one ratio per round and candidate.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "templates" / "groundwork" / "{{cookiecutter._project_name}}"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dlpath import solutions

    rules = _load("bench_rules", PROJECT / "tests" / "exercise_rules.py")
    source = (PROJECT / "exercises" / "vectorise.py").read_text(encoding="utf-8")
    namespace: dict = {}
    exec(compile(solutions.reference(source), "vectorise.py", "exec"), namespace)  # noqa: S102

    def broadcast(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))

    for name, fn in (("reference (one matrix product)", namespace["pairwise_distances"]),
                     ("broadcast to (n, m, d)", broadcast)):
        ratios = [rules.speedup(fn, rounds=1, seed=i) for i in range(args.rounds)]
        print(f"{name:32s} " + "  ".join(f"{r:7.1f}x" for r in ratios)
              + "   (threshold 20x)")


if __name__ == "__main__":
    main()
