"""Stage `scaling`: does *more* synthetic data help, or only *better* data?

The same CNN trained for the same number of optimiser steps on growing
subsets of the curated training set (``scaling.sizes``), over every seed,
measured on the real dev digits. The full set's point comes from `train`
(same steps, same seeds).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .common import load_params, load_split, write_csv, write_json
from .fit import Recipe, accuracy, mean_sd, train, warm_up
from .parallel import limit_threads, run_all
from .plots import plot_lines
from .real import dev


def _fit(x, y, recipe, seed):
    return train(x, y, recipe, seed)[0]


def main() -> None:
    params = load_params()
    limit_threads(params.get("threads"))
    recipe = Recipe.from_params(params["train"])
    tr = load_split("data/prepared/train.npz")
    seeds = [params["seed"] + i for i in range(params["train"]["seeds"])]
    sizes = sorted(s for s in params["scaling"]["sizes"] if s < len(tr["y"]))
    order = np.random.default_rng(params["seed"]).permutation(len(tr["y"]))
    jobs = [(tr["x"][order[:n]], tr["y"][order[:n]], recipe, s) for n in sizes for s in seeds]
    models = run_all(_fit, jobs, params.get("workers", 1), warm_up=warm_up)
    dev_x, dev_y = dev()
    full = json.loads(Path("metrics/train.json").read_text(encoding="utf-8"))["dev_acc"]
    rows = []
    for i, n in enumerate(sizes):
        accs = [accuracy(m, dev_x, dev_y) for m in models[i * len(seeds):(i + 1) * len(seeds)]]
        rows.append({"train_size": n, **{k: v for k, v in mean_sd(accs).items() if k != "seeds"}})
    rows.append({"train_size": len(tr["y"]), "mean": full["mean"], "sd": full["sd"]})
    write_csv("metrics/scaling.csv", [{"train_size": r["train_size"], "real_dev_acc": r["mean"],
                                       "sd": r["sd"]} for r in rows])
    write_json("metrics/scaling.json", {"steps": recipe.steps,
                                        "smallest": rows[0], "largest": rows[-1],
                                        "gain": round(rows[-1]["mean"] - rows[0]["mean"], 4)})
    plot_lines({"real dev accuracy": ([r["train_size"] for r in rows],
                                      [r["mean"] for r in rows], [r["sd"] for r in rows])},
               "plots/scaling.png", xlabel="synthetic training examples (equal steps)",
               ylabel="accuracy", title="More synthetic data, same optimiser steps", logx=True)
    for r in rows:
        print(f"{r['train_size']:>5} synthetic digits: real dev {r['mean']:.3f} ± {r['sd']:.3f}")


if __name__ == "__main__":
    main()
