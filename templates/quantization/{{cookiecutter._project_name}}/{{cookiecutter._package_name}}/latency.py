"""Stage `latency`: a latency study of every variant, not one number.

Every model this pipeline made (fp32, the naive and your int8 models, the
pruned model, and their ONNX Runtime versions) is timed

* at batch 1 (one image at a time: an edge device answering requests, where
  per-call overheads weigh most) and at a larger batch (throughput);
* on one thread and on all of this machine's cores;

as the median of `latency.repeats` interleaved runs after a warm-up, with
the interquartile range (timing.py says why). Ratios are against fp32 in the
same setting, measured in the same run. A setting stops early after
`latency.budget_s` seconds (`settings.runs` says how many runs it took):
on a busy machine, all threads can be a hundred times slower than one.
It also scores each variant's test accuracy and size, for the
accuracy/size/latency trade-off:
metrics/pareto.csv (`dvc plots show`) and plots/pareto.png.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import torch

from .common import load_params, write_csv, write_json
from .engine import build_int8, is_placeholder, pick_engine, serialized_bytes
from .evaluation import load_xy, logits, seed_all
from .export import OUT, run_session, session
from .model import EdgeNet, fold, load_fp32
from .plots import pareto_plot
from .timing import summary, time_interleaved


def torch_variants() -> dict[str, torch.nn.Module]:
    """The PyTorch models the pipeline has made so far (CPU, eval mode). The
    fp32 models are BatchNorm-folded, as you would deploy them (and as the
    int8 ones are): folding alone saves time, which int8 should not get
    credit for."""
    models: dict[str, torch.nn.Module] = {"fp32": fold(load_fp32())}
    for name in ("int8_naive", "int8_ptq", "int8"):
        spec = torch.load(f"models/{name}.pt", weights_only=True)
        if not is_placeholder(spec):
            models[name] = build_int8(spec)
    pruned = torch.load("models/pruned.pt", weights_only=True)
    if not is_placeholder(pruned):
        models["pruned"] = fold(EdgeNet.from_state_dict(pruned))
    return models


def main() -> None:
    params = load_params()
    cfg = params["latency"]
    seed_all(params["seed"])
    engine = pick_engine(params["quantize"]["engine"])
    x_test, y_test = load_xy("test")
    models = torch_variants()
    onnx_files = {f"onnx_{p.stem}": p for p in sorted(OUT.glob("*.onnx"))}
    all_threads = max(1, os.cpu_count() or 1)
    thread_counts = sorted({1, all_threads})

    rows, runs = {}, {}
    for name, model in models.items():
        preds = logits(model, x_test).argmax(1)
        rows[name] = {"variant": name, "runtime": "pytorch", "size_bytes": serialized_bytes(model),
                      "accuracy": round(float((preds == y_test).float().mean()), 5)}
    sessions = {(name, t): session(path, t) for name, path in onnx_files.items()
                for t in thread_counts}
    for name, path in onnx_files.items():
        preds = run_session(sessions[(name, 1)], x_test).argmax(1)
        rows[name] = {"variant": name, "runtime": "onnxruntime", "size_bytes": path.stat().st_size,
                      "accuracy": round(float((preds == y_test).float().mean()), 5)}

    for batch_size in cfg["batch_sizes"]:
        batch = x_test.repeat(batch_size // len(x_test) + 1, 1, 1, 1)[:batch_size]
        for threads in thread_counts:
            torch.set_num_threads(threads)
            fns = {name: (lambda m=model, b=batch: m(b)) for name, model in models.items()}
            fns.update({name: (lambda s=sessions[(name, threads)], b=batch: run_session(s, b))
                        for name in onnx_files})
            with torch.inference_mode():
                times = time_interleaved(fns, repeats=cfg["repeats"], warmup=cfg["warmup"],
                                         budget_s=cfg["budget_s"])
            setting = f"b{batch_size}_t{threads}"
            runs[setting] = len(times["fp32"])
            base = statistics.median(times["fp32"])
            for name, seconds in times.items():
                s = summary(seconds)
                rows[name][f"{setting}_ms"] = s["median_ms"]
                rows[name][f"{setting}_iqr_ms"] = s["iqr_ms"]
                rows[name][f"{setting}_ratio"] = round(statistics.median(seconds) / base, 4)

    fp32_size = rows["fp32"]["size_bytes"]
    for row in rows.values():
        row["size_ratio"] = round(row["size_bytes"] / fp32_size, 4)
    metrics = {"settings": {"engine": engine, "batch_sizes": cfg["batch_sizes"],
                            "threads": thread_counts, "repeats": cfg["repeats"],
                            "warmup": cfg["warmup"], "runs": runs},
               **{name: {k: v for k, v in row.items() if k not in ("variant", "runtime")}
                  for name, row in rows.items()}}
    write_json("metrics/latency.json", metrics)
    first = f"b{min(cfg['batch_sizes'])}_t1_ms"
    table = [{"variant": r["variant"], "accuracy": r["accuracy"], "size_bytes": r["size_bytes"],
              "latency_b1_ms": r[first]} for r in rows.values()]
    write_csv("metrics/pareto.csv", table)
    Path("plots").mkdir(exist_ok=True)
    pareto_plot(table, "plots/pareto.png", latency_key="latency_b1_ms",
                title="Accuracy, size (marker area) and batch-1 latency, 1 thread")
    big = max(cfg["batch_sizes"])
    print(f"{'variant':<16}{'accuracy':>9}{'size':>7}" + "".join(
        f"{f'b{b} t{t}':>14}" for b in cfg["batch_sizes"] for t in thread_counts))
    for r in rows.values():
        cells = "".join(f"{r[f'b{b}_t{t}_ratio']:>13.2f}x" for b in cfg["batch_sizes"]
                        for t in thread_counts)
        print(f"{r['variant']:<16}{r['accuracy']:>9.4f}{r['size_ratio']:>6.2f}x{cells}")
    print(f"(latency as a ratio to fp32 in the same setting; batch {big} is throughput; "
          "medians and IQRs in metrics/latency.json)")


if __name__ == "__main__":
    main()
