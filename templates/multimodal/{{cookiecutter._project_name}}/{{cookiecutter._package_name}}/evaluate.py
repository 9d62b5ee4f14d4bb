"""Stage `evaluate`: the three question answerers on the test split, overall
and per kind of question, and how far the fused model is ahead.

``fusion.margin_over_best_baseline`` is the fused model's accuracy minus the
better baseline's (0.10 = 10 points).
"""

from __future__ import annotations

import numpy as np
import torch

from .common import load_params, load_split, predict, set_threads, tensors, write_csv, write_json
from .models import ANSWERERS
from .world import KINDS


def load(name: str, cfg: dict) -> torch.nn.Module:
    model_class, _ = ANSWERERS[name]
    model = model_class(cfg)
    model.load_state_dict(torch.load(f"models/{name}.pt", map_location="cpu", weights_only=True))
    return model.eval()


def scores(correct: dict[str, np.ndarray], kind: np.ndarray) -> tuple[dict, list[dict]]:
    accuracy = {name: round(float(hits.mean()), 4) for name, hits in correct.items()}
    rows = []
    for k, kind_name in enumerate(KINDS):
        mask = kind == k
        if mask.any():
            rows.append({"kind": kind_name, "examples": int(mask.sum()),
                         **{name: round(float(hits[mask].mean()), 4)
                            for name, hits in correct.items()}})
    fused = accuracy["fused"]
    fusion = {
        "margin_over_image_only": round(fused - accuracy["image_only"], 4),
        "margin_over_text_only": round(fused - accuracy["text_only"], 4),
        "margin_over_best_baseline": round(
            fused - max(accuracy["image_only"], accuracy["text_only"]), 4),
    }
    return {"accuracy": accuracy, "fusion": fusion}, rows


def main() -> None:
    params = load_params()
    set_threads(params)
    test = load_split("data/generated/test.npz")
    correct = {}
    for name, (_, inputs) in ANSWERERS.items():
        logits = predict(load(name, params["train"]),
                         tensors(*(test[k] for k in inputs), test["y"]), torch.device("cpu"))
        correct[name] = (logits.argmax(1).numpy() == test["y"])
    metrics, rows = scores(correct, test["kind"])
    metrics["by_kind"] = {row["kind"]: {n: row[n] for n in correct} for row in rows}
    write_json("metrics/evaluate.json", metrics)
    write_csv("metrics/accuracy_by_kind.csv", rows)
    acc = metrics["accuracy"]
    print(f"test accuracy: image only {acc['image_only']:.3f}, text only "
          f"{acc['text_only']:.3f}, fused {acc['fused']:.3f}")


if __name__ == "__main__":
    main()
