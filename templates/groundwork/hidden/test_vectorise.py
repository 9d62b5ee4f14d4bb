"""Hidden tests of exercise 2 (kept inside dlpath; run by `dlpath check`)."""

import ast
import inspect
import textwrap

import numpy as np
import pytest

from exercises import vectorise

LOOPS = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@pytest.mark.parametrize("name", ["pairwise_distances", "one_hot", "standardise"])
def test_no_loops_and_no_calls_to_the_loop_version(name):
    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(vectorise, name))))
    nodes = list(ast.walk(tree))
    assert not any(isinstance(node, LOOPS) for node in nodes)
    names = {n.id for n in nodes if isinstance(n, ast.Name)} | {
        n.attr for n in nodes if isinstance(n, ast.Attribute)}
    assert not names & {"pairwise_distances_loop", "vectorize", "apply_along_axis", "map"}
    args = {"pairwise_distances": (np.ones((2, 3)), np.zeros((4, 3))),
            "one_hot": (np.array([1, 0]), 3), "standardise": (np.eye(3),)}[name]
    assert np.isfinite(getattr(vectorise, name)(*args)).all()  # and it is implemented


@pytest.mark.parametrize("seed", range(5))
def test_pairwise_distances_on_random_points(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 4000 + seed])
    n, m, d = (int(k) for k in rng.integers(1, 30, size=3))
    a, b = rng.normal(size=(n, d)) * 10, rng.normal(size=(m, d)) * 10
    expected = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    got = vectorise.pairwise_distances(a, b)
    assert got.shape == (n, m)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_one_hot_and_standardise_on_random_data(seed, dlpath_seed):
    rng = np.random.default_rng([dlpath_seed, 5000 + seed])
    k = int(rng.integers(2, 12))
    labels = rng.integers(0, k, size=int(rng.integers(1, 40)))
    encoded = vectorise.one_hot(labels, k)
    assert encoded.shape == (len(labels), k)
    np.testing.assert_array_equal(encoded.argmax(axis=1), labels)
    np.testing.assert_array_equal(encoded.sum(axis=1), np.ones(len(labels)))
    with pytest.raises(ValueError):
        vectorise.one_hot(np.array([-1]), k)
    x = rng.normal(loc=rng.normal(size=4) * 5, scale=rng.uniform(0.1, 9, size=4), size=(50, 4))
    z = vectorise.standardise(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-6)
    np.testing.assert_allclose(z[:, 0] * x[:, 0].std() + x[:, 0].mean(), x[:, 0], atol=1e-6)
