"""Exercise 5 (exercises/batchnorm.py). Run: python -m pytest -q tests/test_batchnorm.py"""

import numpy as np

from exercises import batchnorm


def test_forward_normalises_each_column():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 8.0]])
    out, _ = batchnorm.batchnorm_forward(x, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(out.mean(axis=0), [0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(out.std(axis=0), [1.0, 1.0], atol=1e-4)


def test_gamma_and_beta_scale_and_shift():
    x = np.array([[1.0], [3.0]])
    out, _ = batchnorm.batchnorm_forward(x, np.array([2.0]), np.array([10.0]), eps=0.0)
    np.testing.assert_allclose(out, [[8.0], [12.0]])


def test_backward_against_central_differences():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)
    weights = rng.normal(size=(4, 3))  # loss = sum(weights * out), so dout = weights
    _, cache = batchnorm.batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = batchnorm.batchnorm_backward(weights, cache)
    eps, numeric = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = np.sum(weights * batchnorm.batchnorm_forward(x, gamma, beta)[0])
        x[idx] = old - eps
        down = np.sum(weights * batchnorm.batchnorm_forward(x, gamma, beta)[0])
        x[idx] = old
        numeric[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(dx, numeric, atol=1e-6)
    np.testing.assert_allclose(dbeta, weights.sum(axis=0))
    assert dgamma.shape == (3,)
