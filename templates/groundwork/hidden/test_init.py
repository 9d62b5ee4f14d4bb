"""Hidden tests of exercise 7 (kept inside dlpath; run by `dlpath check`)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng  # noqa: E402

from exercises import init  # noqa: E402

CASES = range(4)
STD = {"small": lambda fi, fo: 0.01, "large": lambda fi, fo: 1.0,
       "xavier": lambda fi, fo: np.sqrt(2.0 / (fi + fo)), "he": lambda fi, fo: np.sqrt(2.0 / fi)}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("scheme", sorted(STD))
def test_init_weights_on_random_layer_sizes(scheme, case):
    r = rng(70, case)
    fan_in, fan_out = int(r.integers(300, 700)), int(r.integers(200, 400))
    seed = int(r.integers(1 << 30))
    w = init.init_weights(fan_in, fan_out, scheme, np.random.default_rng(seed))
    std = STD[scheme](fan_in, fan_out)
    assert w.shape == (fan_in, fan_out)
    assert abs(w.mean()) < 0.03 * std
    assert w.std() == pytest.approx(std, rel=0.02)
    again = init.init_weights(fan_in, fan_out, scheme, np.random.default_rng(seed))
    np.testing.assert_array_equal(w, again)  # drawn from the generator it is given


def test_init_weights_refuses_an_unknown_scheme():
    with pytest.raises(ValueError):
        init.init_weights(4, 4, "orthogonal", rng(72))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_activation_spread_on_random_networks(activation, case):
    r = rng(71, case)
    widths = [int(v) for v in r.integers(2, 30, size=int(r.integers(2, 7)))]
    x = r.normal(size=(int(r.integers(2, 20)), widths[0]))
    weights = [r.normal(size=(a, b)) for a, b in zip(widths[:-1], widths[1:], strict=True)]
    h, expected = x, []
    for w in weights:
        h = np.tanh(h @ w) if activation == "tanh" else np.maximum(h @ w, 0)
        expected.append(h.std())
    got = init.activation_spread(x, weights, activation)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
