"""Reference solution: exercises/backprop.py."""

from __future__ import annotations

import numpy as np
from exercises.softmax import cross_entropy, softmax

PARAMS = ("w1", "b1", "w2", "b2")


def init_params(d_in, d_hidden, d_out, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "w1": rng.normal(0.0, 1.0 / np.sqrt(d_in), size=(d_in, d_hidden)),
        "b1": np.zeros(d_hidden),
        "w2": rng.normal(0.0, 1.0 / np.sqrt(d_hidden), size=(d_hidden, d_out)),
        "b2": np.zeros(d_out),
    }


def forward(params, x, y):
    a1 = np.tanh(x @ params["w1"] + params["b1"])
    z2 = a1 @ params["w2"] + params["b2"]
    return cross_entropy(z2, y), {"x": x, "y": y, "a1": a1, "z2": z2}


def backward(params, cache):
    x, y, a1, z2 = cache["x"], cache["y"], cache["a1"], cache["z2"]
    n = len(x)
    d_z2 = softmax(z2)
    d_z2[np.arange(n), y] -= 1
    d_z2 /= n
    d_z1 = (d_z2 @ params["w2"].T) * (1 - a1**2)
    return {"w1": x.T @ d_z1, "b1": d_z1.sum(axis=0), "w2": a1.T @ d_z2, "b2": d_z2.sum(axis=0)}


def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    return float(np.max(np.abs(a - b)) / max(1e-12, float(np.max(np.abs(a) + np.abs(b)))))


def train_step(params, x, y, lr):
    loss, cache = forward(params, x, y)
    grads = backward(params, cache)
    for name in PARAMS:
        params[name] -= lr * grads[name]
    return loss
