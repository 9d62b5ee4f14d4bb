"""Stage `ablation`: which randomisation factors earned the accuracy?

For every factor switched on in ``generate.factors`` (and ``jitter`` and
``colour``, which the template draws), render the data again without it,
train the same CNN over every seed, and measure on the real dev digits:

* ``drop``: accuracy with every factor minus accuracy without this one,
  paired by seed (mean and spread). Positive: the factor earns its place.
* ``reach``: the share of the model's input pixels (8x8) that the factor
  changes, on the same digits with the same random draws. A factor that
  changes (almost) nothing there cannot teach the model anything: train on
  what it changes, or drop it.
* ``domain_auc``: how well a classifier tells these synthetic digits from
  real dev digits (``gap.py``); it falls as the generator gets closer to
  real handwriting.

Plus the two ends: every factor (``all``) and none (``none``). The renders
here are clean (no defects): this stage is about the factors, ``train``
measures the curation.
"""

from __future__ import annotations

import numpy as np

from .common import load_params, write_json
from .fit import Recipe, accuracy, mean_sd, train, warm_up
from .gap import domain_auc
from .generate import render_many, usable_factors
from .parallel import limit_threads, run_all
from .plots import plot_bars
from .real import dev

#: factors the template draws itself (glyphs.py), with the value that turns them off
TEMPLATE_FACTORS = {"jitter": 0.0, "colour": 0.0}


def conditions(cfg: dict) -> dict[str, dict]:
    """Generator settings: all factors, none, and all but each one that is on."""
    strengths = {**{k: v for k, v in cfg["factors"].items() if k != "elastic_sigma"},
                 **{k: cfg[k] for k in TEMPLATE_FACTORS}}
    on = [name for name, s in strengths.items() if s]

    def without(names) -> dict:
        settings = {**cfg, "factors": dict(cfg["factors"])}
        for name in names:
            if name in TEMPLATE_FACTORS:
                settings[name] = TEMPLATE_FACTORS[name]
            else:
                settings["factors"][name] = 0
        return settings

    return {"all": without([]), "none": without(on), **{f"-{n}": without([n]) for n in on}}


def reach(a: np.ndarray, b: np.ndarray) -> float:
    """The share of 8x8 input pixels that differ between two paired renders."""
    return float((np.abs(a - b) > 1e-6).mean())


def _fit(x, y, recipe, seed):
    return train(x, y, recipe, seed)[0]


def main() -> None:
    params = load_params()
    limit_threads(params.get("threads"))
    cfg, abl = params["generate"], params["ablation"]
    todo: list[str] = []
    cfg = {**cfg, "factors": usable_factors(cfg["factors"], todo)}
    recipe = Recipe.from_params(params["train"], steps=abl["steps"])
    seeds = [params["seed"] + i for i in range(params["train"]["seeds"])]
    workers = params.get("workers", 1)
    settings = conditions(cfg)
    names = list(settings)
    # Conditions with the same settings (with one factor on, "none" is "-it")
    # are rendered and trained once.
    same = {n: next(m for m in names if settings[m] == settings[n]) for n in names}
    unique = [n for n in names if same[n] == n]
    data = render_many({n: settings[n] for n in unique}, abl["n"], params["seed"], workers)
    data = {n: data[same[n]] for n in names}
    jobs = [(data[n]["x"], data[n]["y"], recipe, s) for n in unique for s in seeds]
    models = run_all(_fit, jobs, workers, warm_up=warm_up)
    dev_x, dev_y = dev()
    acc = {n: [accuracy(models[i * len(seeds) + j], dev_x, dev_y) for j in range(len(seeds))]
           for i, n in enumerate(unique)}
    acc = {n: acc[same[n]] for n in names}
    results: dict = {}
    for n in names:
        row = {"dev_acc": mean_sd(acc[n]),
               "domain_auc": round(domain_auc(data[n]["x"], dev_x, params["seed"]), 4)}
        if n.startswith("-"):
            row["drop"] = mean_sd(list(np.subtract(acc["all"], acc[n])))
            row["reach"] = round(reach(data["all"]["x"], data[n]["x"]), 4)
        results[n] = row
    factors = [n[1:] for n in names if n.startswith("-")]
    metrics = {
        "conditions": results,
        "factors": len(factors),
        "gain": mean_sd(list(np.subtract(acc["all"], acc["none"]))),
        "domain_auc_fall": round(results["none"]["domain_auc"] - results["all"]["domain_auc"], 4),
    }
    if factors:
        weakest = min(factors, key=lambda f: results[f"-{f}"]["reach"])
        metrics["reach"] = {"min": results[f"-{weakest}"]["reach"], "weakest": weakest}
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/ablation.json", metrics)
    plot_bars(names, [results[n]["dev_acc"]["mean"] for n in names],
              [results[n]["dev_acc"]["sd"] for n in names], "plots/ablation.png",
              ylabel="real dev accuracy", title="Without each factor (mean ± sd over seeds)")
    for n in names:
        extra = (f", drop {results[n]['drop']['mean']:+.3f}, reach {results[n]['reach']:.3f}"
                 if n.startswith("-") else "")
        print(f"{n:>10}: dev {results[n]['dev_acc']['mean']:.3f} ± "
              f"{results[n]['dev_acc']['sd']:.3f}, domain AUC {results[n]['domain_auc']:.3f}"
              f"{extra}")


if __name__ == "__main__":
    main()
