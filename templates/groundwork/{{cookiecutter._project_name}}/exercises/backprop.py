"""Exercise 4: the chain rule by hand, for a two-layer network.

The network (n examples, d inputs, h hidden units, k classes):

    z1 = x @ w1 + b1          (n, h)   a dense layer: w1 (d, h), b1 (h,)
    a1 = tanh(z1)             (n, h)   the non-linearity
    z2 = a1 @ w2 + b2         (n, k)   a second dense layer, the logits: w2 (h, k), b2 (k,)
    loss = cross_entropy(z2, y)        a number (exercise 3)

Backpropagation is the multivariate chain rule applied in the right order.
Write d_v for d loss / d v: it has the shape of v. Start from the loss and
walk the forward pass backwards; at each operation, the gradient that
arrives is multiplied by that operation's local derivative, and where a
value feeds several others, their contributions add up. Derive each
gradient on paper first, with small shapes; the shapes tell you where the
transposes go (d_w1 must be shaped like w1). `dlpath hint backprop` helps
one step at a time.

Never trust a hand-written gradient until a *numerical gradient check*
agrees with it: nudge one parameter by +eps and -eps, and the central
difference (loss(p + eps) - loss(p - eps)) / (2 eps) approximates
d loss / d p with an error of order eps^2. That costs two forward passes
per parameter, which is why it is a test tool and never the backward pass
itself.

The rules (the tests check them): `backward` is derived, not differenced:
on a network with tens of thousands of parameters it must cost a few
forward passes and a few dozen lines of Python; and it uses no automatic
differentiation library (PyTorch, JAX...).

Run the tests:  python -m pytest -q tests/test_backprop.py
Check it:       dlpath check -m backprop      (stuck? dlpath hint backprop)
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
    "a1" and "z2" (backward reads them; add what else you need).
    """
    ### BEGIN SOLUTION: the forward pass of a two-layer network (test: tests/test_backprop.py)
    z1 = x @ params["w1"] + params["b1"]
    a1 = np.tanh(z1)
    z2 = a1 @ params["w2"] + params["b2"]
    return cross_entropy(z2, y), {"x": x, "y": y, "a1": a1, "z2": z2}
    ### END SOLUTION


def backward(params: dict[str, np.ndarray], cache: dict) -> dict[str, np.ndarray]:
    """The gradients of the loss: {"w1": ..., "b1": ..., "w2": ..., "b2": ...},
    each shaped like its parameter, derived with the chain rule."""
    ### BEGIN SOLUTION: backpropagation by the chain rule (test: tests/test_backprop.py)
    x, y, a1, z2 = cache["x"], cache["y"], cache["a1"], cache["z2"]
    n = len(x)
    d_z2 = softmax(z2)
    d_z2[np.arange(n), y] -= 1.0
    d_z2 /= n
    d_a1 = d_z2 @ params["w2"].T
    d_z1 = d_a1 * (1.0 - a1 ** 2)
    return {"w1": x.T @ d_z1, "b1": d_z1.sum(axis=0),
            "w2": a1.T @ d_z2, "b2": d_z2.sum(axis=0)}
    ### END SOLUTION


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """The central-difference gradient of f with respect to the array x.

    f takes no argument and computes a number from x (and other arrays it
    closes over). Change one element of x at a time in place, call f at
    x + eps and x - eps, and put the element back exactly as it was. Return
    an array shaped like x. (A loop is fine here: this is a test tool.)
    """
    ### BEGIN SOLUTION: a numerical gradient check (test: tests/test_backprop.py)
    grad = np.zeros_like(x, dtype=float)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        up = f()
        x[index] = old - eps
        down = f()
        x[index] = old
        grad[index] = (up - down) / (2 * eps)
    return grad
    ### END SOLUTION


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


__all__ = ["PARAMS", "backward", "cross_entropy", "forward", "init_params", "numerical_gradient",
           "relative_error", "softmax", "train_step"]
