"""Stage `sanity`: do the explanations depend on the model at all?

Adebayo et al. (2018), "Sanity Checks for Saliency Maps": an explanation
that stays the same when the model is destroyed cannot be telling you what
the model learned. Three tests, each comparing the trained model's maps with
those of a damaged model, for the same images and the same (true) classes:

1. Cascading randomisation: re-initialise the layers one by one from the
   top (logits, then fc, conv2, conv1), and compare after each step.
2. Independent randomisation: re-initialise one layer at a time, the
   others trained.
3. Data randomisation: the same network trained on shuffled labels (it
   memorises them: see `train_shuffled`), which learned nothing about
   digits.

Each comparison is measured three ways (similarity.py): rank correlation of
the signed maps, of their absolute values, and SSIM. A method *passes* a
test on a measure when the similarity after randomisation is at most
``SIMILAR`` and *fails* otherwise. The verdicts are reported as they come:
a method that fails on magnitude is a finding, not a bug to hide.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .attribution import (  # noqa: E402
    LAYER_NAMES,
    LAYERS,
    explainers,
    load_model,
    randomised,
)
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
from .similarity import MEASURES, similarity  # noqa: E402

#: similarity above which an explanation "survived" the randomisation
SIMILAR = 0.3
MEASURE_NAMES = {"spearman": "rank corr.", "spearman_abs": "rank corr. |.|", "ssim": "SSIM"}


def verdict(value: float) -> str:
    return "passes" if value <= SIMILAR else "FAILS"


def randomisation_tests(explain, model, shuffled, x, target, seed: int) -> dict:
    """Every test for one explainer: {"cascading": [sim per step], "independent":
    [sim per layer], "data": sim, "maps": {column: maps}} where sim is
    {measure: value}."""
    base = explain(model, x, target).numpy()
    result: dict = {"cascading": [], "independent": [], "maps": {"trained": base}}
    for k in range(1, len(LAYERS) + 1):
        maps = explain(randomised(model, LAYERS[:k], seed), x, target).numpy()
        result["cascading"].append(similarity(base, maps))
        result["maps"][("+" if k > 1 else "") + LAYER_NAMES[LAYERS[k - 1]]] = maps
    for layer in LAYERS:
        maps = explain(randomised(model, (layer,), seed), x, target).numpy()
        result["independent"].append(similarity(base, maps))
    maps = explain(shuffled, x, target).numpy()
    result["data"] = similarity(base, maps)
    result["maps"]["shuffled labels"] = maps
    return result


def plot_curves(results: dict, labels: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), gridspec_kw={"width_ratios": [5, 4, 3]})
    styles = {"spearman": "-", "spearman_abs": "--", "ssim": ":"}
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    steps = ["none"] + [("+" if i else "") + LAYER_NAMES[name] for i, name in enumerate(LAYERS)]
    for i, (key, res) in enumerate(results.items()):
        for measure in MEASURES:
            label = f"{labels[key]}: {MEASURE_NAMES[measure]}"
            cascade = [1.0] + [s[measure] for s in res["cascading"]]
            axes[0].plot(steps, cascade, styles[measure], marker="o", color=colours[i], label=label)
            axes[1].plot([LAYER_NAMES[n] for n in LAYERS], [s[measure] for s in res["independent"]],
                         styles[measure], marker="o", color=colours[i])
    width = 0.8 / max(len(results), 1)
    for i, (key, res) in enumerate(results.items()):
        positions = np.arange(len(MEASURES)) + i * width
        axes[2].bar(positions, [res["data"][m] for m in MEASURES], width, color=colours[i],
                    label=labels[key])
    axes[2].set_xticks(np.arange(len(MEASURES)) + width * (len(results) - 1) / 2,
                       [MEASURE_NAMES[m] for m in MEASURES], fontsize=8)
    titles = ("cascading: layers randomised from the top", "independent: one layer randomised",
              "data: trained on shuffled labels")
    for ax, title in zip(axes, titles, strict=True):
        ax.axhline(SIMILAR, color="grey", linewidth=0.8)
        ax.set_ylim(-0.3, 1.05)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel("similarity to the trained model's maps")
    axes[0].text(0.05, SIMILAR + 0.02, f"above {SIMILAR}: still alike (fails)", fontsize=7,
                 color="grey")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    save(fig, path)


def unit(image: np.ndarray) -> np.ndarray:
    """``image`` divided by its largest |value| (zeros stay zeros)."""
    top = float(np.abs(image).max())
    return image / top if top > 0 else image


def plot_maps(x: np.ndarray, results: dict, labels: dict, path: Path, n: int = 2) -> None:
    """Adebayo et al.'s figure: one row per (method, example), one column per
    randomisation step. A randomised network's scores are much smaller than a
    trained one's, so each map is divided by its own largest |value| (the
    question here is *where* a map points, not how strongly): one colour scale
    for the whole figure, -1 to 1 for signed maps and 0 to 1 for positive ones."""
    columns = list(next(iter(results.values()))["maps"])
    rows = [(key, i) for i in range(n) for key in results]
    fig, axes = plt.subplots(len(rows), len(columns) + 1,
                             figsize=(1.3 * (len(columns) + 1) + 1, 1.35 * len(rows) + 0.6),
                             squeeze=False)
    for r, (key, i) in enumerate(rows):
        axes[r, 0].imshow(x[i, 0], cmap="gray", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(labels[key].split(" (")[0], fontsize=7)
        maps = np.stack([unit(results[key]["maps"][c][i, 0]) for c in columns])
        signed = bool((maps < 0).any())
        cmap, vmin = ("RdBu_r", -1.0) if signed else ("inferno", 0.0)
        for c, column in enumerate(columns, start=1):
            shown = axes[r, c].imshow(maps[c - 1], cmap=cmap, vmin=vmin, vmax=1.0)
            if r == 0:
                axes[r, c].set_title(column, fontsize=7)
        fig.colorbar(shown, ax=list(axes[r, :]), fraction=0.02, pad=0.01)
    axes[0, 0].set_title("input", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Explanations as the model is randomised (cascading, from the top) and for a "
                 "model trained on shuffled labels\n(each map divided by its own largest "
                 "|value|: where it points, not how strongly)", fontsize=8)
    save(fig, path)


def main() -> None:
    params = load_params()
    cfg = params["sanity"]
    set_threads(params)
    set_seed(params["seed"])
    device = pick_device()
    model = load_model(device=device)
    shuffled = load_model("models/cnn_shuffled.pt", device=device)
    test = load_split("data/prepared/test.npz")
    x = torch.as_tensor(test["x"][: cfg["examples"]])
    y = torch.as_tensor(test["y"][: cfg["examples"]])

    todo: list[str] = []
    results, labels = {}, {}
    for ex in explainers(todo, params["explain"]["ig_steps"]):
        results[ex.key] = randomisation_tests(ex, model, shuffled, x, y, params["seed"] + 1)
        labels[ex.key] = ex.short

    cascade_rows, independent_rows = [], []
    for k in range(len(LAYERS) + 1):
        row = {"layers_randomised": k,
               "layer": "none" if k == 0 else LAYER_NAMES[LAYERS[k - 1]]}
        for key, res in results.items():
            for m in MEASURES:
                row[f"{key}_{m}"] = 1.0 if k == 0 else round(res["cascading"][k - 1][m], 4)
        cascade_rows.append(row)
    for i, layer in enumerate(LAYERS):
        row = {"layer_index": i + 1, "layer": LAYER_NAMES[layer]}
        for key, res in results.items():
            for m in MEASURES:
                row[f"{key}_{m}"] = round(res["independent"][i][m], 4)
        independent_rows.append(row)
    write_csv("metrics/cascading.csv", cascade_rows)
    write_csv("metrics/independent.csv", independent_rows)
    plot_curves(results, labels, Path("figures/randomisation.png"))
    plot_maps(x.numpy(), results, labels, Path("figures/randomisation_maps.png"))

    metrics: dict = {"examples": len(x), "similar_above": SIMILAR}
    for key, res in results.items():
        metrics[key] = {
            "cascading": {m: round(res["cascading"][-1][m], 4) for m in MEASURES},
            "data": {m: round(res["data"][m], 4) for m in MEASURES},
        }
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/sanity.json", metrics)
    for key, res in results.items():
        full, data = res["cascading"][-1], res["data"]
        print(f"{labels[key]:>13}: every layer random -> " + ", ".join(
            f"{MEASURE_NAMES[m]} {full[m]:.2f} ({verdict(full[m])})" for m in MEASURES))
        print(f"{'':>13}  shuffled labels   -> " + ", ".join(
            f"{MEASURE_NAMES[m]} {data[m]:.2f} ({verdict(data[m])})" for m in MEASURES))


if __name__ == "__main__":
    main()
