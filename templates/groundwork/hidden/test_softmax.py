"""Hidden tests of exercise 3 (kept inside dlpath; run by `dlpath check`)."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng  # noqa: E402

from exercises import softmax as sm  # noqa: E402

CASES = range(5)


def _reference_log_softmax(row):
    m = max(row)
    total = math.fsum(math.exp(v - m) for v in row)
    return [v - m - math.log(total) for v in row]


@pytest.mark.parametrize("case", CASES)
def test_softmax_on_random_batches(case):
    r = rng(30, case)
    n, k = int(r.integers(1, 20)), int(r.integers(2, 12))
    z = r.normal(size=(n, k)) * r.choice([1.0, 50.0, 800.0])
    expected = np.exp(np.array([_reference_log_softmax(list(row)) for row in z]))
    np.testing.assert_allclose(sm.softmax(z), expected, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(sm.softmax(z[0]), expected[0], rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_log_softmax_on_random_batches(case):
    r = rng(31, case)
    n, k = int(r.integers(1, 20)), int(r.integers(2, 12))
    z = r.normal(size=(n, k)) * r.choice([1.0, 50.0, 800.0])
    expected = np.array([_reference_log_softmax(list(row)) for row in z])
    np.testing.assert_allclose(sm.log_softmax(z), expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sm.log_softmax(z[-1]), expected[-1], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_cross_entropy_on_random_labels(case):
    r = rng(32, case)
    n, k = int(r.integers(1, 30)), int(r.integers(2, 10))
    z = r.normal(size=(n, k)) * r.choice([1.0, 300.0])
    y = r.integers(0, k, size=n)
    expected = -math.fsum(_reference_log_softmax(list(z[i]))[y[i]] for i in range(n)) / n
    got = sm.cross_entropy(z, y)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-7)
