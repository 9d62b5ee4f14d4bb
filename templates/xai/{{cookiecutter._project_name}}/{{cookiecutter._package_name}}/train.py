"""Stage `train`: the classifier to explain (torchrun-ready, like every stage that trains)."""

from __future__ import annotations

from .cnn import DigitsCNN
from .common import (
    init_distributed,
    load_params,
    load_split,
    save_torch,
    set_seed,
    shutdown_distributed,
    tensors,
    train_classifier,
    write_csv,
    write_json,
)


def main() -> None:
    params = load_params()
    cfg = params["train"]
    set_seed(params["seed"])
    dist = init_distributed()
    train = load_split("data/prepared/train.npz")
    val = load_split("data/prepared/val.npz")
    model, history = train_classifier(
        DigitsCNN(cfg["channels"]),
        tensors(train["x"], train["y"]),
        tensors(val["x"], val["y"]),
        epochs=cfg["epochs"], lr=cfg["lr"], batch_size=cfg["batch_size"],
        weight_decay=cfg["weight_decay"], seed=params["seed"], dist=dist,
    )
    if dist.is_main:
        save_torch(model.cpu().state_dict(), "models/cnn.pt")
        write_csv("metrics/train_log.csv", history)
        write_json("metrics/train.json", {"val_acc": history[-1]["val_acc"],
                                          "device": str(dist.device)})
        print(f"val accuracy {history[-1]['val_acc']:.3f} on {dist.device}")
    shutdown_distributed(dist)


if __name__ == "__main__":
    main()
