"""Exercise 4 (exercises/backprop.py). Run: python -m pytest -q tests/test_backprop.py"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # however pytest imports this file
from exercise_rules import derived_gradient  # noqa: E402

from exercises import backprop  # noqa: E402


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])
    return backprop.init_params(3, 4, 2, seed=1), x, y


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = backprop.numerical_gradient(lambda: float(np.sum(x**2)), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-6)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # x is put back


def test_forward_gives_the_loss_of_a_fresh_network(problem):
    params, x, y = problem
    loss, cache = backprop.forward(params, x, y)
    assert 0.3 < loss < 1.5  # close to log 2 for two classes
    assert {"x", "y", "a1", "z2"} <= set(cache)


@pytest.mark.parametrize("name", backprop.PARAMS)
def test_backward_agrees_with_the_numerical_gradient(problem, name):
    params, x, y = problem
    params["b1"] += 0.1  # non-zero biases, so their gradients are tested
    _, cache = backprop.forward(params, x, y)
    grads = backprop.backward(params, cache)
    numeric = backprop.numerical_gradient(lambda: backprop.forward(params, x, y)[0],
                                          params[name])
    assert grads[name].shape == params[name].shape
    assert backprop.relative_error(grads[name], numeric) < 1e-6


def test_backward_is_derived_not_differenced():
    # 68,000 parameters: a numerical gradient needs 137,000 forward passes.
    rng = np.random.default_rng(1)
    params = backprop.init_params(256, 256, 10, seed=2)
    x, y = rng.normal(size=(64, 256)), rng.integers(0, 10, size=64)
    _, cache = backprop.forward(params, x, y)
    grads = derived_gradient(backprop.backward, (params, cache),
                             backprop.forward, (params, x, y))
    assert {name: grads[name].shape for name in backprop.PARAMS} == \
        {name: params[name].shape for name in backprop.PARAMS}


def test_training_with_your_gradients_lowers_the_loss(problem):
    params, x, y = problem
    losses = [backprop.train_step(params, x, y, lr=0.5) for _ in range(50)]
    assert losses[-1] < 0.5 * losses[0]
