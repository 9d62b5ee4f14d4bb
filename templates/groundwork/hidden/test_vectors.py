"""Hidden tests of exercise 1 (kept inside dlpath; run by `dlpath check`).

Random inputs compared with independent computations, so an answer written
for the visible tests' numbers does not pass.
"""

import numpy as np
import pytest

from exercises import vectors

SEEDS = range(5)


@pytest.mark.parametrize("seed", SEEDS)
def test_dot_on_random_vectors(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 1000 + seed])
    n = int(rng.integers(1, 50))
    u, v = rng.normal(size=n), rng.normal(size=n)
    expected = sum(float(a) * float(b) for a, b in zip(u, v))
    assert vectors.dot(u, v) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError):
        vectors.dot(u, rng.normal(size=n + 1))


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_and_projection_on_random_vectors(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 2000 + seed])
    n = int(rng.integers(2, 20))
    u, v = rng.normal(size=n), rng.normal(size=n)
    expected = np.einsum("i,i->", u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    assert vectors.cosine_similarity(u, v) == pytest.approx(expected, rel=1e-9)
    p = vectors.project(u, v)
    np.testing.assert_allclose(p, np.einsum("i,i->", u, v) / np.einsum("i,i->", v, v) * v,
                               rtol=1e-9, atol=1e-12)
    assert abs(np.einsum("i,i->", u - p, v)) < 1e-9 * (1 + np.abs(u).sum() * np.abs(v).sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_dense_on_random_shapes(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 3000 + seed])
    n, d_in, d_out = (int(k) for k in rng.integers(1, 12, size=3))
    x, w, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    expected = np.einsum("ni,io->no", x, w) + b[None, :]
    np.testing.assert_allclose(vectors.dense(x, w, b), expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError):
        vectors.dense(x, rng.normal(size=(d_in + 1, d_out)), b)
