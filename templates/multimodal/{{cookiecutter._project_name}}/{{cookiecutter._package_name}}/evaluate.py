"""Stage `evaluate`: every question answerer on the test split and on the
compositional split, overall and per kind of question, as means over the
seeds (with their spread), next to the ceiling.

Models: ``image_only`` and ``text_only`` (the baselines), ``decision_level``
(their answers combined, ``models.decision_level``) and ``fused`` (your
``fusion.BindingFusion``). ``fusion.margin_over_decision_level`` is the fused
model's test accuracy minus the decision-level baseline's (0.10 = 10 points).
``attention_on_target``: how much attention the fused model puts on the cell
of the object asked about (when it stores ``self.attention``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .common import (  # noqa: E402
    learner_code,
    load_params,
    load_split,
    predict,
    set_threads,
    tensors,
    write_csv,
    write_json,
)
from .fusion import BindingFusion  # noqa: E402
from .models import BASELINES, decision_level, load_model, model_config  # noqa: E402
from .runs import model_path, one_process, seeds  # noqa: E402
from .world import KINDS, ideal_answers, per_kind  # noqa: E402

MODELS = ("image_only", "text_only", "decision_level", "fused")
SPLITS = ("test", "compositional")


def logits(model: torch.nn.Module, data: dict[str, np.ndarray],
           inputs: tuple[str, ...]) -> torch.Tensor:
    return predict(model, tensors(*(data[k] for k in inputs), data["y"]), torch.device("cpu"))


def fused_model(params: dict, k: int) -> BindingFusion:
    path = model_path("models/fused", "fused", k)
    if not path.is_file():
        BindingFusion(model_config(params))  # a stub says what to write
        raise FileNotFoundError(f"{path} is missing: run dvc repro")
    return load_model(path, BindingFusion)[0]


def run_seed(params: dict, k: int, data: dict[str, dict], fused: bool) -> tuple[dict, dict]:
    """Accuracy per split, model and kind for the k-th seed's models (the fused
    one too when ``fused``), and the fused model's attention on the cell asked about."""
    scores: dict = {split: {} for split in data}
    attention: dict = {}
    probs = {}
    for name, (model_class, inputs) in BASELINES.items():
        model = load_model(model_path("models/baselines", name, k), model_class)[0]
        probs[name] = {split: logits(model, d, inputs) for split, d in data.items()}
    probs["decision_level"] = {split: decision_level(probs["image_only"][split],
                                                     probs["text_only"][split])
                               for split in data}
    if fused:
        model = fused_model(params, k)
        probs["fused"] = {}
        for split, d in data.items():
            with torch.no_grad():
                probs["fused"][split] = model(torch.as_tensor(d["x"], dtype=torch.float32),
                                              torch.as_tensor(d["questions"],
                                                              dtype=torch.float32))
            weights = getattr(model, "attention", None)
            asked = np.flatnonzero(d["target"] >= 0)
            if isinstance(weights, torch.Tensor) and tuple(weights.shape) == (len(d["y"]), 9):
                attention[split] = float(weights.cpu().numpy()[asked, d["target"][asked]].mean())
    for name, by_split in probs.items():
        for split, out in by_split.items():
            d = data[split]
            scores[split][name] = per_kind(out.argmax(1).numpy() == d["y"], d["kind"])
    return scores, attention


def mean_and_spread(per_seed: list[dict]) -> tuple[dict, dict]:
    mean: dict = {}
    spread: dict = {}
    for split in per_seed[0]:
        mean[split], spread[split] = {}, {}
        for name in per_seed[0][split]:
            kinds = per_seed[0][split][name]
            mean[split][name] = {kind: round(float(np.mean([s[split][name][kind]
                                                            for s in per_seed])), 4)
                                 for kind in kinds}
            spread[split][name] = {kind: round(float(np.std([s[split][name][kind]
                                                             for s in per_seed])), 4)
                                   for kind in kinds}
    return mean, spread


def figure(mean: dict, ceiling: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, len(mean), figsize=(5.5 * len(mean), 3.4), squeeze=False)
    for ax, (split, models) in zip(axes[0], mean.items(), strict=True):
        kinds = [k for k in ("all", *KINDS) if k in ceiling[split]]
        width = 0.8 / max(len(models), 1)
        for i, (name, scores) in enumerate(models.items()):
            ax.bar(np.arange(len(kinds)) + i * width, [scores.get(k, 0) for k in kinds],
                   width, label=name)
        ax.plot(np.arange(len(kinds)) + 0.4 - width / 2, [ceiling[split][k] for k in kinds],
                "k_", markersize=18, label="ceiling")
        ax.set_xticks(np.arange(len(kinds)) + 0.4 - width / 2, kinds)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{split} (mean of seeds)")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("accuracy")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    one_process("evaluate")
    params = load_params()
    set_threads(params)
    cell = int(params["generate"]["cell"])
    data = {split: load_split(f"data/generated/{split}.npz") for split in SPLITS}
    ceiling = {split: {k: round(v, 4) for k, v in per_kind(
        ideal_answers(d["x"], d["questions"], cell) == d["y"], d["kind"]).items()}
        for split, d in data.items()}
    todo: list[str] = []
    with learner_code(todo):
        fused_model(params, 0)  # your model, or the TODO that says what to write
    per_seed, attention = [], []
    for k in range(len(seeds(params))):
        scores, seen = run_seed(params, k, data, fused=not todo)
        per_seed.append(scores)
        attention.append(seen)
    mean, spread = mean_and_spread(per_seed)
    metrics: dict = {"seeds": len(per_seed), "ceiling": ceiling, **mean,
                     "spread": spread}
    test = mean["test"]
    if "fused" in test:
        metrics["fusion"] = {
            "margin_over_decision_level": round(test["fused"]["all"]
                                                - test["decision_level"]["all"], 4),
            "margin_over_best_single": round(test["fused"]["all"] - max(
                test["image_only"]["all"], test["text_only"]["all"]), 4)}
    if attention and attention[0]:
        metrics["attention_on_target"] = {split: round(float(np.mean([a[split]
                                                                     for a in attention])), 4)
                                          for split in attention[0]}
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/evaluate.json", metrics)
    write_csv("metrics/accuracy_by_kind.csv", [
        {"split": split, "model": name, "kind": kind, "accuracy": value,
         "spread": spread[split][name][kind], "ceiling": ceiling[split][kind]}
        for split in mean for name in mean[split] for kind, value in mean[split][name].items()])
    figure(mean, ceiling, Path("plots/accuracy_by_kind.png"))
    for split in mean:
        line = ", ".join(f"{name} {s['all']:.3f}" for name, s in mean[split].items())
        print(f"{split} accuracy (mean of {len(per_seed)} seeds): {line}; ceiling "
              f"{ceiling[split]['all']:.3f}")


if __name__ == "__main__":
    main()
