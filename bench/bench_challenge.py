"""Benchmark `dlpath challenge` per template, printing ratios measured in one run.

    python bench/bench_challenge.py [--repeat 3] [--templates quantization,xai]

For every template that declares a challenge and ships a probe: generate a
project, write the reference solution over the learner files, `dvc repro`,
commit, then time `dlpath challenge` (the whole command, in a subprocess, as a
learner runs it: the dirty/reproduced checks, the isolated probe run on fresh
shifted data, the record) --repeat times. Prints, per template:

* the median challenge time and its ratio to the 30 s budget (issue 14: goal
  ratio <= 1.0 on this machine);
* the reference solution's score on its own test split (the figure its
  pipeline reported), on fresh unshifted data (the probe with challenge=False),
  and on the fresh shifted challenge data, with the drops: what a model that
  learned the skill loses to the shift alone.

Templates without a challenge or a probe are listed as skipped. Timings are
taken on whatever else the machine is doing: say so when you report them.

``--overhead`` first times dlpath's own part on the test suite's fake
template (tests/beyond_fake.py: a one-number threshold model, a probe that
imports no ML library): the clean-tree check, the isolated probe process and
the record, against a bare ``python -c pass`` started the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 30.0
ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "DVC_NO_ANALYTICS": "1"})


def _prepare(name: str, where: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from dlpath import scaffold, solutions

    root = scaffold.create_project(name, "proj", where).path
    solutions.apply_reference(root, None)
    start = time.perf_counter()
    done = _run([sys.executable, "-m", "dvc", "repro", "--quiet"], root)
    if done.returncode != 0:
        raise SystemExit(f"{name}: dvc repro failed:\n{done.stderr[-2000:]}")
    print(f"  {name}: reference solution reproduced in {time.perf_counter() - start:.1f} s")
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-q", "-m", "reference solution", "--no-verify"], root)
    return root


def _bench(name: str, repeat: int, scratch: Path) -> dict | None:
    sys.path.insert(0, str(ROOT))
    from dlpath import challenge, templates
    from dlpath.checks import probe as probe_mod

    template = templates.get(name)
    if template.challenge is None or probe_mod.probe_path(template.path) is None:
        return None
    root = _prepare(name, scratch / name)
    times, runs = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        done = _run([sys.executable, "-m", "dlpath", "challenge", str(root), "--json"], root)
        times.append(time.perf_counter() - start)
        try:
            runs.append(json.loads(done.stdout))
        except ValueError:
            raise SystemExit(f"{name}: dlpath challenge printed no JSON:\n{done.stderr}") \
                from None
    t = challenge.target(root)
    unshifted = probe_mod.measure(root, t.probe, challenge=False, timeout=t.spec.timeout)
    scores = []
    for index, score in enumerate(t.spec.scores):
        values = [r["scores"][index]["value"] for r in runs
                  if r["scores"][index]["value"] is not None]
        scores.append({"label": score.label, "test": runs[0]["scores"][index]["test"],
                       "fresh": unshifted.values.get(score.key),
                       "challenge": statistics.median(values) if values else None,
                       "passed": sum(r["scores"][index]["passed"] for r in runs)})
    return {"median_s": statistics.median(times), "times": times, "scores": scores,
            "passes": sum(r["status"] == "pass" for r in runs)}


def _overhead(repeat: int, scratch: Path) -> None:
    """dlpath challenge's fixed cost, in-process, on the fake template."""
    sys.path.insert(0, str(ROOT))
    from dlpath import challenge, resources, templates
    from tests import beyond_fake

    tdir = scratch / "fake-templates"
    for name in ("fake", "other"):
        folder = tdir / name
        (folder / "hidden").mkdir(parents=True)
        (folder / "template.yaml").write_text(beyond_fake.MANIFEST)
        (folder / "rubric.yaml").write_text(beyond_fake.RUBRIC)
        (folder / "hidden" / "probe.py").write_text(beyond_fake.PROBE)
    saved = templates.templates_dir, resources.templates_dir
    templates.templates_dir = resources.templates_dir = lambda: tdir
    try:
        root = beyond_fake.project(scratch / "fake-project")
        times, bare = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            challenge.run(root, record=False)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            _run([sys.executable, "-I", "-S", "-c", "pass"], root)
            bare.append(time.perf_counter() - start)
    finally:
        templates.templates_dir, resources.templates_dir = saved
    med, ref = statistics.median(times), statistics.median(bare)
    print(f"overhead (fake template): challenge {med:.2f} s, bare interpreter {ref:.2f} s "
          f"(ratio {med / ref:.1f}); {med / BUDGET_S:.3f} of the budget")


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4g}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--templates", default="")
    parser.add_argument("--overhead", action="store_true",
                        help="also time dlpath's own part on the test suite's fake template")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dlpath import templates

    names = [n for n in args.templates.split(",") if n] or sorted(templates.available())
    with tempfile.TemporaryDirectory(prefix="dlpath-bench-challenge-") as tmp:
        os.environ.setdefault("DLPATH_HOME", str(Path(tmp) / "home"))
        print(f"dlpath challenge, {args.repeat} run(s) per template, budget {BUDGET_S:g} s "
              f"(load: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start)")
        if args.overhead:
            _overhead(args.repeat, Path(tmp))
        for name in names:
            found = _bench(name, args.repeat, Path(tmp))
            if found is None:
                print(f"{name}: skipped (no challenge declared, or no hidden/probe.py)")
                continue
            ratio = found["median_s"] / BUDGET_S
            print(f"{name}: challenge median {found['median_s']:.1f} s "
                  f"(runs {', '.join(f'{t:.1f}' for t in found['times'])}), "
                  f"ratio to budget {ratio:.2f}; passed {found['passes']}/{args.repeat}")
            for s in found["scores"]:
                drop_fresh = (s["test"] - s["fresh"]) if None not in (s["test"], s["fresh"]) \
                    else None
                drop = (s["test"] - s["challenge"]) if None not in (s["test"], s["challenge"]) \
                    else None
                print(f"  {s['label']}: test split {_fmt(s['test'])}, fresh unshifted "
                      f"{_fmt(s['fresh'])} (drop {_fmt(drop_fresh)}), challenge "
                      f"{_fmt(s['challenge'])} (drop {_fmt(drop)})")


if __name__ == "__main__":
    main()
