"""Stage `ptq`: post-training quantization, the library's naive way and yours.

* naive (the baseline, torch.ao.quantization's own observers): one scale per
  weight tensor from its min and max, activation ranges from the min and max
  of `quantize.naive_batches` calibration batches. Saved as
  models/int8_naive.pt.
* yours (quantize.py): one scale per output channel, activation ranges from
  your observer on `quantize.calibration_batches` batches. Saved as
  models/int8_ptq.pt.

Both run on int8 kernels (engine.py). The stage also writes a calibration
table (observer x number of training batches, and uniform noise instead of
images, scored on the *validation* split: choose `quantize.observer` and
`quantize.calibration_batches` from it, never from the test split) and a sweep
over weight bits (metrics/bits.csv, plots/bits.png).
"""

from __future__ import annotations

import torch

from .common import learner_code, load_params, set_threads, write_csv, write_json
from .engine import build_int8, library_ptq, pick_engine, placeholder
from .evaluation import accuracy, drop, load_xy, seed_all
from .model import fold, load_fp32
from .plots import line_plot
from .scheme import calibrate, calibration_batches, make_spec

SWEEP_BITS = (8, 6, 5, 4, 3, 2)


def main() -> None:
    params = load_params()
    cfg = params["quantize"]
    set_threads(params)
    seed_all(params["seed"])
    engine = pick_engine(cfg["engine"])
    fp32 = load_fp32()
    folded, sizes = fold(fp32), fp32.sizes
    (x_train, _), (x_val, y_val), (x_test, y_test) = (load_xy(p) for p in ("train", "val", "test"))
    bits, act_bits, size = cfg["weight_bits"], cfg["activation_bits"], cfg["batch_size"]
    naive_batches = calibration_batches(x_train, cfg["naive_batches"], size)

    fp32_test = accuracy(folded, x_test, y_test)
    metrics: dict = {"engine": engine, "weight_bits": bits, "activation_bits": act_bits,
                     "fp32": {"accuracy": fp32_test,
                              "val_accuracy": accuracy(folded, x_val, y_val)}}
    naive = library_ptq(folded, naive_batches, sizes, bits, act_bits)
    torch.save(naive, "models/int8_naive.pt")
    naive_test = accuracy(build_int8(naive), x_test, y_test)
    metrics["naive"] = {"accuracy": naive_test, "accuracy_drop": drop(fp32_test, naive_test)}
    print(f"fp32 test accuracy {fp32_test:.4f}; naive {bits}-bit PTQ (per tensor, min-max, "
          f"{cfg['naive_batches']} batch): {naive_test:.4f} ({drop(fp32_test, naive_test):+.2f} "
          "points lost)")

    sweep = [{"bits": b, "fp32": fp32_test, "yours": None,
              "naive": accuracy(build_int8(library_ptq(folded, naive_batches, sizes, b, act_bits)),
                                x_test, y_test)} for b in SWEEP_BITS]

    todo: list[str] = []
    with learner_code(todo):
        everything = len(x_train) // size
        table = {}
        for method in ("minmax", "percentile"):
            for n in sorted({1, cfg["calibration_batches"], everything}):
                ranges = calibrate(folded, calibration_batches(x_train, n, size), method,
                                   cfg["percentile"])
                spec = make_spec(folded, ranges, sizes, bits, act_bits)
                table[f"{method}_{n}"] = accuracy(build_int8(spec), x_val, y_val)
        # Calibrating on data unlike the real inputs: uniform noise images.
        noise = torch.rand((cfg["calibration_batches"] * size, 1, 8, 8),
                           generator=torch.Generator().manual_seed(params["seed"]))
        ranges = calibrate(folded, list(noise.split(size)), "minmax")
        table[f"noise_minmax_{cfg['calibration_batches']}"] = accuracy(
            build_int8(make_spec(folded, ranges, sizes, bits, act_bits)), x_val, y_val)
        ranges = calibrate(folded, calibration_batches(x_train, cfg["calibration_batches"], size),
                           cfg["observer"], cfg["percentile"])
        spec = make_spec(folded, ranges, sizes, bits, act_bits, per_channel=True)
        per_tensor = make_spec(folded, ranges, sizes, bits, act_bits, per_channel=False)
        test = accuracy(build_int8(spec), x_test, y_test)
        metrics["ptq"] = {
            "accuracy": test, "accuracy_drop": drop(fp32_test, test),
            "val_accuracy": accuracy(build_int8(spec), x_val, y_val),
            "observer": cfg["observer"], "calibration_batches": cfg["calibration_batches"]}
        metrics["ptq_per_tensor"] = {
            "accuracy": (pt := accuracy(build_int8(per_tensor), x_test, y_test)),
            "accuracy_drop": drop(fp32_test, pt)}
        metrics["calibration_val_accuracy"] = table
        for row in sweep:
            swept = make_spec(folded, ranges, sizes, row["bits"], act_bits)
            row["yours"] = accuracy(build_int8(swept), x_test, y_test)
        torch.save(spec, "models/int8_ptq.pt")
        best = max((k for k in table if not k.startswith("noise")), key=table.get)
        print(f"your PTQ (per channel, {cfg['observer']}, {cfg['calibration_batches']} batches): "
              f"{test:.4f} ({drop(fp32_test, test):+.2f} points lost); per tensor with the "
              f"same ranges: {pt:.4f}. Best on validation: {best} ({table[best]:.4f})")
    if todo:
        torch.save(placeholder(todo), "models/int8_ptq.pt")
        metrics["not_implemented"] = todo
    write_json("metrics/ptq.json", metrics)
    write_csv("metrics/bits.csv", sweep)
    line_plot(sweep, "bits", [k for k in ("fp32", "naive", "yours") if k in sweep[0]],
              "plots/bits.png", title="Test accuracy against weight bits",
              xlabel="weight bits", ylabel="test accuracy")


if __name__ == "__main__":
    main()
