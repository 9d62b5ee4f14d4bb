"""How the stages train their question answerers: once per seed (see
``runs.seeds``), each run saved with a record of the data it learnt from.

Training itself is ``common.train_classifier`` (Adam, cross-entropy, one line
per epoch, the weights of the best validation epoch kept: early stopping on
the validation split). The first seed's run is recorded for ``dvc plots``
(``dvclive/<name>_seed0/``) and drawn (``plots/<name>_seed0_curves.png``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .common import (
    Dist,
    best_epoch,
    load_split,
    set_seed,
    tensors,
    train_classifier,
    write_json,
)
from .models import model_config, save_model
from .runs import model_path, seeds
from .world import example_digests

DATA = Path("data/generated")


def fresh_folder(folder: str | Path, dist: Dist) -> None:
    """An empty output folder (main process only): no model of an older run survives."""
    if dist.is_main:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True)


def train_seeds(name: str, make_model: Callable[[dict[str, Any]], nn.Module],
                inputs: tuple[str, ...], params: dict[str, Any], train_cfg: dict[str, Any],
                dist: Dist, folder: str | Path) -> list[dict[str, float]]:
    """Train ``make_model(cfg)`` on the arrays ``inputs`` of the train split,
    once per seed, with ``train_cfg`` (epochs, lr, batch_size: a section of
    params.yaml), choosing each run's epoch on the validation split; save
    ``<folder>/<name>_seed<k>.pt``. Returns one summary per seed."""
    cfg = model_config(params)
    train, val = load_split(DATA / "train.npz"), load_split(DATA / "val.npz")
    train_set = tensors(*(train[k] for k in inputs), train["y"])
    val_set = tensors(*(val[k] for k in inputs), val["y"])
    # What each example is, whatever the model reads of it.
    trained_on = example_digests(train["x"], train["questions"], train["y"])
    selected_on = example_digests(val["x"], val["questions"], val["y"])
    rows = []
    for k, seed in enumerate(seeds(params)):
        set_seed(seed)
        model, history = train_classifier(
            make_model(cfg), train_set, val_set, epochs=train_cfg["epochs"],
            lr=train_cfg["lr"], batch_size=train_cfg["batch_size"],
            weight_decay=train_cfg.get("weight_decay", 0.0), seed=seed, dist=dist,
            name=f"{name}_seed{k}", amp=bool(train_cfg.get("amp", False)), record=k == 0)
        kept = best_epoch(history)
        if dist.is_main:
            save_model(model_path(folder, name, k), model, cfg, seed=seed,
                       trained_on=trained_on, selected_on=selected_on)
        rows.append({"seed": seed, "best_epoch": int(kept["epoch"]),
                     "val_acc": kept["val_acc"], "val_loss": kept["val_loss"]})
    return rows


def placeholder_record(name: str, todo: list[str]) -> None:
    """What a recorded run writes, for a run that could not happen yet (its
    model is still a stub): DVC finds the files it expects, and they say why."""
    folder = Path("dvclive") / name
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "plots" / "metrics").mkdir(parents=True)
    write_json(folder / "metrics.json", {"not_implemented": todo})
    (folder / "plots" / "metrics" / "val_acc.tsv").write_text("step\tval_acc\n", encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 1.6))
    ax.axis("off")
    ax.text(0.5, 0.5, "not trained yet:\n" + "\n".join(todo), ha="center", va="center",
            fontsize=8, wrap=True)
    Path("plots").mkdir(exist_ok=True)
    fig.savefig(Path("plots") / f"{name}_curves.png", dpi=100)
    plt.close(fig)


def summary(rows: list[dict[str, float]], dist: Dist, todo: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"seeds": rows, "device": str(dist.device),
                           "processes": dist.world_size, "threads": torch.get_num_threads()}
    if todo:
        out["not_implemented"] = todo
    return out
