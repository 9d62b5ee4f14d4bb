"""Stage `train`: the CNN on synthetic data only, once per seed; and the same
trainings on the *uncurated* data, to measure what curation is worth.

Both are judged on the real dev digits (never the locked test split), with
the mean and spread over seeds: a difference smaller than the spread is not
a difference.

Curation is judged on the cross-entropy of the real dev digits, not only
their accuracy. Wrong labels teach a model to hedge: trained on 7s of which
some are called 1, it learns to give "1" some probability on every 7. That
costs little accuracy (the 7 usually still wins), but the cross-entropy sees
the probability on the right digit. Measured on the reference over three
project seeds: accuracy +0.019, -0.003, +0.004 (spread 0.012-0.020 between
training seeds: three seeds cannot tell), cross-entropy 0.204, 0.124, 0.161
nats lower (spread 0.008-0.043: they can).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .common import load_params, load_split, save_torch, write_json
from .fit import Recipe, accuracy, log_loss, mean_sd, train, warm_up
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
    dev_loss = [log_loss(m, dev_x, dev_y) for m in models]
    metrics = {
        "seeds": len(seeds),
        "steps": recipe.steps,
        "dev_acc": mean_sd(dev_acc),
        "dev_log_loss": mean_sd(dev_loss),
        "synthetic_val_acc": mean_sd([c[-1]["val_acc"] for c in curves]),
    }
    if curating:
        raw_models = [m for m, _ in results[len(seeds):]]
        raw_acc = [accuracy(m, dev_x, dev_y) for m in raw_models]
        raw_loss = [log_loss(m, dev_x, dev_y) for m in raw_models]
        metrics["uncurated_dev_acc"] = mean_sd(raw_acc)
        metrics["uncurated_dev_log_loss"] = mean_sd(raw_loss)
        # Paired by seed: the same seed's curated minus uncurated accuracy,
        # and how much lower the curated model's cross-entropy is.
        metrics["curation_effect"] = mean_sd(list(np.subtract(dev_acc, raw_acc)))
        metrics["curation_log_loss_drop"] = mean_sd(list(np.subtract(raw_loss, dev_loss)))
    else:
        metrics["not_implemented"] = curation["not_implemented"]
    write_json("metrics/train.json", metrics)
    report(metrics, curating)


def report(metrics: dict, curating: bool) -> None:
    """Two lines: accuracy and cross-entropy on the real dev digits, each
    against the uncurated data's (once there is a curation to judge)."""
    def line(what: str, key: str) -> str:
        ours = f"real dev {what} {metrics[key]['mean']:.3f} ± {metrics[key]['sd']:.3f}"
        if not curating:
            return ours
        return f"{ours}; uncurated data: {metrics['uncurated_' + key]['mean']:.3f}"
    print(line("accuracy", "dev_acc") + f" (over {metrics['seeds']} seeds)"
          + ("" if curating else "; no curation to compare yet: write curate.py"))
    print(line("cross-entropy (nats)", "dev_log_loss"))


if __name__ == "__main__":
    main()
