"""Data that needs no download: splitting helpers and scikit-learn's bundled digits."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def split(x: np.ndarray, y: np.ndarray, val: float, test: float, seed: int):
    """Stratified train/val/test split: returns ((x, y), (x, y), (x, y))."""
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test, random_state=seed, stratify=y
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val / (1 - test), random_state=seed, stratify=y_rest
    )
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits shipped with scikit-learn, scaled to [0, 1].

    Images come as (N, 1, 8, 8) float32, labels as int64.
    """
    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    return x, bunch.target.astype(np.int64)
