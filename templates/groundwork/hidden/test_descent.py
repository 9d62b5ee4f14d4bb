"""Hidden tests of exercise 6 (kept inside dlpath; run by `dlpath check`)."""

import numpy as np
import pytest

from exercises import descent


@pytest.mark.parametrize("seed", range(5))
def test_descent_on_random_bowls(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 11000 + seed])
    q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    eig = np.sort(rng.uniform(0.2, 5.0, size=2))
    a = q @ np.diag(eig) @ q.T
    b, w0 = rng.normal(size=2), rng.normal(size=2) * 3
    lr, steps = float(rng.uniform(0.1, 1.9) / eig[1]), int(rng.integers(3, 40))
    w, expected = w0.copy(), [w0.copy()]
    for _ in range(steps):
        w = w - lr * (0.5 * (a + a.T) @ w - b)
        expected.append(w.copy())
    path = descent.descend(w0.copy(), a, b, lr, steps)
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(descent.gradient(w0, a, b), a @ w0 - b, rtol=1e-9, atol=1e-12)
