"""Stage `sanity`: are the explanations about the *model*, or just pretty edges?

1. Model-parameter randomisation (Adebayo et al., 2018): re-initialise every
   weight and explain again. If the attributions barely change (high rank
   correlation), the method is showing the input, not what the model learned.
2. Deletion curve: remove the most-attributed pixels first and watch accuracy
   fall; do the same in random order. A faithful attribution makes accuracy
   fall faster, so its area under the curve is lower than random's.
"""

from __future__ import annotations

import copy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .attribution import attribute, load_model  # noqa: E402
from .common import (  # noqa: E402
    load_params,
    load_split,
    pick_device,
    set_seed,
    set_threads,
    write_csv,
    write_json,
)


def randomised_copy(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """The same architecture with every layer re-initialised (seeded)."""
    torch.manual_seed(seed)
    fresh = copy.deepcopy(model)
    for module in fresh.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return fresh.eval()


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of ``values``, ties sharing their average rank (as Spearman needs)."""
    order = np.argsort(values, kind="stable")
    positions = np.empty(len(values))
    positions[order] = np.arange(len(values))
    _, groups = np.unique(values, return_inverse=True)
    return (np.bincount(groups, positions) / np.bincount(groups))[groups]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation: the Pearson correlation of the ranks.

    Computed with numpy (scipy.stats gives the same number but takes seconds
    to import); 0.0 when either side is constant.
    """
    ra, rb = ranks(a) - (len(a) - 1) / 2, ranks(b) - (len(b) - 1) / 2
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator else 0.0


def rank_correlation(a: np.ndarray, b: np.ndarray, absolute: bool = False) -> float:
    """Mean Spearman correlation of two sets of attributions, per example.

    With ``absolute=True`` it compares magnitudes only. For Integrated
    Gradients with a black baseline that is revealing: |attribution| is close
    to |input x gradient|, so it follows the input (the digit's strokes) even
    for a random model. The signed attributions are what depends on the model.
    """
    if absolute:
        a, b = np.abs(a), np.abs(b)
    pairs = zip(a.reshape(len(a), -1), b.reshape(len(b), -1), strict=True)
    return float(np.mean([spearman(x, y) for x, y in pairs]))


@torch.no_grad()
def deletion_curve(model, x: torch.Tensor, y: torch.Tensor, order: torch.Tensor,
                   steps: int) -> list[float]:
    """Accuracy after removing (zeroing) the first k pixels of ``order``, for
    k = 0, 64/steps, ..., 64."""
    device = next(model.parameters()).device
    flat = x.flatten(1)
    accs = []
    for step in range(steps + 1):
        k = round(flat.shape[1] * step / steps)
        masked = flat.clone()
        if k:
            masked.scatter_(1, order[:, :k], 0.0)
        preds = model(masked.view_as(x).to(device)).argmax(1).cpu()
        accs.append(float((preds == y).float().mean()))
    return accs


def area(curve: list[float]) -> float:
    """Area under the curve over the removed fraction 0..1 (trapezoids)."""
    values = np.asarray(curve)
    return float(((values[1:] + values[:-1]) / 2).mean())


def plot_randomisation(x, trained, randomised, path: Path, n: int = 6) -> None:
    rows = (("input", x), ("trained model", trained), ("randomised model", randomised))
    fig, axes = plt.subplots(3, n, figsize=(1.4 * n, 4.4), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for i in range(n):
            image = images[i, 0].numpy()
            if r == 0:
                axes[r, i].imshow(image, cmap="gray")
            else:
                limit = float(np.abs(image).max()) or 1.0
                axes[r, i].imshow(image, cmap="bwr", vmin=-limit, vmax=limit)
            axes[r, i].axis("off")
        axes[r, 0].set_title(name, fontsize=8, loc="left")
    fig.suptitle("Integrated Gradients before and after randomising the weights", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_deletion(rows: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    fraction = [r["removed_fraction"] for r in rows]
    ax.plot(fraction, [r["attribution_acc"] for r in rows], "o-", label="most-attributed first")
    ax.plot(fraction, [r["random_acc"] for r in rows], "s--", label="random order")
    ax.set_xlabel("fraction of pixels removed")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    params = load_params()
    cfg = params["sanity"]
    set_threads(params)
    set_seed(params["seed"])
    model = load_model(device=pick_device())
    test = load_split("data/prepared/test.npz")
    x = torch.as_tensor(test["x"][: cfg["examples"]])
    y = torch.as_tensor(test["y"][: cfg["examples"]])
    steps = params["explain"]["ig_steps"]

    # Explain the true class, so the trained and the random model explain the same thing.
    trained = attribute(model, x, y, "integrated_gradients", steps)
    random_model = randomised_copy(model, params["seed"] + 1)
    randomised = attribute(random_model, x, y, "integrated_gradients", steps)
    rho = rank_correlation(trained.numpy(), randomised.numpy())
    rho_abs = rank_correlation(trained.numpy(), randomised.numpy(), absolute=True)
    plot_randomisation(x, trained, randomised, Path("figures/randomisation.png"))

    by_attr = trained.abs().flatten(1).argsort(dim=1, descending=True, stable=True)
    generator = torch.Generator().manual_seed(params["seed"])
    by_chance = torch.stack([torch.randperm(64, generator=generator) for _ in range(len(x))])
    attr_curve = deletion_curve(model, x, y, by_attr, cfg["deletion_steps"])
    rand_curve = deletion_curve(model, x, y, by_chance, cfg["deletion_steps"])
    rows = [{"removed_fraction": round(i / cfg["deletion_steps"], 3),
             "attribution_acc": round(a, 4), "random_acc": round(r, 4)}
            for i, (a, r) in enumerate(zip(attr_curve, rand_curve, strict=True))]
    write_csv("metrics/deletion_curve.csv", rows)
    plot_deletion(rows, Path("figures/deletion_curve.png"))

    attribution_auc, random_auc = round(area(attr_curve), 4), round(area(rand_curve), 4)
    metrics = {
        "examples": len(x),
        "model_accuracy": round(attr_curve[0], 4),
        "randomisation": {"spearman": round(rho, 4), "spearman_abs": round(rho_abs, 4)},
        "deletion": {
            "attribution_auc": attribution_auc,
            "random_auc": random_auc,
            "auc_gap": round(random_auc - attribution_auc, 4),
        },
    }
    write_json("metrics/sanity.json", metrics)
    print(f"randomisation: Spearman {rho:.3f} (trained vs random model; low is good)")
    print(f"deletion AUC: {attribution_auc:.3f} by attribution, {random_auc:.3f} at random "
          "(lower is more faithful)")


if __name__ == "__main__":
    main()
