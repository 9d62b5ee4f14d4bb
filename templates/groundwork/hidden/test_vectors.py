"""Hidden tests of exercise 1 (kept inside dlpath; run by `dlpath check`).

Random inputs drawn at run time, compared with independent computations, so
an answer written for the visible tests' numbers does not pass.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng, rules  # noqa: E402

from exercises import vectors  # noqa: E402

CASES = range(5)


@pytest.mark.parametrize("case", CASES)
def test_dot_on_random_vectors(case):
    r = rng(1, case)
    n = int(r.integers(1, 50))
    u, v = r.normal(size=n), r.normal(size=n)
    expected = sum(float(a) * float(b) for a, b in zip(u, v, strict=True))
    got = vectors.dot(u, v)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError):
        vectors.dot(u, r.normal(size=n + 1))


def test_dot_uses_no_library_dot_product():
    vectors.dot(np.ones(3), np.ones(3))
    rules.forbid_names(vectors.dot, {"dot", "inner", "vdot", "matmul", "einsum", "tensordot"},
                       "multiply element by element, then sum", matmul=True)


@pytest.mark.parametrize("case", CASES)
def test_cosine_similarity_on_random_vectors(case):
    r = rng(2, case)
    n = int(r.integers(2, 20))
    u, v = r.normal(size=n), r.normal(size=n)
    expected = np.einsum("i,i->", u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    assert vectors.cosine_similarity(u, v) == pytest.approx(expected, rel=1e-9)
    assert vectors.cosine_similarity(u, 3.5 * u) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        vectors.cosine_similarity(u, np.zeros(n))


@pytest.mark.parametrize("case", CASES)
def test_project_on_random_vectors(case):
    r = rng(3, case)
    n = int(r.integers(2, 20))
    u, v = r.normal(size=n), r.normal(size=n)
    p = vectors.project(u, v)
    np.testing.assert_allclose(p, np.einsum("i,i->", u, v) / np.einsum("i,i->", v, v) * v,
                               rtol=1e-9, atol=1e-12)
    assert abs(np.einsum("i,i->", u - p, v)) < 1e-9 * (1 + np.abs(u).sum() * np.abs(v).sum())


@pytest.mark.parametrize("case", CASES)
def test_dense_on_random_shapes(case):
    r = rng(4, case)
    n, d_in, d_out = (int(k) for k in r.integers(1, 12, size=3))
    x, w, b = r.normal(size=(n, d_in)), r.normal(size=(d_in, d_out)), r.normal(size=d_out)
    expected = np.einsum("ni,io->no", x, w) + b[None, :]
    np.testing.assert_allclose(vectors.dense(x, w, b), expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match=rf"\({n}, {d_in}\).*\({d_in + 1}, {d_out}\)"):
        vectors.dense(x, r.normal(size=(d_in + 1, d_out)), b)
