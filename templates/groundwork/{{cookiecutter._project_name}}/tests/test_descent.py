"""Exercise 8 (exercises/descent.py). Run: python -m pytest -q tests/test_descent.py"""

import numpy as np

from exercises import descent

A = np.array([[3.0, 0.0], [0.0, 1.0]])
B = np.array([3.0, 1.0])  # the minimum is at (1, 1)


def test_gradient_vanishes_at_the_minimum():
    np.testing.assert_allclose(descent.gradient(np.array([1.0, 1.0]), A, B), [0.0, 0.0])
    np.testing.assert_allclose(descent.gradient(np.array([0.0, 0.0]), A, B), [-3.0, -1.0])


def test_path_shape_and_first_point():
    w0 = np.array([-2.0, 2.0])
    path = descent.descend(w0, A, B, lr=0.1, steps=5)
    assert path.shape == (6, 2)
    np.testing.assert_array_equal(path[0], [-2.0, 2.0])
    np.testing.assert_array_equal(w0, [-2.0, 2.0])


def test_a_small_learning_rate_reaches_the_minimum():
    path = descent.descend(np.array([-2.0, 2.0]), A, B, lr=0.3, steps=100)
    np.testing.assert_allclose(path[-1], [1.0, 1.0], atol=1e-6)


def test_a_learning_rate_above_two_over_the_largest_eigenvalue_diverges():
    path = descent.descend(np.array([-2.0, 2.0]), A, B, lr=0.7, steps=60)
    assert np.abs(path[-1]).max() > 100
