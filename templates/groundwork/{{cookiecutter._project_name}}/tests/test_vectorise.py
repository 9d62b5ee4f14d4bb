"""Exercise 2 (exercises/vectorise.py). Run: python -m pytest -q tests/test_vectorise.py"""

import ast
import inspect
import textwrap

import numpy as np
import pytest

from exercises import vectorise

LOOPS = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@pytest.mark.parametrize("name", ["pairwise_distances", "one_hot", "standardise"])
def test_no_python_loops(name):
    fn = getattr(vectorise, name)
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    assert not any(isinstance(node, LOOPS) for node in ast.walk(tree)), (
        f"{name} uses a Python loop: use broadcasting and array operations instead")
    fn_args = {"pairwise_distances": (np.zeros((2, 2)), np.zeros((3, 2))),
               "one_hot": (np.array([0, 1]), 2), "standardise": (np.ones((3, 2)),)}[name]
    fn(*fn_args)  # and it is implemented


def test_pairwise_distances_match_the_loop():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 0.0], [6.0, 8.0], [3.0, 4.0]])
    np.testing.assert_allclose(vectorise.pairwise_distances(a, b),
                               vectorise.pairwise_distances_loop(a, b), atol=1e-9)


def test_distance_of_a_point_to_itself_is_zero_not_nan():
    a = np.array([[1e4, 1e4 + 1e-3]])
    d = vectorise.pairwise_distances(a, a)
    assert np.isfinite(d).all() and d[0, 0] == pytest.approx(0.0, abs=1e-3)


def test_one_hot():
    np.testing.assert_array_equal(vectorise.one_hot(np.array([2, 0]), 3),
                                  [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError):
        vectorise.one_hot(np.array([3]), 3)


def test_standardise_columns():
    z = vectorise.standardise(np.array([[1.0, 10.0], [3.0, 10.0]]))
    np.testing.assert_allclose(z, [[-1.0, 0.0], [1.0, 0.0]], atol=1e-6)
