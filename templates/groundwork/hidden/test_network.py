"""Hidden tests of exercise 11 (kept inside dlpath; run by `dlpath check`).

predict and the PyTorch twin against an independent forward and backward;
train on a random subset of the digits with PyTorch and scikit-learn out of
reach, through the learner's forward and backward for every minibatch and
an optimiser written here.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng, rules  # noqa: E402

from exercises import backprop, network  # noqa: E402

CASES = range(4)


def _params(r, d, h, k):
    return {"w1": r.normal(size=(d, h)), "b1": r.normal(size=h),
            "w2": r.normal(size=(h, k)), "b2": r.normal(size=k)}


def _reference(params, x, y):
    a1 = np.tanh(x @ params["w1"] + params["b1"])
    z2 = a1 @ params["w2"] + params["b2"]
    p = np.exp(z2 - z2.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    t = np.eye(z2.shape[1])[y]
    dz2 = (p - t) / len(x)
    dz1 = dz2 @ params["w2"].T * (1 - a1**2)
    return z2, {"w1": x.T @ dz1, "b1": dz1.sum(0), "w2": a1.T @ dz2, "b2": dz2.sum(0)}


@pytest.mark.parametrize("case", CASES)
def test_predict_on_random_networks(case):
    r = rng(110, case)
    d, h, k, n = (int(v) for v in r.integers(2, 12, size=4))
    params = _params(r, d, h, k)
    x = r.normal(size=(n, d))
    z2, _ = _reference(params, x, np.zeros(n, dtype=int))
    np.testing.assert_array_equal(network.predict(params, x), z2.argmax(1))


@pytest.mark.parametrize("case", CASES)
def test_torch_network_and_torch_gradients_on_random_networks(case):
    r = rng(111, case)
    d, h, k, n = (int(v) for v in r.integers(2, 12, size=4))
    params = _params(r, d, h, k)
    x, y = r.normal(size=(n, d)), r.integers(0, k, size=n)
    z2, expected = _reference(params, x, y)
    model = network.torch_network(params)
    with torch.no_grad():
        logits = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(logits, z2, rtol=1e-10, atol=1e-12)
    got = network.torch_gradients(params, x, y)
    for name in expected:
        np.testing.assert_allclose(np.asarray(got[name]), expected[name], rtol=1e-8,
                                   atol=1e-12)


class _Spy:
    """Plain gradient descent with momentum that records every step."""

    def __init__(self, lr=0.05, beta=0.9):
        self.lr, self.beta, self.v, self.steps = lr, beta, {}, 0

    def step(self, params, grads):
        assert set(grads) == set(backprop.PARAMS)
        self.steps += 1
        for name, grad in grads.items():
            self.v[name] = self.beta * self.v.get(name, 0.0) + grad
            params[name] -= self.lr * self.v[name]


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    order = rng(112).permutation(len(bunch.target))
    return bunch.data[order] / 16.0, bunch.target[order]


def test_train_runs_your_forward_and_backward_and_the_optimiser_per_minibatch(
        monkeypatch, digits):
    x, y = digits
    r = rng(113)
    n, batch, epochs = int(r.integers(900, 1100)), int(r.integers(20, 40)), 8
    calls = {"forward": 0, "backward": 0}
    for name in ("forward", "backward"):
        real = getattr(backprop, name)

        def counted(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setattr(backprop, name, counted)
        monkeypatch.setattr(network, name, counted)
    spy = _Spy()
    with rules.no_autograd("train", rules.AUTOGRAD + ("sklearn",)):
        params, history = network.train(x[:n], y[:n], hidden=32, epochs=epochs,
                                        batch_size=batch, optimiser=spy,
                                        seed=int(r.integers(1000)))
    steps = epochs * -(-n // batch)
    assert calls["backward"] == steps and spy.steps == steps
    assert calls["forward"] >= steps
    assert len(history) == epochs and history[-1] < history[0]
    assert np.mean(network.predict(params, x[n:]) == y[n:]) > 0.9


def test_train_starts_from_init_params_and_is_repeatable(digits):
    x, y = digits
    seed = int(rng(114).integers(1000))
    start, history = network.train(x[:100], y[:100], hidden=8, epochs=0, batch_size=10,
                                   optimiser=_Spy(), seed=seed)
    expected = backprop.init_params(64, 8, 10, seed)
    for name in backprop.PARAMS:
        np.testing.assert_array_equal(start[name], expected[name])
    assert list(history) == []
    one, _ = network.train(x[:300], y[:300], hidden=8, epochs=2, batch_size=25,
                           optimiser=_Spy(), seed=seed)
    two, _ = network.train(x[:300], y[:300], hidden=8, epochs=2, batch_size=25,
                           optimiser=_Spy(), seed=seed)
    for name in backprop.PARAMS:
        np.testing.assert_array_equal(one[name], two[name])
