"""Stage `baselines`: what *real* data would have given, as reference points.

The same CNN, the same number of optimiser steps, trained on real digits from
the pool instead of synthetic ones: ``k`` per class for each ``k`` in
``baselines.per_class`` (the few-shot baselines), the largest being the whole
pool (the real-data oracle). Each over every seed (a different sample of the
pool per seed), reported on the locked test split.

These do not depend on your generator: DVC runs this stage once and keeps
the result while you iterate.
"""

from __future__ import annotations

import numpy as np

from .common import load_params, write_json
from .fit import Recipe, accuracy, mean_sd, train, warm_up
from .parallel import limit_threads, run_all
from .real import locked_test, pool


def few_shot_indices(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """``per_class`` examples of each digit, drawn with ``seed``."""
    rng = np.random.default_rng([seed, per_class])
    return np.sort(np.concatenate([
        rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]))


def _fit(x, y, recipe, seed):
    return train(x, y, recipe, seed)[0]


def main() -> None:
    params = load_params()
    limit_threads(params.get("threads"))
    recipe = Recipe.from_params(params["train"])
    pool_x, pool_y = pool()
    test_x, test_y = locked_test()
    seeds = [params["seed"] + i for i in range(params["train"]["seeds"])]
    sizes = sorted(params["baselines"]["per_class"])
    jobs, keys = [], []
    for k in sizes:
        for seed in seeds:
            idx = few_shot_indices(pool_y, k, seed)
            jobs.append((pool_x[idx], pool_y[idx], recipe, seed))
            keys.append(k)
    models = run_all(_fit, jobs, params.get("workers", 1), warm_up=warm_up)
    by_size: dict[int, list[float]] = {k: [] for k in sizes}
    for k, state in zip(keys, models, strict=True):
        by_size[k].append(accuracy(state, test_x, test_y))
    metrics = {"steps": recipe.steps,
               "few_shot": {str(10 * k): mean_sd(by_size[k]) for k in sizes},
               "oracle": {"real_examples": 10 * sizes[-1], **mean_sd(by_size[sizes[-1]])}}
    write_json("metrics/baselines.json", metrics)
    for k in sizes:
        mean = metrics["few_shot"][str(10 * k)]["mean"]
        print(f"{10 * k:>4} real digits: test accuracy {mean:.3f}")


if __name__ == "__main__":
    main()
