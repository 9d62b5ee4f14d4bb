"""Stage `evaluate`: the sim-to-real gap. Accuracy on the synthetic validation
split and on all 1,797 real handwritten digits the model never saw."""

from __future__ import annotations

import torch

from .cnn import DigitsCNN
from .common import (
    load_params,
    load_split,
    pick_device,
    predict,
    set_threads,
    tensors,
    write_csv,
    write_json,
)
from .data import digits


def accuracies(model: torch.nn.Module, device: torch.device) -> dict[str, float]:
    """Accuracy on the synthetic validation split and on the real digits."""
    val = load_split("data/prepared/val.npz")
    real_x, real_y = digits()
    out = {}
    for name, (x, y) in {"synthetic_val_acc": (val["x"], val["y"]),
                         "real_acc": (real_x, real_y)}.items():
        preds = predict(model, tensors(x, y), device).argmax(1).numpy()
        out[name] = round(float((preds == y).mean()), 4)
    return out


def main() -> None:
    params = load_params()
    set_threads(params)
    device = pick_device()
    model = DigitsCNN(params["train"]["channels"])
    model.load_state_dict(torch.load("models/cnn.pt", map_location="cpu", weights_only=True))
    model.to(device)
    metrics = accuracies(model, device)
    metrics["sim_to_real_gap"] = round(metrics["synthetic_val_acc"] - metrics["real_acc"], 4)
    real_x, real_y = digits()
    preds = predict(model, tensors(real_x, real_y), device).argmax(1).numpy()
    metrics["real_acc_per_class"] = {
        str(c): round(float((preds[real_y == c] == c).mean()), 4) for c in range(10)}
    write_json("metrics/evaluate.json", metrics)
    write_csv("metrics/real_predictions.csv",
              [{"actual": int(a), "predicted": int(p)} for a, p in zip(real_y, preds, strict=True)])
    print(f"accuracy: synthetic val {metrics['synthetic_val_acc']:.3f}, "
          f"real {metrics['real_acc']:.3f} (gap {metrics['sim_to_real_gap']:.3f})")


if __name__ == "__main__":
    main()
