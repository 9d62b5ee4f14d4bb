"""Stage `explain`: heatmaps of both methods for test images the model gets
right and for those it gets wrong, and how your code compares with Captum's.

* figures/explanations.png: the first `explain.examples` correctly
  classified test images; figures/misclassified.png: up to
  `explain.misclassified` test images the model gets wrong, explained for
  the class it (wrongly) predicted: what did it see?
* data/attributions.npz: the arrays, for your own analysis.
* metrics/explain.json: for your Integrated Gradients, the completeness
  error (how far the attributions' sum is from the score difference they
  must add up to) and the relative difference from Captum's; for your
  Grad-CAM, the difference from Captum's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .attribution import captum_fn, explainers, load_model
from .common import load_params, load_split, pick_device, set_threads, write_json
from .figures import heatmap_rows


def completeness_error(model, x: torch.Tensor, target: torch.Tensor, attr: torch.Tensor) -> float:
    """Mean |sum of attributions - (score(x) - score(black))| over the mean
    |score(x) - score(black)|: 0 for exact Integrated Gradients."""
    device = next(model.parameters()).device
    with torch.no_grad():
        t = target.to(device).view(-1, 1)
        x = x.to(device)
        gap = model(x).gather(1, t) - model(torch.zeros_like(x)).gather(1, t)
    gap = gap.view(-1).cpu()
    error = (attr.flatten(1).sum(1) - gap).abs().mean()
    return float(error / gap.abs().mean().clamp_min(1e-12))


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """|a - b| / |b| (L2 norms over everything)."""
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def main() -> None:
    params = load_params()
    cfg = params["explain"]
    set_threads(params)
    model = load_model(device=pick_device())
    test = load_split("data/prepared/test.npz")
    x_all, y_all = torch.as_tensor(test["x"]), torch.as_tensor(test["y"])
    with torch.no_grad():
        pred_all = model(x_all.to(next(model.parameters()).device)).argmax(1).cpu()
    right = torch.nonzero(pred_all == y_all).view(-1)[: cfg["examples"]]
    wrong = torch.nonzero(pred_all != y_all).view(-1)[: cfg["misclassified"]]

    todo: list[str] = []
    chosen = explainers(todo, cfg["ig_steps"])
    metrics: dict = {"examples": len(right), "misclassified": len(wrong)}
    arrays = {"images": x_all[right].numpy(), "labels": y_all[right].numpy(),
              "predictions": pred_all[right].numpy()}
    rows, wrong_rows = [], []
    for ex in chosen:
        attr = ex(model, x_all[right], pred_all[right])
        arrays[ex.method] = attr.numpy()
        rows.append((ex.short.replace(" (", "\n("), attr.numpy()))
        if len(wrong):
            wrong_rows.append((rows[-1][0], ex(model, x_all[wrong], pred_all[wrong]).numpy()))
        if ex.by == "you":
            reference = captum_fn(ex.method, cfg["ig_steps"])(
                model, x_all[right].to(next(model.parameters()).device),
                pred_all[right].to(next(model.parameters()).device)).detach().cpu()
            entry = {"captum_difference": round(relative_difference(attr, reference), 6)}
        else:
            entry = {}
        if ex.method == "integrated_gradients":
            entry["completeness_error"] = round(
                completeness_error(model, x_all[right], pred_all[right], attr), 6)
        metrics[ex.key] = entry

    titles = [f"y={int(y)} p={int(p)}" for y, p in zip(y_all[right], pred_all[right], strict=True)]
    heatmap_rows(Path("figures/explanations.png"), x_all[right].numpy(), rows, titles,
                 "What made the model say p? (one colour scale per method)")
    if len(wrong):
        titles = [f"y={int(y)} p={int(p)}" for y, p in zip(y_all[wrong], pred_all[wrong],
                                                             strict=True)]
        heatmap_rows(Path("figures/misclassified.png"), x_all[wrong].numpy(), wrong_rows, titles,
                     "Misclassified test images, explained for the wrong class p")
    else:
        heatmap_rows(Path("figures/misclassified.png"), x_all[:0].numpy(), [], [],
                     "The model gets every test image right: nothing to show")
    out = Path("data/attributions.npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/explain.json", metrics)
    for ex in chosen:
        extra = metrics[ex.key]
        print(f"{ex.label}: " + ", ".join(f"{k} {v:.4f}" for k, v in extra.items()))
    print(f"heatmaps of {len(right)} test images (and {len(wrong)} misclassified) in figures/")


if __name__ == "__main__":
    main()
