"""Hidden tests of exercise 4 (kept inside dlpath; run by `dlpath check`)."""

import numpy as np
import pytest

from exercises import backprop


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


@pytest.mark.parametrize("seed", range(5))
def test_forward_and_backward_on_random_networks(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 8000 + seed])
    n, d, h, k = (int(v) for v in rng.integers(2, 9, size=4))
    params = {"w1": rng.normal(size=(d, h)), "b1": rng.normal(size=h),
              "w2": rng.normal(size=(h, k)), "b2": rng.normal(size=k)}
    x, y = rng.normal(size=(n, d)), rng.integers(0, k, size=n)
    loss, cache = backprop.forward(params, x, y)
    grads = backprop.backward(params, cache)
    ref_loss, ref_grads = _reference(params, x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-9)
    for name in ("w1", "b1", "w2", "b2"):
        np.testing.assert_allclose(grads[name], ref_grads[name], rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_numerical_gradient_on_random_functions(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 9000 + seed])
    x = rng.normal(size=(int(rng.integers(1, 5)), int(rng.integers(1, 5))))
    c = rng.normal(size=x.shape)
    before = x.copy()
    grad = backprop.numerical_gradient(lambda: float(np.sum(np.sin(x) * c)), x)
    np.testing.assert_allclose(grad, np.cos(x) * c, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(x, before)
