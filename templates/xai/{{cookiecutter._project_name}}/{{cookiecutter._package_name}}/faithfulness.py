"""Stage `faithfulness`: do the pixels an explanation ranks first really
drive the model's answer, *more than a guess that needs no model*?

Deletion (Petsiuk et al., 2018, RISE): erase pixels (set them to 0, the
background) in the order an explanation ranks them, most important first,
and follow the probability of the predicted class; a faithful ranking makes
it fall fast, so the area under the curve is small. Insertion: start from a
blank image and paint the pixels back in the same order; the probability
should rise fast (large area).

On digits both tests are easy to "pass" without a model: erasing the
brightest pixels first erases the digit, and any model gives up. So every
explanation is compared with controls, on the same images:

* ``intensity``: brightest pixels first (no model at all);
* ``random_ink``: the ink pixels in random order, then the background (no
  model either);
* ``randomised_model``: the same method applied to the network with every
  weight re-initialised (a model, but one that learned nothing);
* ``random``: every pixel in random order.

An explanation is faithful here when it beats the best model-free control
by a margin, on both tests, on every one of ``faithfulness.seeds`` draws of
test images (and of the controls' random choices): a margin that holds over
seeds, not a lucky draw.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .attribution import LAYERS, explainers, load_model, randomised  # noqa: E402
from .common import (  # noqa: E402
    load_params,
    load_split,
    pick_device,
    set_seed,
    set_threads,
    write_csv,
    write_json,
)
from .figures import save  # noqa: E402

MODEL_FREE = ("intensity", "random_ink")
CONTROLS = (*MODEL_FREE, "random")


def order_by(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pixel indices of each example, highest score first, ties in random order."""
    flat = np.asarray(scores, dtype=np.float64).reshape(len(scores), -1)
    return np.lexsort((rng.random(flat.shape), -flat), axis=-1)


def control_scores(name: str, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scores by which a control ranks the pixels (ties broken at random later)."""
    flat = x.reshape(len(x), -1)
    if name == "intensity":
        return flat
    if name == "random_ink":
        return (flat > 0) + rng.random(flat.shape)  # every ink pixel before the background
    if name == "random":
        return rng.random(flat.shape)
    raise ValueError(f"unknown control {name!r}")


@torch.no_grad()
def curve(model, x: torch.Tensor, target: torch.Tensor, order: np.ndarray, steps: int,
          insertion: bool = False) -> np.ndarray:
    """Probability of ``target`` after erasing (deletion) or painting back
    (insertion) the first k pixels of ``order``, for k = 0, 1/steps, ..., all
    of them: an array (N, steps + 1)."""
    device = next(model.parameters()).device
    flat = x.flatten(1)
    index = torch.as_tensor(order)
    probs = []
    for step in range(steps + 1):
        k = round(flat.shape[1] * step / steps)
        chosen = index[:, :k]
        if insertion:
            image = torch.zeros_like(flat).scatter_(1, chosen, flat.gather(1, chosen))
        else:
            image = flat.clone().scatter_(1, chosen, 0.0)
        logits = model(image.view_as(x).to(device))
        probs.append(torch.softmax(logits, 1).gather(1, target.to(device).view(-1, 1)).cpu())
    return torch.cat(probs, dim=1).numpy()


def area(curves: np.ndarray) -> float:
    """Mean area under the curves over the fraction 0..1 (trapezoids)."""
    return float(((curves[:, 1:] + curves[:, :-1]) / 2).mean())


def run_seed(model, explain_list, x, target, seed: int, steps: int) -> dict:
    """{order name: {"deletion": curves, "insertion": curves}} for one draw."""
    rng = np.random.default_rng(seed)
    scores = {name: control_scores(name, x.numpy(), rng) for name in CONTROLS}
    random_model = randomised(model, LAYERS, seed)
    for ex in explain_list:
        scores[ex.key] = ex(model, x, target).numpy()
        scores[f"{ex.key}@randomised_model"] = ex(random_model, x, target).numpy()
    out = {}
    for name, s in scores.items():
        order = order_by(s, rng)
        out[name] = {"deletion": curve(model, x, target, order, steps),
                     "insertion": curve(model, x, target, order, steps, insertion=True)}
    return out


def plot(curves_by_seed: list[dict], labels: dict, steps: int, path: Path) -> None:
    fraction = np.linspace(0, 1, steps + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    styles = {"intensity": ("grey", "--"), "random_ink": ("tab:brown", "--"),
              "random": ("black", ":")}
    colours = iter(["tab:red", "tab:blue", "tab:green", "tab:purple"])
    for name in curves_by_seed[0]:
        if name in styles:
            colour, style = styles[name]
        elif name.endswith("@randomised_model"):
            colour, style = "tab:orange", "-."
        else:
            colour, style = next(colours), "-"
        for ax, test in zip(axes, ("deletion", "insertion"), strict=True):
            per_seed = np.stack([c[name][test].mean(axis=0) for c in curves_by_seed])
            ax.plot(fraction, per_seed.mean(axis=0), style, color=colour, label=labels[name])
            ax.fill_between(fraction, per_seed.min(axis=0), per_seed.max(axis=0), color=colour,
                            alpha=0.15, linewidth=0)
    for ax, test in zip(axes, ("deletion: erase pixels, most important first",
                               "insertion: paint pixels back, most important first"),
                        strict=True):
        ax.set_xlabel("fraction of pixels erased" if ax is axes[0] else "fraction painted back")
        ax.set_ylabel("probability of the predicted class")
        ax.set_ylim(0, 1.02)
        ax.set_title(test, fontsize=9)
    axes[1].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Faithfulness: mean over the test images, band = range over "
                 f"{len(curves_by_seed)} seeds", fontsize=9)
    fig.tight_layout()
    save(fig, path)


def main() -> None:
    params = load_params()
    cfg = params["faithfulness"]
    set_threads(params)
    set_seed(params["seed"])
    model = load_model(device=pick_device())
    test = load_split("data/prepared/test.npz")
    x_all, y_all = torch.as_tensor(test["x"]), torch.as_tensor(test["y"])
    with torch.no_grad():
        predicted = model(x_all.to(next(model.parameters()).device)).argmax(1).cpu()
    accuracy = float((predicted == y_all).float().mean())

    todo: list[str] = []
    explain_list = explainers(todo, params["explain"]["ig_steps"])
    curves_by_seed, seed_rows = [], []
    seeds = [params["seed"] + s for s in range(cfg["seeds"])]
    for seed in seeds:
        pick = np.random.default_rng(seed).permutation(len(x_all))[: cfg["examples"]]
        x, target = x_all[pick], predicted[pick]
        curves = run_seed(model, explain_list, x, target, seed, cfg["steps"])
        curves_by_seed.append(curves)
        for name, c in curves.items():
            seed_rows.append({"seed": seed, "order": name,
                              "deletion": round(area(c["deletion"]), 4),
                              "insertion": round(area(c["insertion"]), 4)})

    def auc(name: str, test: str) -> list[float]:
        return [r[test] for r in seed_rows if r["order"] == name]

    metrics: dict = {"examples": min(cfg["examples"], len(x_all)), "seeds": len(seeds),
                     "model_accuracy": round(accuracy, 4),
                     "controls": {name: {t: round(float(np.mean(auc(name, t))), 4)
                                         for t in ("deletion", "insertion")}
                                  for name in CONTROLS}}
    for ex in explain_list:
        deletion, insertion = auc(ex.key, "deletion"), auc(ex.key, "insertion")
        best_deletion = np.min([auc(c, "deletion") for c in MODEL_FREE], axis=0)
        best_insertion = np.max([auc(c, "insertion") for c in MODEL_FREE], axis=0)
        rnd = f"{ex.key}@randomised_model"
        metrics[ex.key] = {
            "deletion": round(float(np.mean(deletion)), 4),
            "insertion": round(float(np.mean(insertion)), 4),
            # the worst seed: the margin must hold on every draw
            "deletion_margin": round(float(np.min(best_deletion - deletion)), 4),
            "insertion_margin": round(float(np.min(np.subtract(insertion, best_insertion))), 4),
            "randomised_model": {t: round(float(np.mean(auc(rnd, t))), 4)
                                 for t in ("deletion", "insertion")},
            "randomised_model_margin": round(float(np.min(np.subtract(auc(rnd, "deletion"),
                                                                      deletion))), 4),
        }
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/faithfulness.json", metrics)
    write_csv("metrics/faithfulness_seeds.csv", seed_rows)

    fraction = np.linspace(0, 1, cfg["steps"] + 1)
    for test in ("deletion", "insertion"):
        rows = []
        for i, f in enumerate(fraction):
            row = {"fraction": round(float(f), 4)}
            for name in curves_by_seed[0]:
                row[name.replace("@", "_at_")] = round(float(np.mean(
                    [c[name][test][:, i].mean() for c in curves_by_seed])), 4)
            rows.append(row)
        write_csv(f"metrics/{test}.csv", rows)

    labels = {"intensity": "control: brightest first (no model)",
              "random_ink": "control: random ink pixels (no model)",
              "random": "control: random pixels"}
    for ex in explain_list:
        labels[ex.key] = ex.short
        labels[f"{ex.key}@randomised_model"] = f"{labels[ex.key]} of a randomised model"
    plot(curves_by_seed, labels, cfg["steps"], Path("figures/faithfulness.png"))

    print(f"model accuracy on the test split: {accuracy:.3f}")
    for ex in explain_list:
        m = metrics[ex.key]
        print(f"{ex.label}: deletion AUC {m['deletion']:.3f} (margin over the best model-free "
              f"control {m['deletion_margin']:+.3f}), insertion AUC {m['insertion']:.3f} "
              f"(margin {m['insertion_margin']:+.3f}); worst of {len(seeds)} seeds")


if __name__ == "__main__":
    main()
