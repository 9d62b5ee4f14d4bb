"""Exercise 2 (exercises/vectorise.py). Run: python -m pytest -q tests/test_vectorise.py"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # however pytest imports this file
from exercise_rules import loop_free, scales_with_input, speedup  # noqa: E402

from exercises import vectorise  # noqa: E402

CALLS = {"pairwise_distances": (np.zeros((2, 2)), np.zeros((3, 2))),
         "one_hot": (np.array([0, 1]), 2), "standardise": (np.ones((3, 2)),)}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_no_python_loops_here_or_in_what_it_calls(name):
    fn = getattr(vectorise, name)
    fn(*CALLS[name])  # implemented first
    loop_free(fn)


def test_the_number_of_python_lines_run_does_not_grow_with_the_data():
    rng = np.random.default_rng(0)
    scales_with_input(vectorise.pairwise_distances,
                      (rng.normal(size=(5, 8)), rng.normal(size=(4, 8))),
                      (rng.normal(size=(300, 40)), rng.normal(size=(200, 40))))


def test_at_least_20_times_faster_than_the_loop_on_2000_by_64():
    ratio = speedup(vectorise.pairwise_distances)
    assert ratio >= 20, f"only {ratio:.1f} times faster than the loop: aim for one matrix product"


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
    with pytest.raises(ValueError):
        vectorise.one_hot(np.array([-1]), 3)


def test_standardise_columns():
    z = vectorise.standardise(np.array([[1.0, 10.0], [3.0, 10.0]]))
    np.testing.assert_allclose(z, [[-1.0, 0.0], [1.0, 0.0]], atol=1e-6)
