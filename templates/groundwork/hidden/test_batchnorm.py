"""Hidden tests of exercise 6 (kept inside dlpath; run by `dlpath check`).

Forward, backward and running statistics on random batches, compared with
independent computations; batchnorm_backward must be derived (a batch with
over 100,000 inputs within the budget of a few forward passes, no autograd
library).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng, rules  # noqa: E402

from exercises import batchnorm  # noqa: E402

CASES = range(5)


def _reference_forward(x, gamma, beta, eps):
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    var = ((x - mu) ** 2).sum(axis=0) / n
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _reference_backward(dout, x, gamma, eps):
    """dx derived stage by stage through mu and var (not the compact formula)."""
    n = x.shape[0]
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    dx_hat = dout * gamma
    d_var = np.sum(dx_hat * xmu, axis=0) * -0.5 * std ** -3
    d_mu = -np.sum(dx_hat / std, axis=0) + d_var * np.mean(-2.0 * xmu, axis=0)
    return dx_hat / std + d_var * 2.0 * xmu / n + d_mu / n


def _batch(r):
    n, d = int(r.integers(2, 9)), int(r.integers(1, 6))
    x = r.normal(loc=r.normal(size=d) * 3, scale=r.uniform(0.5, 4, size=d), size=(n, d))
    return x, r.normal(size=d), r.normal(size=d), float(r.choice([1e-5, 1e-3, 0.1]))


def _numeric(f, array, h=1e-6):
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + h
        up = f()
        array[idx] = old - h
        down = f()
        array[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("case", CASES)
def test_batchnorm_forward_on_random_batches(case):
    x, gamma, beta, eps = _batch(rng(60, case))
    out, _ = batchnorm.batchnorm_forward(x, gamma, beta, eps)
    np.testing.assert_allclose(out, _reference_forward(x, gamma, beta, eps), rtol=1e-9,
                               atol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_batchnorm_backward_on_random_batches(case):
    r = rng(61, case)
    x, gamma, beta, eps = _batch(r)
    w = r.normal(size=x.shape)  # loss = sum(w * out)
    _, cache = batchnorm.batchnorm_forward(x, gamma, beta, eps)
    dx, dgamma, dbeta = batchnorm.batchnorm_backward(w, cache)

    def loss():
        return np.sum(w * _reference_forward(x, gamma, beta, eps))

    np.testing.assert_allclose(dx, _numeric(loss, x), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dx, _reference_backward(w, x, gamma, eps), rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(dgamma, _numeric(loss, gamma), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dbeta, _numeric(loss, beta), rtol=1e-4, atol=1e-6)


def test_batchnorm_backward_is_derived_not_differenced():
    r = rng(62)
    n, d = int(r.integers(400, 600)), int(r.integers(200, 300))
    x, gamma, beta = r.normal(size=(n, d)) * 2 + 1, r.normal(size=d), r.normal(size=d)
    _, cache = batchnorm.batchnorm_forward(x, gamma, beta)
    dout = r.normal(size=(n, d))
    dx, dgamma, dbeta = rules.derived_gradient(batchnorm.batchnorm_backward, (dout, cache),
                                               batchnorm.batchnorm_forward, (x, gamma, beta))
    x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(dbeta, dout.sum(0), rtol=1e-9)
    np.testing.assert_allclose(dgamma, (dout * x_hat).sum(0), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dx, _reference_backward(dout, x, gamma, 1e-5), rtol=1e-7,
                               atol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_batchnorm_layer_running_statistics_and_modes(case):
    r = rng(63, case)
    d, momentum = int(r.integers(1, 5)), float(r.uniform(0.05, 0.9))
    layer = batchnorm.BatchNorm(d, momentum=momentum, eps=1e-5)
    layer.gamma, layer.beta = r.normal(size=d), r.normal(size=d)
    mean, var = np.zeros(d), np.ones(d)
    for _ in range(int(r.integers(1, 5))):
        x = r.normal(loc=3, scale=2, size=(int(r.integers(2, 10)), d))
        out = layer.forward(x)
        np.testing.assert_allclose(out, _reference_forward(x, layer.gamma, layer.beta, 1e-5),
                                   rtol=1e-9, atol=1e-10)
        mean = (1 - momentum) * mean + momentum * x.mean(0)
        var = (1 - momentum) * var + momentum * x.var(0, ddof=1)
        np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-9)
        np.testing.assert_allclose(layer.running_var, var, rtol=1e-9)
    layer.eval()
    x = r.normal(size=(int(r.integers(1, 6)), d))
    expected = layer.gamma * (x - mean) / np.sqrt(var + 1e-5) + layer.beta
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)
    layer.train()
    assert layer.training
