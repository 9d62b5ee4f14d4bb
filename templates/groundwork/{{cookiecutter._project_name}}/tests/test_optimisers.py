"""Exercise 9 (exercises/optimisers.py). Run: python -m pytest -q tests/test_optimisers.py"""

import numpy as np
import pytest

from exercises import optimisers

A = np.diag([10.0, 0.2])  # a narrow valley: condition number 50
B = np.array([1.0, 1.0])
MINIMUM = np.linalg.solve(A, B)


def gradient(w):
    return A @ w - B


def test_momentum_by_hand():
    params = {"w": np.array([1.0, 1.0])}
    opt = optimisers.Momentum(lr=0.1, beta=0.5)
    opt.step(params, {"w": np.array([1.0, -2.0])})   # v = g
    np.testing.assert_allclose(params["w"], [0.9, 1.2])
    opt.step(params, {"w": np.array([1.0, 0.0])})    # v = 0.5 v + g
    np.testing.assert_allclose(params["w"], [0.75, 1.3])


def test_adam_by_hand():
    params = {"w": np.array([0.0, 0.0])}
    opt = optimisers.Adam(lr=0.1)
    opt.step(params, {"w": np.array([2.0, -0.001])})
    # after bias correction the first step moves every coordinate by about lr
    np.testing.assert_allclose(params["w"], [-0.1, 0.1], rtol=1e-4)
    assert opt.t == 1


def test_optimisers_keep_one_state_per_parameter():
    params = {"a": np.array([1.0]), "b": np.array([1.0, 1.0])}
    opt = optimisers.Momentum(lr=1.0, beta=0.9)
    opt.step(params, {"a": np.array([1.0]), "b": np.array([0.0, 0.0])})
    opt.step(params, {"a": np.array([0.0]), "b": np.array([1.0, 1.0])})
    np.testing.assert_allclose(params["a"], [1.0 - 1.0 - 0.9])
    np.testing.assert_allclose(params["b"], [0.0, 0.0])


def test_momentum_crosses_the_valley_faster_than_gradient_descent():
    w0 = np.array([-4.0, -4.0])
    plain = optimisers.run(optimisers.SGD(lr=0.15), w0, gradient, 300)
    fast = optimisers.run(optimisers.Momentum(lr=0.15, beta=0.9), w0, gradient, 300)
    assert np.linalg.norm(fast[-1] - MINIMUM) < 0.01 * np.linalg.norm(plain[-1] - MINIMUM)


@pytest.mark.parametrize("lr", [0.05, 0.5])
def test_adam_reaches_the_minimum(lr):
    path = optimisers.run(optimisers.Adam(lr=lr), np.array([-4.0, -4.0]), gradient, 3000)
    assert np.linalg.norm(path[-1] - MINIMUM) < 0.05
