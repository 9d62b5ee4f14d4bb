"""Reference solution: exercises/descent.py."""

from __future__ import annotations

import numpy as np


def loss(w, a, b):
    return float(0.5 * w @ a @ w - b @ w)


def gradient(w, a, b):
    return a @ w - b


def descend(w0, a, b, lr, steps):
    path = [np.array(w0, dtype=float)]
    for _ in range(steps):
        path.append(path[-1] - lr * gradient(path[-1], a, b))
    return np.stack(path)
