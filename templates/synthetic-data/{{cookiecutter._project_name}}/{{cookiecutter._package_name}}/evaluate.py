"""Stage `evaluate`: the synthetic models on the locked real test split, and
what they are worth in real digits.

* ``test.accuracy``: the mean over seeds of the synthetic-only models'
  accuracy on the locked test split (with the spread): the goal. Reported,
  never tuned on: everything you decide, decide on the dev digits.
* ``worth_real``: how many real digits (few-shot baselines, same CNN, same
  steps) reach the same test accuracy as your synthetic data.
* ``finetune``: each synthetic model fine-tuned on ``finetune.per_class``
  real digits per class from the pool, against those real digits alone.
* ``dev``: accuracy per digit and the confusion matrix on the *dev* digits:
  where to look when you improve the generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .baselines import few_shot_indices
from .common import load_params, write_csv, write_json
from .fit import Recipe, accuracy, load, mean_sd, predict, train, warm_up
from .parallel import limit_threads, run_all
from .real import dev, locked_test, pool


def worth_in_real(acc: float, curve: dict[str, float]) -> tuple[float, str]:
    """The number of real digits whose few-shot accuracy equals ``acc``,
    interpolated linearly in log(number) between the measured sizes; with
    "below"/"above" when ``acc`` is outside the measured range."""
    sizes = sorted(curve, key=int)
    ns = np.array([int(s) for s in sizes], dtype=float)
    accs = np.maximum.accumulate([curve[s] for s in sizes])  # a curve that never falls
    if acc <= accs[0]:
        return float(ns[0]), "below"
    if acc >= accs[-1]:
        return float(ns[-1]), "above"
    i = int(np.searchsorted(accs, acc))
    lo, hi = np.log(ns[i - 1]), np.log(ns[i])
    share = (acc - accs[i - 1]) / max(accs[i] - accs[i - 1], 1e-9)
    return float(np.exp(lo + share * (hi - lo))), ""


def _finetune(state, x, y, recipe, seed):
    return train(x, y, recipe, seed, init=state)[0]


def main() -> None:
    params = load_params()
    limit_threads(params.get("threads"))
    seeds = [params["seed"] + i for i in range(params["train"]["seeds"])]
    models = [load(f"models/synthetic/model{i}.pt") for i in range(len(seeds))]
    test_x, test_y = locked_test()
    dev_x, dev_y = dev()
    baselines = json.loads(Path("metrics/baselines.json").read_text(encoding="utf-8"))

    # Fine-tune first: the worker processes start before this one computes anything.
    cfg = params["finetune"]
    recipe = Recipe.from_params(params["train"], steps=cfg["steps"], lr=cfg["lr"])
    pool_x, pool_y = pool()
    picks = [few_shot_indices(pool_y, cfg["per_class"], s) for s in seeds]
    tuned = run_all(_finetune, [(m, pool_x[i], pool_y[i], recipe, s)
                                for m, i, s in zip(models, picks, seeds, strict=True)],
                    params.get("workers", 1), warm_up=warm_up)
    tuned_acc = mean_sd([accuracy(m, test_x, test_y) for m in tuned])
    alone = baselines["few_shot"].get(str(10 * cfg["per_class"]))

    test_acc = mean_sd([accuracy(m, test_x, test_y) for m in models])
    curve = {n: v["mean"] for n, v in baselines["few_shot"].items()}
    worth, bound = worth_in_real(test_acc["mean"], curve)

    dev_pred = np.stack([predict(m, dev_x) for m in models])
    per_class = {str(c): round(float((dev_pred[:, dev_y == c] == c).mean()), 4)
                 for c in range(10)}
    metrics = {
        "test": {**test_acc, "accuracy": test_acc["mean"], "examples": len(test_y)},
        "dev": {"accuracy": round(float((dev_pred == dev_y).mean()), 4), "per_class": per_class},
        "worth_real": {"examples": round(worth, 1), "bound": bound},
        "oracle": baselines["oracle"]["mean"],
        "finetune": {"real_examples": 10 * cfg["per_class"], "accuracy": tuned_acc["mean"],
                     "sd": tuned_acc["sd"],
                     **({"real_alone": alone["mean"],
                         "gain": round(tuned_acc["mean"] - alone["mean"], 4)} if alone else {})},
    }
    write_json("metrics/evaluate.json", metrics)
    write_csv("metrics/dev_predictions.csv",
              [{"actual": int(a), "predicted": int(p)} for a, p in zip(dev_y, dev_pred[0],
                                                                     strict=True)])
    print(f"locked test accuracy {test_acc['mean']:.3f} ± {test_acc['sd']:.3f} over "
          f"{len(seeds)} seeds; worth {worth:.0f} real digits{f' ({bound})' if bound else ''}; "
          f"oracle ({baselines['oracle']['real_examples']} real) {metrics['oracle']:.3f}; "
          f"fine-tuned on {10 * cfg['per_class']} real {tuned_acc['mean']:.3f}")


if __name__ == "__main__":
    main()
