"""Exercise 7: initialisation: why deep networks once refused to train.

Push a batch through a deep stack of dense layers (no biases) and watch the
spread of the activations layer after layer. Each unit sums fan_in products
w * x; the variance of that sum depends on fan_in, on the variance of the
weights and on what the non-linearity does to its input. Pick the weights'
scale badly and the signal shrinks geometrically to nothing (vanishing:
every layer outputs ~0, gradients die with it) or grows geometrically
(exploding: tanh saturates at +-1, ReLU overflows). Pick it well and the
spread stays the same at every depth.

The schemes (weights drawn from a normal distribution with mean 0):

    "small"   standard deviation 0.01, whatever the layer
    "large"   standard deviation 1.0, whatever the layer
    "xavier"  (Glorot & Bengio, 2010) the variance that keeps the spread
              constant through a layer of a tanh network, compromising
              between the forward pass (fan_in) and the backward pass
              (fan_out): use their average
    "he"      (He et al., 2015) the same for ReLU, which zeroes half of
              what it receives

Work out the variance of one unit's sum, then choose the weights' variance
that makes it equal the variance of the layer's input (`dlpath hint init`).

The `init` stage of the pipeline (`dvc repro`) runs your functions on a
20-layer network of width 256 for every scheme, with tanh and with ReLU,
and plots the spread per layer to plots/init.png.

Run the tests:  python -m pytest -q tests/test_init.py
Check it:       dlpath check -m init      (stuck? dlpath hint init)
"""

from __future__ import annotations

import numpy as np

SCHEMES = ("small", "large", "xavier", "he")
ACTIVATIONS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


def init_weights(fan_in: int, fan_out: int, scheme: str, rng: np.random.Generator) -> np.ndarray:
    """A (fan_in, fan_out) weight matrix drawn with `rng` for one of SCHEMES.

    Raise ValueError for an unknown scheme.
    """
    ### BEGIN SOLUTION: initialisation schemes (test: tests/test_init.py)
    std = {"small": 0.01, "large": 1.0,
           "xavier": np.sqrt(2.0 / (fan_in + fan_out)),
           "he": np.sqrt(2.0 / fan_in)}.get(scheme)
    if std is None:
        raise ValueError(f"unknown scheme {scheme!r}: use one of {', '.join(SCHEMES)}")
    return rng.normal(0.0, std, size=(fan_in, fan_out))
    ### END SOLUTION


def activation_spread(x: np.ndarray, weights: list[np.ndarray], activation: str) -> np.ndarray:
    """Push x (n, d) through the layers h <- activation(h @ w) for each w in
    `weights`; return the standard deviation of h (over all its entries)
    after each layer: shape (len(weights),)."""
    ### BEGIN SOLUTION: activations through a deep network (test: tests/test_init.py)
    act = ACTIVATIONS[activation]
    spread = np.empty(len(weights))
    h = x
    for i, w in enumerate(weights):
        h = act(h @ w)
        spread[i] = h.std()
    return spread
    ### END SOLUTION


def experiment(scheme: str, activation: str, depth: int = 20, width: int = 256,
               batch: int = 512, seed: int = 0) -> np.ndarray:
    """The spread per layer of a deep network with standard normal inputs (given)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, width))
    weights = [init_weights(width, width, scheme, rng) for _ in range(depth)]
    with np.errstate(over="ignore", invalid="ignore"):
        return activation_spread(x, weights, activation)
