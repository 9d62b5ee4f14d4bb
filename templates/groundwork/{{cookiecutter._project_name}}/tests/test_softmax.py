"""Exercise 3 (exercises/softmax.py). Run: python -m pytest -q tests/test_softmax.py"""

import numpy as np
import pytest

from exercises import softmax as sm


def test_softmax_of_a_vector():
    np.testing.assert_allclose(sm.softmax(np.array([1.0, 2.0, 3.0])),
                               [0.09003057, 0.24472847, 0.66524096], rtol=1e-6)


def test_softmax_is_stable_for_huge_logits():
    p = sm.softmax(np.array([[1000.0, 1000.0], [-1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.5], [0.5, 0.5]])


def test_log_softmax_does_not_underflow():
    logp = sm.log_softmax(np.array([0.0, -1000.0]))
    np.testing.assert_allclose(logp, [0.0, -1000.0], atol=1e-9)


def test_cross_entropy_of_a_uniform_guess_is_log_k():
    logits = np.zeros((3, 4))
    assert sm.cross_entropy(logits, np.array([0, 1, 3])) == pytest.approx(np.log(4))


def test_cross_entropy_is_finite_for_confident_mistakes():
    assert np.isfinite(sm.cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1])))
