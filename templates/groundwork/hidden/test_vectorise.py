"""Hidden tests of exercise 2 (kept inside dlpath; run by `dlpath check`).

The no-loop rule applies to each function and to every function of the
project it calls; at run time, the number of Python lines a function runs
must not grow with its input; pairwise_distances must be 20 times faster
than the loop on (2000, 64), both timed here.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng, rules  # noqa: E402

from exercises import vectorise  # noqa: E402

CASES = range(5)


def _sizes(name, n):
    """Inputs that grow along every axis with n."""
    r = rng(20, n)
    d = 2 + n // 8
    return {"pairwise_distances": (r.normal(size=(n, d)), r.normal(size=(n + 1, d))),
            "one_hot": (r.integers(0, d, size=n), d),
            "standardise": (r.normal(size=(n, d)),)}[name]


@pytest.mark.parametrize("name", ["pairwise_distances", "one_hot", "standardise"])
def test_no_python_loop_in_the_function_or_what_it_calls(name):
    fn = getattr(vectorise, name)
    fn(*_sizes(name, 3))
    rules.loop_free(fn)
    rules.scales_with_input(fn, _sizes(name, 4), _sizes(name, 300))


def test_pairwise_distances_is_20_times_faster_than_the_loop():
    ratio = rules.speedup(vectorise.pairwise_distances, seed=int(rng(21).integers(1 << 30)))
    assert ratio >= 20


@pytest.mark.parametrize("case", CASES)
def test_pairwise_distances_on_random_points(case):
    r = rng(22, case)
    n, m, d = (int(k) for k in r.integers(1, 30, size=3))
    a, b = r.normal(size=(n, d)) * 10, r.normal(size=(m, d)) * 10
    expected = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    got = vectorise.pairwise_distances(a, b)
    assert got.shape == (n, m)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    same = vectorise.pairwise_distances(a * 1e3, a * 1e3)
    assert np.isfinite(same).all()


@pytest.mark.parametrize("case", CASES)
def test_one_hot_on_random_labels(case):
    r = rng(23, case)
    k = int(r.integers(2, 12))
    labels = r.integers(0, k, size=int(r.integers(1, 40)))
    encoded = vectorise.one_hot(labels, k)
    assert encoded.shape == (len(labels), k)
    np.testing.assert_array_equal(encoded.argmax(axis=1), labels)
    np.testing.assert_array_equal(encoded.sum(axis=1), np.ones(len(labels)))
    for bad in (-1, k):
        with pytest.raises(ValueError):
            vectorise.one_hot(np.array([0, bad]), k)


@pytest.mark.parametrize("case", CASES)
def test_standardise_on_random_data(case):
    r = rng(24, case)
    d = int(r.integers(1, 6))
    x = r.normal(loc=r.normal(size=d) * 5, scale=r.uniform(0.1, 9, size=d), size=(50, d))
    z = vectorise.standardise(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-6)
    np.testing.assert_allclose(z[:, 0] * x[:, 0].std() + x[:, 0].mean(), x[:, 0], atol=1e-6)
    constant = vectorise.standardise(np.full((4, 2), 3.0))
    np.testing.assert_allclose(constant, 0.0, atol=1e-6)
