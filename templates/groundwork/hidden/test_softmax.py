"""Hidden tests of exercise 3 (kept inside dlpath; run by `dlpath check`)."""

import math

import numpy as np
import pytest

from exercises import softmax as sm


def _reference_log_softmax(row):
    m = max(row)
    total = math.fsum(math.exp(v - m) for v in row)
    return [v - m - math.log(total) for v in row]


@pytest.mark.parametrize("seed", range(5))
def test_softmax_and_log_softmax_on_random_batches(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 6000 + seed])
    n, k = int(rng.integers(1, 20)), int(rng.integers(2, 12))
    z = rng.normal(size=(n, k)) * rng.choice([1.0, 50.0, 800.0])
    expected = np.array([_reference_log_softmax(list(row)) for row in z])
    np.testing.assert_allclose(sm.log_softmax(z), expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sm.softmax(z), np.exp(expected), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(sm.softmax(z[0]), np.exp(expected[0]), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_cross_entropy_on_random_labels(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 7000 + seed])
    n, k = int(rng.integers(1, 30)), int(rng.integers(2, 10))
    z = rng.normal(size=(n, k)) * rng.choice([1.0, 300.0])
    y = rng.integers(0, k, size=n)
    expected = -math.fsum(_reference_log_softmax(list(z[i]))[y[i]] for i in range(n)) / n
    assert sm.cross_entropy(z, y) == pytest.approx(expected, rel=1e-7)
