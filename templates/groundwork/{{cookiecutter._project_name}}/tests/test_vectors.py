"""Exercise 1 (exercises/vectors.py). Run: python -m pytest -q tests/test_vectors.py"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # however pytest imports this file
from exercise_rules import forbid_names  # noqa: E402

from exercises import vectors  # noqa: E402


def test_dot_from_the_definition():
    assert vectors.dot(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == pytest.approx(32.0)


def test_dot_does_not_use_a_library_dot_product():
    vectors.dot(np.ones(2), np.ones(2))  # implemented first
    forbid_names(vectors.dot, {"dot", "inner", "vdot", "matmul", "einsum", "tensordot"},
                 "multiply element by element, then sum", matmul=True)


def test_dot_refuses_vectors_of_different_lengths():
    with pytest.raises(ValueError):
        vectors.dot(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))


def test_cosine_similarity_of_orthogonal_and_parallel_vectors():
    assert vectors.cosine_similarity(np.array([1.0, 0.0]), np.array([0.0, 3.0])) == pytest.approx(0)
    assert vectors.cosine_similarity(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == pytest.approx(1)
    with pytest.raises(ValueError):
        vectors.cosine_similarity(np.array([0.0, 0.0]), np.array([1.0, 2.0]))


def test_projection_leaves_an_orthogonal_remainder():
    u, onto = np.array([2.0, 1.0]), np.array([1.0, 0.0])
    np.testing.assert_allclose(vectors.project(u, onto), [2.0, 0.0])
    u, onto = np.array([1.0, 3.0]), np.array([2.0, 2.0])
    p = vectors.project(u, onto)
    np.testing.assert_allclose(p, [2.0, 2.0])
    assert abs(float(np.sum((u - p) * onto))) < 1e-12


def test_dense_layer_shapes_and_values():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    b = np.array([0.5, 0.0, -1.0])
    np.testing.assert_allclose(vectors.dense(x, w, b), [[1.5, 2.0, 2.0], [3.5, 4.0, 6.0]])


def test_dense_layer_names_the_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(2, 5\)"):
        vectors.dense(np.zeros((4, 3)), np.zeros((2, 5)), np.zeros(5))
