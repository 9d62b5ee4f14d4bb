"""Exercise 4: the chain rule by hand, for a two-layer network.

Backpropagation is the multivariate chain rule applied in the right order.
The network here:

    z1 = x @ w1 + b1          (n, h)   a dense layer
    a1 = tanh(z1)             (n, h)   the non-linearity
    z2 = a1 @ w2 + b2         (n, k)   a second dense layer: the logits
    loss = cross_entropy(z2, y)        (a number; exercise 3)

Going backwards, each step multiplies the gradient that arrives by the local
derivative of one operation (write d_v for d loss / d v, shaped like v):

    d_z2 = (softmax(z2) - one_hot(y)) / n        softmax + cross-entropy together
    d_w2 = a1.T @ d_z2,  d_b2 = d_z2.sum(axis=0)  a product: the other factor, transposed
    d_a1 = d_z2 @ w2.T
    d_z1 = d_a1 * (1 - a1 ** 2)                   tanh'(z) = 1 - tanh(z)^2, element-wise
    d_w1 = x.T @ d_z1,   d_b1 = d_z1.sum(axis=0)

Derive each line yourself before you code it: the shapes tell you where the
transposes go (d_w1 must be shaped like w1). Then never trust a hand-written
gradient until a *numerical gradient check* agrees with it: nudge one
parameter by +eps and -eps, and the central difference

    (loss(p + eps) - loss(p - eps)) / (2 eps)

approximates d loss / d p with an error of order eps^2. Autograd in
PyTorch does exactly this bookkeeping, on a graph it records as you compute.

Run the tests:  python -m pytest -q tests/test_backprop.py
Check it:       dlpath check -m backprop
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from exercises.softmax import cross_entropy, softmax

PARAMS = ("w1", "b1", "w2", "b2")


def init_params(d_in: int, d_hidden: int, d_out: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Small random weights and zero biases (given)."""
    rng = np.random.default_rng(seed)
    return {
        "w1": rng.normal(0.0, 1.0 / np.sqrt(d_in), size=(d_in, d_hidden)),
        "b1": np.zeros(d_hidden),
        "w2": rng.normal(0.0, 1.0 / np.sqrt(d_hidden), size=(d_hidden, d_out)),
        "b2": np.zeros(d_out),
    }


def forward(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """The loss (a float) and a cache of what backward needs.

    Return (loss, cache) where cache is a dict holding at least "x", "y",
    "a1" and "z2" (backward uses them).
    """
    raise NotImplementedError("TODO: z1, a1 = tanh(z1), z2, then cross_entropy(z2, y)")


def backward(params: dict[str, np.ndarray], cache: dict) -> dict[str, np.ndarray]:
    """The gradients of the loss: {"w1": ..., "b1": ..., "w2": ..., "b2": ...},
    each shaped like its parameter."""
    raise NotImplementedError("TODO: apply the chain rule from d_z2 back to d_w1")


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """The central-difference gradient of f with respect to the array x.

    f takes no argument and computes a number from x (and other arrays it
    closes over). Change one element of x at a time in place, call f at
    x + eps and x - eps, and put the element back exactly as it was. Return
    an array shaped like x. (A loop is fine here: this is a test tool.)
    """
    raise NotImplementedError("TODO: for each element: (f(x+eps) - f(x-eps)) / (2 eps)")


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|): below 1e-6 means two gradients agree (given)."""
    return float(np.max(np.abs(a - b)) / max(1e-12, float(np.max(np.abs(a) + np.abs(b)))))


def train_step(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One step of gradient descent with your forward and backward; returns the loss (given)."""
    loss, cache = forward(params, x, y)
    grads = backward(params, cache)
    for name in PARAMS:
        params[name] -= lr * grads[name]
    return loss


__all__ = ["PARAMS", "backward", "forward", "init_params", "numerical_gradient",
           "relative_error", "softmax", "train_step"]
