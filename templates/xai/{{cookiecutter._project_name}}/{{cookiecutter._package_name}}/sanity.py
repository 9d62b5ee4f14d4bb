"""Stage `sanity`: are the explanations about the *model*, or just pretty edges?

1. Model-parameter randomisation (Adebayo et al., 2018): re-initialise every
   weight and explain again. If the attributions barely change (high rank
   correlation), the method is showing the input, not what the model learned.
2. Deletion curve: remove the most-attributed pixels first and watch accuracy
   fall; do the same in random order. A faithful attribution makes accuracy
   fall faster, so its area under the curve is lower than random's.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr

from .attribution import attribute, load_model
from .cnn import DigitsCNN
from .common import load_params, load_split, set_seed, write_csv, write_json


def randomised_copy(model: DigitsCNN, seed: int) -> DigitsCNN:
    torch.manual_seed(seed + 1)
    fresh = DigitsCNN(model.features[0].out_channels)
    return fresh.eval()


def rank_correlation(a: np.ndarray, b: np.ndarray, absolute: bool = False) -> float:
    """Mean Spearman correlation of two sets of attributions, per example.

    With ``absolute=True`` it compares magnitudes only. For Integrated
    Gradients with a black baseline that is revealing: |attribution| is close
    to |input x gradient|, so it follows the input (the digit's strokes) even
    for a random model. The signed attributions are what depends on the model.
    """
    if absolute:
        a, b = np.abs(a), np.abs(b)
    scores = []
    for x, y in zip(a.reshape(len(a), -1), b.reshape(len(b), -1), strict=True):
        rho = spearmanr(x, y).statistic
        scores.append(0.0 if np.isnan(rho) else rho)
    return float(np.mean(scores))


@torch.no_grad()
def deletion_curve(model, x: torch.Tensor, y: torch.Tensor, order: torch.Tensor,
                   steps: int) -> list[float]:
    """Accuracy after removing (zeroing) the first k pixels of ``order``, k = 0..64."""
    flat = x.flatten(1)
    accs = []
    for step in range(steps + 1):
        k = round(flat.shape[1] * step / steps)
        masked = flat.clone()
        if k:
            masked.scatter_(1, order[:, :k], 0.0)
        accs.append(float((model(masked.view_as(x)).argmax(1) == y).float().mean()))
    return accs


def area(curve: list[float]) -> float:
    """Area under the curve over the removed fraction 0..1 (trapezoids)."""
    values = np.asarray(curve)
    return float(((values[1:] + values[:-1]) / 2).mean())


def main() -> None:
    params = load_params()
    cfg = params["sanity"]
    set_seed(params["seed"])
    model = load_model()
    test = load_split("data/prepared/test.npz")
    x = torch.as_tensor(test["x"][: cfg["examples"]])
    y = torch.as_tensor(test["y"][: cfg["examples"]])
    steps = params["explain"]["ig_steps"]

    trained = attribute(model, x, y, "integrated_gradients", steps)
    random_model = randomised_copy(model, params["seed"])
    randomised = attribute(random_model, x, y, "integrated_gradients", steps)
    rho = rank_correlation(trained.numpy(), randomised.numpy())
    rho_abs = rank_correlation(trained.numpy(), randomised.numpy(), absolute=True)

    by_attr = trained.abs().flatten(1).argsort(dim=1, descending=True)
    generator = torch.Generator().manual_seed(params["seed"])
    by_chance = torch.stack([torch.randperm(64, generator=generator) for _ in range(len(x))])
    attr_curve = deletion_curve(model, x, y, by_attr, cfg["deletion_steps"])
    rand_curve = deletion_curve(model, x, y, by_chance, cfg["deletion_steps"])
    rows = [{"removed_fraction": round(i / cfg["deletion_steps"], 3),
             "attribution_acc": round(a, 4), "random_acc": round(r, 4)}
            for i, (a, r) in enumerate(zip(attr_curve, rand_curve, strict=True))]
    write_csv("metrics/deletion_curve.csv", rows)
    metrics = {
        "randomisation": {"spearman": round(rho, 4), "spearman_abs": round(rho_abs, 4)},
        "deletion": {
            "attribution_auc": round(area(attr_curve), 4),
            "random_auc": round(area(rand_curve), 4),
        },
    }
    metrics["deletion"]["auc_gap"] = round(
        metrics["deletion"]["random_auc"] - metrics["deletion"]["attribution_auc"], 4)
    write_json("metrics/sanity.json", metrics)
    print(f"randomisation Spearman {rho:.3f}; deletion AUC {metrics['deletion']}")


if __name__ == "__main__":
    main()
