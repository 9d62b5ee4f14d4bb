"""Stage `train`: the CNN on synthetic data only, once per seed; and the same
trainings on the *uncurated* data, to measure what curation is worth.

Both are judged on the real dev digits (never the locked test split), with
the mean and spread over seeds: a difference smaller than the spread is not
a difference.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .common import load_params, load_split, save_torch, write_json
from .fit import Recipe, accuracy, mean_sd, train, warm_up
from .parallel import limit_threads, run_all
from .real import dev, real_copies


def seeds_of(params: dict) -> list[int]:
    return [params["seed"] + i for i in range(params["train"]["seeds"])]


def refuse_real_digits(x: np.ndarray) -> None:
    """Stop if training data holds (near) copies of real digits."""
    copies = real_copies(x)
    if any(copies.values()):
        found = ", ".join(f"{n} of the real {name} split" for name, n in copies.items() if n)
        raise SystemExit(f"error: the synthetic training data holds copies of real digits "
                         f"({found}): a model trained on them is not trained on synthetic "
                         f"data, and one trained on test digits measures nothing. Remove them "
                         f"from generate/curate.")


def _fit(x, y, recipe, seed, watch, name, record, checkpoints):
    return train(x, y, recipe, seed, watch=watch, name=name, record=record,
                 checkpoints=checkpoints)


def main() -> None:
    params = load_params()
    limit_threads(params.get("threads"))
    recipe = Recipe.from_params(params["train"])
    tr, val = load_split("data/prepared/train.npz"), load_split("data/prepared/val.npz")
    raw = load_split("data/synthetic/dataset.npz")
    refuse_real_digits(np.concatenate([raw["x"], tr["x"]]))
    dev_x, dev_y = dev()
    seeds = seeds_of(params)
    # Progress for every seed; DVCLive's record and plots/train_curves.png for the first.
    watch = {"val": (val["x"], val["y"]), "dev": (dev_x, dev_y)}
    curated = [(tr["x"], tr["y"], recipe, s, watch, "train" if i == 0 else f"train-seed{s}",
                i == 0, params["train"]["checkpoints"]) for i, s in enumerate(seeds)]
    curation = json.loads(Path("metrics/curation.json").read_text(encoding="utf-8"))
    # The same trainings on the uncurated data, once there is a curation to
    # judge (until curate.py is written, both datasets are the same renders).
    curating = "not_implemented" not in curation
    uncurated = [(raw["x"], raw["y"], recipe, s, None, "", False, 0)
                 for s in (seeds if curating else [])]
    results = run_all(_fit, curated + uncurated, params.get("workers", 1), warm_up=warm_up)
    models, curves = zip(*results[:len(seeds)], strict=True)
    for i, state in enumerate(models):  # model{i}.pt was trained with seed + i
        save_torch(state, f"models/synthetic/model{i}.pt")
    dev_acc = [accuracy(m, dev_x, dev_y) for m in models]
    metrics = {
        "seeds": len(seeds),
        "steps": recipe.steps,
        "dev_acc": mean_sd(dev_acc),
        "synthetic_val_acc": mean_sd([c[-1]["val_acc"] for c in curves]),
    }
    if curating:
        raw_acc = [accuracy(m, dev_x, dev_y) for m, _ in results[len(seeds):]]
        metrics["uncurated_dev_acc"] = mean_sd(raw_acc)
        # Paired by seed: the same seed's curated minus uncurated accuracy.
        metrics["curation_effect"] = mean_sd(list(np.subtract(dev_acc, raw_acc)))
    else:
        metrics["not_implemented"] = curation["not_implemented"]
    write_json("metrics/train.json", metrics)
    raw = (f"uncurated data: {metrics['uncurated_dev_acc']['mean']:.3f}" if curating
           else "no curation to compare yet: write curate.py")
    print(f"real dev accuracy {metrics['dev_acc']['mean']:.3f} ± {metrics['dev_acc']['sd']:.3f} "
          f"over {len(seeds)} seeds ({raw})")


if __name__ == "__main__":
    main()
