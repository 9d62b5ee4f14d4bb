"""Exercise 11 (exercises/network.py). Run: python -m pytest -q tests/test_network.py"""

import numpy as np
import pytest

from exercises import backprop, network
from exercises.optimisers import SGD


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data / 16.0, bunch.target


def test_predict_picks_the_largest_logit():
    params = {"w1": np.eye(2), "b1": np.zeros(2), "w2": np.array([[1.0, -1.0], [0.0, 0.0]]),
              "b2": np.zeros(2)}
    np.testing.assert_array_equal(network.predict(params, np.array([[1.0, 0.0], [-1.0, 0.0]])),
                                  [0, 1])


def test_train_uses_your_backward_for_every_minibatch(monkeypatch, digits):
    x, y = digits[0][:200], digits[1][:200]
    calls = []
    real = backprop.backward

    def counted(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(network, "backward", counted)  # however train refers to it
    monkeypatch.setattr(backprop, "backward", counted)
    params, history = network.train(x, y, hidden=16, epochs=3, batch_size=50,
                                    optimiser=SGD(lr=0.1), seed=0)
    assert len(calls) == 3 * 4
    assert len(history) == 3 and set(params) == set(backprop.PARAMS)


def test_training_learns_the_digits(digits):
    from exercises.optimisers import Momentum

    x, y = digits
    params, history = network.train(x[:1200], y[:1200], hidden=32, epochs=10, batch_size=32,
                                    optimiser=Momentum(lr=0.05, beta=0.9), seed=0)
    assert history[-1] < history[0]
    assert network.accuracy(params, x[1200:], y[1200:]) > 0.9


def test_pytorch_computes_the_same_network_and_the_same_gradients():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    params = backprop.init_params(6, 5, 4, seed=1)
    params["b1"] += 0.1
    x, y = rng.normal(size=(7, 6)), rng.integers(0, 4, size=7)
    model = network.torch_network(params)
    import torch

    logits = model(torch.from_numpy(x)).detach().numpy()
    hidden = np.tanh(x @ params["w1"] + params["b1"])
    np.testing.assert_allclose(logits, hidden @ params["w2"] + params["b2"], rtol=1e-12)
    _, cache = backprop.forward(params, x, y)
    ours = backprop.backward(params, cache)
    theirs = network.torch_gradients(params, x, y)
    for name in backprop.PARAMS:
        assert theirs[name].shape == params[name].shape
        assert backprop.relative_error(ours[name], theirs[name]) < 1e-10
