"""Hidden tests of exercise 8 (kept inside dlpath; run by `dlpath check`)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng  # noqa: E402

from exercises import descent  # noqa: E402

CASES = range(5)


def _bowl(r):
    q, _ = np.linalg.qr(r.normal(size=(2, 2)))
    eig = np.sort(r.uniform(0.2, 5.0, size=2))
    return q @ np.diag(eig) @ q.T, r.normal(size=2), eig


@pytest.mark.parametrize("case", CASES)
def test_gradient_on_random_bowls(case):
    r = rng(80, case)
    a, b, _ = _bowl(r)
    w = r.normal(size=2) * 3
    np.testing.assert_allclose(descent.gradient(w, a, b), a @ w - b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_descend_on_random_bowls(case):
    r = rng(81, case)
    a, b, eig = _bowl(r)
    w0 = r.normal(size=2) * 3
    lr, steps = float(r.uniform(0.1, 1.9) / eig[1]), int(r.integers(3, 40))
    w, expected = w0.copy(), [w0.copy()]
    for _ in range(steps):
        w = w - lr * (a @ w - b)
        expected.append(w.copy())
    before = w0.copy()
    path = descent.descend(w0, a, b, lr, steps)
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(w0, before)
