"""Stages `train`, `train_shuffled` and `train_biased`: the models to explain.

* ``python -m <package>.train``: the classifier every explanation is about
  (models/cnn.pt), trained on the clean digits.
* ``python -m <package>.train shuffled``: the same network trained on a
  subset of the training images with *shuffled* labels until it has
  memorised them (models/cnn_shuffled.pt). It learned nothing about
  digits: the data-randomisation test (sanity stage) asks whether the
  explanations notice.
* ``python -m <package>.train biased``: the same recipe on the digits *as
  collected*, with the planted scanner marks (models/cnn_biased.pt): the
  model to audit in the `shortcut` stage.

The first runs on one process or several under torchrun (DDP).
"""

from __future__ import annotations

import sys

import numpy as np

from .cnn import DigitsCNN
from .common import (
    accuracy,
    best_epoch,
    init_distributed,
    load_params,
    load_split,
    pick_device,
    save_torch,
    set_seed,
    set_threads,
    tensors,
    train_classifier,
    train_stage,
    write_json,
)

VARIANTS = ("cnn", "shuffled", "biased")


def fit(x, y, x_val, y_val, cfg: dict, seed: int, name: str, record: bool = False):
    """Train a fresh DigitsCNN with the recipe ``cfg`` (the `train` params);
    (model with its best validation weights, on the CPU, history). With
    ``record`` it logs to dvclive/<name>/ and plots/<name>_curves.png."""
    set_seed(seed)
    return train_classifier(
        DigitsCNN(cfg["channels"]), tensors(x, y), tensors(x_val, y_val),
        epochs=cfg["epochs"], lr=cfg["lr"], batch_size=cfg["batch_size"],
        weight_decay=cfg.get("weight_decay", 0.0), seed=seed, dist=init_distributed(),
        name=name, amp=bool(cfg.get("amp", False)), record=record)


def train_shuffled() -> None:
    params = load_params()
    set_threads(params)
    cfg = {**params["train"], **params["train_shuffled"]}
    rng = np.random.default_rng(params["seed"])
    train = load_split("data/prepared/train.npz")
    pick = rng.permutation(len(train["y"]))[: cfg["examples"]]
    x, y = train["x"][pick], rng.permutation(train["y"][pick])
    # Its "validation" is its own training set: the point is to memorise.
    model, history = fit(x, y, x, y, cfg, params["seed"], "train_shuffled", record=True)
    test = load_split("data/prepared/test.npz")
    test_acc = accuracy(model, tensors(test["x"], test["y"]), pick_device())
    fit_acc = best_epoch(history)["val_acc"]
    save_torch(model.state_dict(), "models/cnn_shuffled.pt")
    write_json("metrics/train_shuffled.json", {"fit_acc": fit_acc, "test_acc": round(test_acc, 6),
                                               "examples": len(y)})
    print(f"shuffled labels: fits {fit_acc:.3f} of its {len(y)} training labels, "
          f"{test_acc:.3f} on the test split (chance is 0.1)")


def main(argv: list[str]) -> None:
    variant = argv[1] if len(argv) > 1 else "cnn"
    if variant not in VARIANTS:
        sys.exit(f"unknown variant {variant!r}: use one of {', '.join(VARIANTS)}")
    if variant == "shuffled":
        train_shuffled()
    elif variant == "biased":
        train_stage(lambda cfg: DigitsCNN(cfg["channels"]), "models/cnn_biased.pt",
                    data="data/biased", name="train_biased")
    else:
        train_stage(lambda cfg: DigitsCNN(cfg["channels"]), "models/cnn.pt")


if __name__ == "__main__":
    main(sys.argv)
