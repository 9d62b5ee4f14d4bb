"""Hidden tests of exercise 4 (kept inside dlpath; run by `dlpath check`).

backward is compared with a derivation written independently here, on
networks of random sizes, and must be derived: on a network with tens of
thousands of parameters it must cost a few forward passes and a few dozen
lines of Python, with no autograd library importable.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng, rules  # noqa: E402

from exercises import backprop  # noqa: E402

CASES = range(5)


def _reference(params, x, y):
    """Forward and backward written independently (explicit one-hot, exp/log)."""
    n, k = len(x), params["w2"].shape[1]
    a1 = np.tanh(x @ params["w1"] + params["b1"])
    z2 = a1 @ params["w2"] + params["b2"]
    z2 = z2 - z2.max(axis=1, keepdims=True)
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    t = np.zeros((n, k))
    t[np.arange(n), y] = 1
    loss = -np.sum(t * np.log(p)) / n
    dz2 = (p - t) / n
    dz1 = dz2 @ params["w2"].T * (1 - a1**2)
    return loss, {"w1": x.T @ dz1, "b1": dz1.sum(0), "w2": a1.T @ dz2, "b2": dz2.sum(0)}


def _network(r, low=2, high=9):
    n, d, h, k = (int(v) for v in r.integers(low, high, size=4))
    params = {"w1": r.normal(size=(d, h)), "b1": r.normal(size=h),
              "w2": r.normal(size=(h, k)), "b2": r.normal(size=k)}
    return params, r.normal(size=(n, d)), r.integers(0, k, size=n)


@pytest.mark.parametrize("case", CASES)
def test_forward_on_random_networks(case):
    params, x, y = _network(rng(40, case))
    loss, cache = backprop.forward(params, x, y)
    assert loss == pytest.approx(_reference(params, x, y)[0], rel=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_backward_on_random_networks(case):
    params, x, y = _network(rng(41, case))
    _, cache = backprop.forward(params, x, y)
    grads = backprop.backward(params, cache)
    _, expected = _reference(params, x, y)
    for name in ("w1", "b1", "w2", "b2"):
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-8, atol=1e-11)


def test_backward_is_derived_not_differenced():
    r = rng(42)
    d, h = int(r.integers(180, 260)), int(r.integers(180, 260))
    params = backprop.init_params(d, h, 10, seed=int(r.integers(1 << 30)))
    params["b1"] += r.normal(size=h) * 0.1
    x = r.normal(size=(int(r.integers(40, 80)), d))
    y = r.integers(0, 10, size=len(x))
    _, cache = backprop.forward(params, x, y)
    grads = rules.derived_gradient(backprop.backward, (params, cache),
                                   backprop.forward, (params, x, y))
    _, expected = _reference(params, x, y)
    for name in ("w1", "b1", "w2", "b2"):
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-7, atol=1e-11)


@pytest.mark.parametrize("case", range(3))
def test_numerical_gradient_on_random_functions(case):
    r = rng(43, case)
    x = r.normal(size=(int(r.integers(1, 5)), int(r.integers(1, 5))))
    c = r.normal(size=x.shape)
    before = x.copy()
    grad = backprop.numerical_gradient(lambda: float(np.sum(np.sin(x) * c)), x)
    np.testing.assert_allclose(grad, np.cos(x) * c, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(x, before)
