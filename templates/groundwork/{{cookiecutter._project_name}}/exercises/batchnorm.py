"""Exercise 5: the Gaussian, and batch normalisation forward and backward.

A Gaussian is described by two numbers: its mean and its variance. Deep
networks train best when each layer's inputs stay roughly zero-mean and
unit-variance; when the distribution of activations drifts as earlier layers
learn, later layers chase a moving target and need tiny learning rates.

Batch normalisation fixes the first two moments directly. For a batch x of
shape (n, d), per feature (column):

    mu    = mean of x over the batch                  (d,)
    var   = mean of (x - mu)^2 over the batch         (d,)   (divide by n, not n - 1)
    x_hat = (x - mu) / sqrt(var + eps)                (n, d) zero mean, unit variance
    out   = gamma * x_hat + beta                      (n, d) the layer may undo it if useful

gamma and beta are learned, so normalising never costs expressiveness.

Backward: every output depends on every input of its column through mu and
var, so the chain rule has three paths. With N = n and dx_hat = dout * gamma:

    dbeta  = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx     = (1 / N) / sqrt(var + eps) * (N * dx_hat - dx_hat.sum(axis=0)
                                          - x_hat * (dx_hat * x_hat).sum(axis=0))

Derive that last line yourself (through x_hat, var and mu), then let a
numerical gradient check (exercise 4) confirm it.

Run the tests:  python -m pytest -q tests/test_batchnorm.py
Check it:       dlpath check -m batchnorm
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5):
    """Training-mode batch normalisation of x (n, d): returns (out, cache).

    The cache holds whatever batchnorm_backward needs (x_hat, var, gamma, eps, ...).
    """
    raise NotImplementedError("TODO: batch mean and variance per column, normalise, scale, shift")


def batchnorm_backward(dout: np.ndarray, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given d loss / d out, return (dx, dgamma, dbeta)."""
    raise NotImplementedError("TODO: dbeta, dgamma, then dx through x_hat, var and mu")
