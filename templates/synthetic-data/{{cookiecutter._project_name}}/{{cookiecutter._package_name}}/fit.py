"""How every model in this project is trained: the same small CNN (``cnn.py``)
for the same number of optimiser steps, whatever it learns from.

Equal *steps*, not equal epochs: an epoch over 250 examples is 4 steps, over
5,000 it is 79, so "8 epochs each" would give the small sets a fraction of
the training and the comparison would measure that instead of the data.

Every training follows the same learning-rate schedule: ``recipe.lr`` for
the first 70% of the steps, then a straight line down to (almost) zero over
the last 30% (``COOLDOWN``; ``lr_factor``). With the rate held constant to
the end, the weights are those of one noisy mini-batch step; cooling down
lets the last steps average that noise out. Measured on the reference over
three project seeds: +0.011 to +0.017 real dev accuracy, at no cost in steps,
and a smaller spread between training seeds.

Each training returns its weights (on the CPU) and its learning curve, so
trainings can run in parallel processes (``parallel.run_all``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .cnn import DigitsCNN
from .common import EpochLog, adam, deterministic, pick_device


@dataclass(frozen=True)
class Recipe:
    """One way to train: the `train` block of params.yaml."""

    steps: int
    lr: float
    batch_size: int
    channels: int

    @classmethod
    def from_params(cls, cfg: dict, **changes) -> Recipe:
        fields = {k: cfg[k] for k in ("steps", "lr", "batch_size", "channels")}
        return cls(**{**fields, **changes})


#: the share of the steps, at the end, over which the learning rate falls to zero
COOLDOWN = 0.3


def lr_factor(step: int, steps: int) -> float:
    """The learning rate of optimiser step ``step`` (1 to ``steps``), as a
    share of ``recipe.lr``: 1, then falling linearly over the last
    ``COOLDOWN`` of the steps (1/(COOLDOWN * steps) at the last one)."""
    return min(1.0, (steps - step + 1) / (COOLDOWN * steps))


def warm_up() -> None:
    """Load what PyTorch's optimisers load on first use (about 1.5 CPU
    seconds). Stages that train on several processes pass it to
    ``parallel.run_all``, which runs it once before the workers fork, so they
    inherit it instead of each paying it again; a process that only predicts
    (dlpath's probe) never pays it."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def make_model(channels: int) -> nn.Module:
    return DigitsCNN(channels)


def train(x: np.ndarray, y: np.ndarray, recipe: Recipe, seed: int, *,
          init: dict | None = None, watch: dict | None = None, name: str = "",
          record: bool = False, checkpoints: int = 0) -> tuple[dict, list[dict]]:
    """Train a fresh model (or ``init`` weights) on (x, y) for ``recipe.steps``
    Adam steps of shuffled mini-batches, the learning rate cooling down at the
    end (``lr_factor``); return (CPU state dict, curve).

    With ``checkpoints``, the steps are cut into that many equal slices (the
    "epochs" of the progress lines): after each, one line shows the training
    loss and the accuracy on every (x, y) set in ``watch`` (``val_acc``,
    ``dev_acc``...). ``record`` also writes them with DVCLive to
    ``dvclive/<name>/`` and draws ``plots/<name>_curves.png``.

    The same seed gives the same weights on a GPU too (deterministic kernels:
    left to itself, cuDNN picks them by speed, and the curation's flags would
    change from run to run).
    """
    with deterministic():
        return _train(x, y, recipe, seed, init=init, watch=watch, name=name, record=record,
                      checkpoints=checkpoints)


def _train(x: np.ndarray, y: np.ndarray, recipe: Recipe, seed: int, *, init: dict | None,
           watch: dict | None, name: str, record: bool, checkpoints: int
           ) -> tuple[dict, list[dict]]:
    device = pick_device()
    torch.manual_seed(seed)
    model = make_model(recipe.channels)
    if init is not None:
        model.load_state_dict(init)
    model.to(device)
    optimiser = adam(model.parameters(), recipe.lr)
    xs = torch.as_tensor(x, dtype=torch.float32, device=device)
    ys = torch.as_tensor(y, dtype=torch.long, device=device)
    batch = min(recipe.batch_size, len(ys))
    generator = torch.Generator().manual_seed(seed)
    order, pos = torch.randperm(len(ys), generator=generator), 0
    marks = list(np.linspace(0, recipe.steps, checkpoints + 1).round().astype(int)[1:])
    log = EpochLog(name or "train", epochs=len(marks), record=record) if marks else None
    losses: list[float] = []
    model.train()
    for step in range(1, recipe.steps + 1):
        if pos + batch > len(ys):
            order, pos = torch.randperm(len(ys), generator=generator), 0
        idx = order[pos:pos + batch].to(device)
        pos += batch
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(model(xs[idx]), ys[idx])
        loss.backward()
        for group in optimiser.param_groups:
            group["lr"] = recipe.lr * lr_factor(step, recipe.steps)
        optimiser.step()
        losses.append(float(loss.detach()))
        if log is not None and step in marks:
            seen = {f"{k}_acc": accuracy(model, wx, wy) for k, (wx, wy) in (watch or {}).items()}
            log.epoch(marks.index(step) + 1, train_loss=float(np.mean(losses)), **seen)
            losses = []
            model.train()
    model.eval()
    curve = []
    if log is not None:
        log.close()
        curve = log.history
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}, curve


@torch.no_grad()
def predict(model_or_state: nn.Module | dict, x: np.ndarray, channels: int | None = None
            ) -> np.ndarray:
    """Predicted classes for (N, 1, 8, 8) images."""
    model = model_or_state
    if isinstance(model_or_state, dict):
        model = make_model(channels or _channels(model_or_state))
        model.load_state_dict(model_or_state)
    device = next(model.parameters()).device
    model.eval()
    logits = model(torch.as_tensor(x, dtype=torch.float32, device=device))
    return logits.argmax(1).cpu().numpy()


@torch.no_grad()
def probabilities(model_or_state: nn.Module | dict, x: np.ndarray) -> np.ndarray:
    """Class probabilities (softmax) for (N, 1, 8, 8) images, as a NumPy array."""
    model = model_or_state
    if isinstance(model_or_state, dict):
        model = make_model(_channels(model_or_state))
        model.load_state_dict(model_or_state)
    device = next(model.parameters()).device
    model.eval()
    logits = model(torch.as_tensor(x, dtype=torch.float32, device=device))
    return torch.softmax(logits, 1).cpu().numpy()


def accuracy(model_or_state: nn.Module | dict, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict(model_or_state, x) == np.asarray(y)).mean())


def log_loss(model_or_state: nn.Module | dict, x: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy (nats) of the true labels: what accuracy misses,
    how much probability the model puts on the right digit."""
    p = probabilities(model_or_state, x)[np.arange(len(y)), np.asarray(y)]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())


def _channels(state: dict) -> int:
    return int(state["features.0.weight"].shape[0])


def load(path: str) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def mean_sd(values: list[float]) -> dict:
    """Mean and (sample) standard deviation over seeds, with the values."""
    v = np.asarray(values, dtype=float)
    return {"mean": round(float(v.mean()), 4),
            "sd": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 4),
            "seeds": [round(float(a), 4) for a in v]}
