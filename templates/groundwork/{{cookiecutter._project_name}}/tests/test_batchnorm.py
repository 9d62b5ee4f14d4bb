"""Exercise 6 (exercises/batchnorm.py). Run: python -m pytest -q tests/test_batchnorm.py"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # however pytest imports this file
from exercise_rules import derived_gradient  # noqa: E402

from exercises import batchnorm  # noqa: E402


def test_forward_normalises_each_column():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 8.0]])
    out, _ = batchnorm.batchnorm_forward(x, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(out.mean(axis=0), [0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(out.std(axis=0), [1.0, 1.0], atol=1e-4)


def test_gamma_and_beta_scale_and_shift():
    x = np.array([[1.0], [3.0]])
    out, _ = batchnorm.batchnorm_forward(x, np.array([2.0]), np.array([10.0]), eps=0.0)
    np.testing.assert_allclose(out, [[8.0], [12.0]])


def _numerical(f, array, h=1e-6):
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


def test_backward_against_central_differences():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)
    weights = rng.normal(size=(4, 3))  # loss = sum(weights * out), so dout = weights
    _, cache = batchnorm.batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = batchnorm.batchnorm_backward(weights, cache)

    def loss():
        return np.sum(weights * batchnorm.batchnorm_forward(x, gamma, beta)[0])

    np.testing.assert_allclose(dx, _numerical(loss, x), atol=1e-6)
    np.testing.assert_allclose(dgamma, _numerical(loss, gamma), atol=1e-6)
    np.testing.assert_allclose(dbeta, _numerical(loss, beta), atol=1e-6)


def test_backward_is_derived_not_differenced():
    # 131,072 inputs: a numerical gradient needs 262,144 forward passes.
    rng = np.random.default_rng(1)
    x, gamma, beta = rng.normal(size=(512, 256)), rng.normal(size=256), rng.normal(size=256)
    _, cache = batchnorm.batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = derived_gradient(batchnorm.batchnorm_backward,
                                         (rng.normal(size=x.shape), cache),
                                         batchnorm.batchnorm_forward, (x, gamma, beta))
    assert dx.shape == x.shape and dgamma.shape == dbeta.shape == (256,)


def test_training_mode_updates_the_running_statistics():
    layer = batchnorm.BatchNorm(2, momentum=0.5)
    x = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 16.0]])
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, [1.0, 6.0])           # 0.5 * 0 + 0.5 * mean
    np.testing.assert_allclose(layer.running_var, [0.5 + 2.0, 0.5 + 6.0])  # unbiased: n - 1


def test_eval_mode_uses_the_running_statistics_and_changes_nothing():
    layer = batchnorm.BatchNorm(1, momentum=1.0)
    layer.forward(np.array([[1.0], [3.0]]))  # running mean 2, running var 2
    layer.eval()
    before = (layer.running_mean.copy(), layer.running_var.copy())
    out = layer.forward(np.array([[2.0], [4.0]]))
    np.testing.assert_allclose(out, [[0.0], [2.0 / np.sqrt(2.0 + 1e-5)]])
    np.testing.assert_array_equal(layer.running_mean, before[0])
    np.testing.assert_array_equal(layer.running_var, before[1])
    one = layer.forward(np.array([[4.0]]))  # one example alone gives the same answer
    assert one[0, 0] == pytest.approx(out[1, 0])
