"""Stage `shortcut`: audit the model trained on the digits as collected.

1. Accuracy, three ways: on the validation split *as collected* (with the
   marks: what you would have measured), on clean test digits (what a user
   meets), and on test digits carrying the mark of a *wrong* class (how much
   the model believes the mark over the digit).
2. Where its explanations fall: the share of Integrated Gradients on the
   marks (your ``audit.marker_share``), next to the marks' share of the ink
   (what an explanation that merely followed the input would give).
3. The fix: your ``audit.remove_shortcut`` makes a training set in which the
   marks no longer tell the label; the same recipe retrains on it
   (models/fixed/cnn.pt). Then the same three accuracies and the share
   again, and the gain in clean accuracy with its 95% confidence interval
   (paired over the test images).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from . import audit, markers  # noqa: E402
from .attribution import explainer, load_model  # noqa: E402
from .common import (  # noqa: E402
    learner_code,
    load_params,
    load_split,
    pick_device,
    save_torch,
    set_threads,
    write_json,
)
from .figures import heatmap_rows, save  # noqa: E402
from .train import fit  # noqa: E402

FIXED_MODEL = Path("models/fixed/cnn.pt")


@torch.no_grad()
def correct(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1.0 where the model is right, per example."""
    logits = model(torch.as_tensor(x).to(next(model.parameters()).device)).cpu()
    return (logits.argmax(1).numpy() == y).astype(np.float64)


def ink_share(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The share of each image's ink (pixel values) on ``mask``: what an
    explanation that only followed the input would put there."""
    flat = x.reshape(len(x), -1)
    return flat[:, mask.ravel()].sum(1) / np.maximum(flat.sum(1), 1e-12)


def gain_interval(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    """Mean gain in accuracy and its 95% confidence interval, paired over the
    same test images (normal approximation of the mean difference)."""
    diff = after - before
    half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("inf")
    return float(diff.mean()), float(diff.mean() - half), float(diff.mean() + half)


def audit_model(model, explain, x_val, y_val, test, marked, wrong_marks, mask, todo):
    """Accuracies, and the explanation share on the marks when the code for it exists."""
    result = {
        "val_acc": round(float(correct(model, x_val, y_val).mean()), 4),
        "clean_test_acc": round(float(correct(model, test["x"], test["y"]).mean()), 4),
        "wrong_mark_test_acc": round(float(correct(model, wrong_marks, test["y"]).mean()), 4),
    }
    attr = explain(model, torch.as_tensor(marked), torch.as_tensor(test["y"])).numpy()
    with learner_code(todo):
        share = np.asarray(audit.marker_share(attr, mask), dtype=np.float64)
        result["marker_share"] = round(float(share.mean()), 4)
    return result, attr


def plot_accuracy(results: dict, gain: tuple[float, float, float] | None, path: Path) -> None:
    names = {"val_acc": "validation\n(as collected)", "clean_test_acc": "clean test\ndigits",
             "wrong_mark_test_acc": "test digits with\na wrong class's mark"}
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    width = 0.38
    for i, (model_name, res) in enumerate(results.items()):
        values = [res[k] for k in names]
        bars = ax.bar(np.arange(len(names)) + i * width, values, width, label=model_name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(np.arange(len(names)) + width * (len(results) - 1) / 2, list(names.values()),
                  fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("accuracy")
    title = "The planted shortcut: accuracy before and after removing it"
    if gain is not None:
        title += f"\nclean-digit gain {gain[0]:+.3f} (95% CI {gain[1]:+.3f} to {gain[2]:+.3f})"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save(fig, path)


def main() -> None:
    params = load_params()
    cfg = params["shortcut"]
    set_threads(params)
    device = pick_device()
    biased = load_model("models/cnn_biased.pt", device=device)
    val = load_split("data/biased/val.npz")
    test = load_split("data/prepared/test.npz")
    rng = np.random.default_rng(params["seed"])
    # The test digits as the collection would have marked them, and with a
    # wrong class's mark (another class, drawn at random).
    marked = markers.plant(test["x"], test["y"], 1.0, rng)
    wrong = (test["y"] + rng.integers(1, 10, size=len(test["y"]))) % 10
    wrong_marks = markers.plant(test["x"], wrong, 1.0, rng)
    mask = markers.marker_mask()

    todo: list[str] = []
    ig = explainer("integrated_gradients", todo, params["explain"]["ig_steps"])
    metrics: dict = {"rate": cfg["rate"], "explained_by": ig.by,
                     "ink_share": round(float(ink_share(marked, mask).mean()), 4)}
    results, maps = {}, {}
    results["as collected (train_biased)"], maps["biased"] = audit_model(
        biased, ig, val["x"], val["y"], test, marked, wrong_marks, mask, todo)
    metrics["biased"] = results["as collected (train_biased)"]

    FIXED_MODEL.parent.mkdir(parents=True, exist_ok=True)
    FIXED_MODEL.unlink(missing_ok=True)
    gain = None
    with learner_code(todo):
        train = load_split("data/biased/train.npz")
        x_train, y_train = audit.remove_shortcut(train["x"], train["y"])
        x_val, y_val = audit.remove_shortcut(val["x"], val["y"])
        fixed, _ = fit(np.asarray(x_train, dtype=np.float32), np.asarray(y_train),
                       np.asarray(x_val, dtype=np.float32), np.asarray(y_val),
                       params["train"], params["seed"], "train_fixed")
        save_torch(fixed.state_dict(), FIXED_MODEL)
        fixed.to(device)
        results["shortcut removed (models/fixed)"], maps["fixed"] = audit_model(
            fixed, ig, x_val, y_val, test, marked, wrong_marks, mask, todo)
        metrics["fixed"] = results["shortcut removed (models/fixed)"]
        gain = gain_interval(correct(biased, test["x"], test["y"]),
                             correct(fixed, test["x"], test["y"]))
        metrics["clean_gain"] = round(gain[0], 4)
        metrics["clean_gain_ci_low"] = round(gain[1], 4)
        metrics["training_examples"] = {"before": len(train["y"]), "after": len(y_train)}

    n = cfg["examples"]
    rows = [(f"{ig.short.replace(' (', chr(10) + '(')}\n{name} model", m[:n])
            for name, m in maps.items()]
    titles = [f"y={int(t)}" for t in test["y"][:n]]
    heatmap_rows(Path("figures/shortcut.png"), marked[:n], rows, titles,
                 "Where the explanations fall on test digits carrying their class's mark "
                 "(green boxes: where marks can be; one colour scale)", outline=mask,
                 one_scale=True)
    plot_accuracy(results, gain, Path("figures/shortcut_accuracy.png"))
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/shortcut.json", metrics)

    for name, res in results.items():
        share = f", {res['marker_share']:.1%} of |IG| on the marks" if "marker_share" in res else ""
        print(f"{name}: val {res['val_acc']:.3f}, clean test {res['clean_test_acc']:.3f}, "
              f"wrong marks {res['wrong_mark_test_acc']:.3f}{share}")
    print(f"the marks hold {metrics['ink_share']:.1%} of the ink of a marked digit")
    if gain is not None:
        print(f"clean-digit accuracy gain {gain[0]:+.3f} (95% CI {gain[1]:+.3f} to {gain[2]:+.3f})")


if __name__ == "__main__":
    main()
