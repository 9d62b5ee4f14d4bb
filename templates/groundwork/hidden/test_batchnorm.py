"""Hidden tests of exercise 5 (kept inside dlpath; run by `dlpath check`)."""

import numpy as np
import pytest

from exercises import batchnorm


def _reference_forward(x, gamma, beta, eps):
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    var = ((x - mu) ** 2).sum(axis=0) / n
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@pytest.mark.parametrize("seed", range(5))
def test_forward_and_backward_on_random_batches(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 10000 + seed])
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 6))
    x = rng.normal(loc=rng.normal(size=d) * 3, scale=rng.uniform(0.5, 4, size=d), size=(n, d))
    gamma, beta, eps = rng.normal(size=d), rng.normal(size=d), float(rng.choice([1e-5, 1e-3]))
    out, cache = batchnorm.batchnorm_forward(x, gamma, beta, eps)
    np.testing.assert_allclose(out, _reference_forward(x, gamma, beta, eps), rtol=1e-9,
                               atol=1e-10)
    w = rng.normal(size=(n, d))  # loss = sum(w * out)
    dx, dgamma, dbeta = batchnorm.batchnorm_backward(w, cache)
    h = 1e-6

    def numeric(array):
        grad = np.zeros_like(array)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + h
            up = np.sum(w * _reference_forward(x, gamma, beta, eps))
            array[idx] = old - h
            down = np.sum(w * _reference_forward(x, gamma, beta, eps))
            array[idx] = old
            grad[idx] = (up - down) / (2 * h)
        return grad

    np.testing.assert_allclose(dx, numeric(x), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dgamma, numeric(gamma), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dbeta, numeric(beta), rtol=1e-4, atol=1e-6)
