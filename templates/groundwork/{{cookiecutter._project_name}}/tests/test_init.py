"""Exercise 7 (exercises/init.py). Run: python -m pytest -q tests/test_init.py"""

import numpy as np
import pytest

from exercises import init


@pytest.mark.parametrize("scheme, std", [
    ("small", 0.01), ("large", 1.0), ("xavier", np.sqrt(2 / (400 + 100))), ("he", np.sqrt(2 / 400)),
])
def test_each_scheme_draws_the_right_spread(scheme, std):
    w = init.init_weights(400, 100, scheme, np.random.default_rng(0))
    assert w.shape == (400, 100)
    assert abs(w.mean()) < 0.05 * std
    assert w.std() == pytest.approx(std, rel=0.03)


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError):
        init.init_weights(3, 3, "zeros", np.random.default_rng(0))


def test_spread_of_a_two_layer_stack():
    x = np.array([[1.0, -1.0], [2.0, 0.0]])
    weights = [np.eye(2), -np.eye(2)]
    spread = init.activation_spread(x, weights, "relu")
    np.testing.assert_allclose(spread, [np.std([1.0, 0.0, 2.0, 0.0]), 0.0])
    spread = init.activation_spread(x, weights, "tanh")
    assert spread.shape == (2,)
    np.testing.assert_allclose(spread[0], np.tanh(x).std())


def test_the_experiment_shows_vanishing_exploding_and_stable_activations():
    assert init.experiment("small", "tanh")[-1] < 1e-10      # vanishes
    assert init.experiment("large", "relu")[-1] > 1e10       # explodes
    he = init.experiment("he", "relu")
    xavier = init.experiment("xavier", "tanh")
    assert 0.3 < he[-1] / he[0] < 3                          # stays put
    assert xavier[-1] > 0.05
