"""Stage `scaling`: does more synthetic data close the gap? Train the same CNN
on growing subsets of the curated training set and test each on the real digits.

The full-size point comes from the `train` and `evaluate` stages.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .cnn import DigitsCNN
from .common import (
    init_distributed,
    load_params,
    load_split,
    set_seed,
    set_threads,
    tensors,
    train_classifier,
    write_csv,
)
from .evaluate import accuracies


def main() -> None:
    params = load_params()
    cfg = params["train"]
    set_threads(params)
    dist = init_distributed()
    train = load_split("data/prepared/train.npz")
    val = load_split("data/prepared/val.npz")
    order = np.random.default_rng(params["seed"]).permutation(len(train["y"]))
    rows = []
    for size in sorted(s for s in params["scaling"]["sizes"] if s < len(order)):
        set_seed(params["seed"])
        subset = order[:size]
        model, _ = train_classifier(
            DigitsCNN(cfg["channels"]), tensors(train["x"][subset], train["y"][subset]),
            tensors(val["x"], val["y"]), epochs=cfg["epochs"], lr=cfg["lr"],
            batch_size=cfg["batch_size"], weight_decay=cfg.get("weight_decay", 0.0),
            seed=params["seed"], dist=dist)
        rows.append({"train_size": size, **accuracies(model, dist.device)})
        print(f"{size:>5} synthetic examples: real accuracy {rows[-1]['real_acc']:.3f}")
    full = json.loads(Path("metrics/evaluate.json").read_text(encoding="utf-8"))
    rows.append({"train_size": len(order), "synthetic_val_acc": full["synthetic_val_acc"],
                 "real_acc": full["real_acc"]})
    write_csv("metrics/scaling.csv", rows)


if __name__ == "__main__":
    main()
