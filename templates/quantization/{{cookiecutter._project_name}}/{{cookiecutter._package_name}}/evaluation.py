"""Reading the splits and scoring models on them (on the CPU, where int8 runs)."""

from __future__ import annotations

import random

import numpy as np
import torch

from .common import load_split


def load_xy(part: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 8, 8) and labels of data/prepared/<part>.npz, on the CPU."""
    split = load_split(f"data/prepared/{part}.npz")
    return torch.as_tensor(split["x"]), torch.as_tensor(split["y"])


@torch.inference_mode()
def logits(model, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    return torch.cat([model(b) for b in x.split(batch_size)])


def accuracy(model, x: torch.Tensor, y: torch.Tensor) -> float:
    return round(float((logits(model, x).argmax(1) == y).float().mean()), 5)


def drop(fp32: float, other: float) -> float:
    """Accuracy lost, in percentage points (1.0 = one point)."""
    return round((fp32 - other) * 100, 3)


def seed_all(seed: int) -> None:
    """Same seed, same numbers. Unlike common.set_seed this leaves PyTorch's
    deterministic-algorithms mode off: int8 kernels have no deterministic
    variant flag and would warn on every call (they are deterministic on a
    CPU anyway)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
