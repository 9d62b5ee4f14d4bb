"""Exercise 6: the Gaussian, and batch normalisation forward and backward.

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

The backward pass is the chain rule again, with a twist: mu and var are
computed from the whole batch, so every output of a column depends on every
input of that column. Draw the graph (x -> mu, x -> var, x -> x_hat ...)
and follow every path from out back to x; `dlpath hint batchnorm` helps.

At test time there is no batch to average over (one example at a time must
give the same answer whatever else is in the batch). So during training the
layer keeps *running* estimates, an exponential moving average over batches:

    running = (1 - momentum) * running + momentum * batch statistic

and in eval mode it normalises with them instead of the batch's. As in
PyTorch, the running variance is fed the *unbiased* batch variance (divide
by n - 1), while training normalises with the biased one.

The rules (the tests check them): `batchnorm_backward` is derived, not
differenced (a batch with over 100,000 inputs must cost a few forward
passes), and uses no automatic differentiation library.

Run the tests:  python -m pytest -q tests/test_batchnorm.py
Check it:       dlpath check -m batchnorm      (stuck? dlpath hint batchnorm)
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5):
    """Training-mode batch normalisation of x (n, d) with the batch's own
    statistics: returns (out, cache).

    The cache holds whatever batchnorm_backward needs.
    """
    ### BEGIN SOLUTION: batch normalisation, forward (test: tests/test_batchnorm.py)
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, {"x_hat": x_hat, "var": var, "gamma": gamma, "eps": eps}
    ### END SOLUTION


def batchnorm_backward(dout: np.ndarray, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given d loss / d out (n, d), return (dx, dgamma, dbeta), shaped like
    x, gamma and beta."""
    ### BEGIN SOLUTION: batch normalisation, backward (test: tests/test_batchnorm.py)
    x_hat, var, gamma, eps = cache["x_hat"], cache["var"], cache["gamma"], cache["eps"]
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) \
        / (n * np.sqrt(var + eps))
    return dx, dgamma, dbeta
    ### END SOLUTION


class BatchNorm:
    """A batch-norm layer with learned gamma, beta and running statistics.

    `training` is True after construction; `train()` and `eval()` switch it,
    as in PyTorch.
    """

    def __init__(self, d: int, momentum: float = 0.1, eps: float = 1e-5):
        self.gamma, self.beta = np.ones(d), np.zeros(d)
        self.running_mean, self.running_var = np.zeros(d), np.ones(d)
        self.momentum, self.eps = momentum, eps
        self.training = True
        self.cache = None

    def train(self) -> BatchNorm:
        self.training = True
        return self

    def eval(self) -> BatchNorm:
        self.training = False
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        """In training mode: normalise with the batch's statistics (keep the
        cache for backward) and update the running statistics. In eval mode:
        normalise with the running statistics, and change nothing."""
        ### BEGIN SOLUTION: running statistics, train and eval modes (test: tests/test_batchnorm.py)
        if not self.training:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return self.gamma * x_hat + self.beta
        out, self.cache = batchnorm_forward(x, self.gamma, self.beta, self.eps)
        n = x.shape[0]
        unbiased = x.var(axis=0, ddof=1) if n > 1 else np.zeros(x.shape[1])
        m = self.momentum
        self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
        self.running_var = (1 - m) * self.running_var + m * unbiased
        return out
        ### END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx for the last training-mode forward; the gradients of gamma and
        beta are kept in self.dgamma and self.dbeta (given)."""
        if self.cache is None:
            raise RuntimeError("backward needs a training-mode forward first")
        dx, self.dgamma, self.dbeta = batchnorm_backward(dout, self.cache)
        return dx
