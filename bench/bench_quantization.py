"""Benchmark and figures for the `quantization` template, measured in one run.

    python bench/bench_quantization.py [--seeds 42 0 1] [--repro]
    python bench/bench_quantization.py --seeds --repro    # the repro times only

For each seed: a project made with that seed, the reference solution written
over the learner files, and its stages run in order (prepare, train, ptq,
qat, prune, export, latency: the commands in dvc.yaml), then dlpath's probe
on fresh data. Prints, per seed and as mean/min/max: the naive PTQ drop, your
(reference) PTQ and QAT drops, the int8 batch-1 and batch-64 latency ratios,
the pruned model's accuracy drop and batch-1 and batch-64 latency ratios, and ONNX
Runtime's agreement with PyTorch's int8 model; and the challenge (the
shifted images `dlpath challenge` draws): fp32 and int8 accuracy there, and
the points int8 loses to fp32 on them.

With --repro it also times `dvc repro` of a fresh project and of the
reference solution (the issue's budgets: 60 s and 120 s on an idle 2-core
machine): wall time, and the CPU time of the processes it ran (close to the
wall time on an idle machine, as every stage runs on one thread); say how
busy the machine was (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import bench_env, load, repro, timed

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("prepare", "train", "ptq", "qat", "prune", "export", "latency")


def make(where: Path, seed: int, solved: bool) -> Path:
    from dlpath import scaffold, solutions

    root = scaffold.create_project("quantization", "proj", where, params={"seed": str(seed)}).path
    if solved:
        solutions.apply_reference(root)
    return root


def run_stages(root: Path, env: dict) -> dict[str, float]:
    return {stage: timed([sys.executable, "-m", f"proj.{stage}"], root, env)[0]
            for stage in STAGES}


def probe(root: Path, seed: int, challenge: bool = False) -> dict:
    sys.path.insert(0, str(ROOT / "templates" / "quantization" / "hidden"))
    import probe as p

    return p.measure(root, seed, challenge)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[42, 0, 1])
    parser.add_argument("--repro", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dlpath-bench-quant-"))
    env = bench_env(work)
    os.environ.update({k: env[k] for k in ("HOME", "DLPATH_HOME", "DVC_NO_ANALYTICS")})
    rows = []
    for seed in args.seeds:
        root = make(work / f"seed{seed}", seed, solved=True)
        stage_times = run_stages(root, env)
        m = {name: json.loads((root / "metrics" / f"{name}.json").read_text())
             for name in ("ptq", "qat", "prune", "onnx")}
        fresh = probe(root, 1000 + seed)
        shifted = probe(root, 1000 + seed, challenge=True)  # what `dlpath challenge` draws
        rows.append({
            "seed": seed,
            "naive_drop": m["ptq"]["naive"]["accuracy_drop"],
            "ptq_drop": m["ptq"]["ptq"]["accuracy_drop"],
            "qat_drop": m["qat"]["int8"]["accuracy_drop"],
            "probe_naive_drop": fresh["naive.accuracy_drop"],
            "probe_ptq_drop": fresh["ptq.accuracy_drop"],
            "probe_qat_drop": fresh["int8.accuracy_drop"],
            "int8_b1": fresh["int8.latency_ratio_b1"], "int8_b64": fresh["int8.latency_ratio_b64"],
            "pruned_drop": fresh["pruned.accuracy_drop"],
            "pruned_b1": fresh["pruned.latency_ratio_b1"],
            "pruned_b64": fresh["pruned.latency_ratio_b64"],
            "onnx_agreement": fresh["onnx.agreement"],
            "onnx_max_logit_error": fresh["onnx.max_logit_error"],
            "fp32_acc": fresh["fp32.accuracy"], "int8_acc": fresh["int8.accuracy"],
            "challenge_fp32_acc": shifted["fp32.accuracy"],
            "challenge_int8_acc": shifted["int8.accuracy"],
            "challenge_int8_drop": shifted["int8.accuracy_drop"],
            "stage_s": round(sum(stage_times.values()), 1)})
        print(json.dumps(rows[-1]), flush=True)
    if rows:
        print(f"over seeds {args.seeds} (load average {load():.1f}):")
    for k in [k for k in rows[0] if k != "seed"] if rows else []:
        values = [r[k] for r in rows]
        print(f"  {k:<22} mean {statistics.mean(values):8.3f}  min {min(values):8.3f}  "
              f"max {max(values):8.3f}")
    if args.repro:
        for solved in (False, True):
            root = make(work / f"repro{int(solved)}", 42, solved)
            wall, cpu = repro(root, env)
            label = "reference" if solved else "fresh"
            # CPU seconds are what the run costs on an idle machine (the stages
            # run one thread each, one after the other); wall time adds waiting.
            print(f"dvc repro, {label}: {wall:.1f} s wall, {cpu:.1f} s CPU "
                  f"(load average {load():.1f})")


if __name__ == "__main__":
    main()
