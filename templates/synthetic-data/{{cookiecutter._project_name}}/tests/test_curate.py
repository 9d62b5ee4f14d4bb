"""Your curation steps (curate.py): run with `python -m pytest -q tests/test_curate.py`.
Skipped while a function is a TODO."""

import numpy as np
import pytest

from {{ cookiecutter._package_name }}.curate import balance, flag_quality, near_duplicates, suspects
from {{ cookiecutter._package_name }}.parallel import limit_threads


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small models train fastest on one thread (more only wait for each other)."""
    limit_threads(1)


def test_near_duplicates_keep_the_first_of_each_group():
    rng = np.random.default_rng(0)
    x = rng.random((6, 1, 8, 8)).astype(np.float32)
    x[3] = x[0]  # an exact copy of 0
    x[5] = x[1] + 0.01  # a near copy of 1
    assert near_duplicates(x, 0.5).tolist() == [False, False, False, True, False, True]


def test_a_chain_keeps_what_no_kept_example_is_near():
    # a - b - c on a line, 0.4 apart: b is near a (kept), c is near b only.
    x = np.zeros((3, 1, 8, 8), np.float32)
    x[1, 0, 0, 0], x[2, 0, 0, 0] = 0.4, 0.8
    assert near_duplicates(x, 0.5).tolist() == [False, True, False]


def test_nothing_is_dropped_without_a_near_duplicate():
    x = np.eye(64, dtype=np.float32).reshape(64, 1, 8, 8)  # all 1.41 apart
    assert not near_duplicates(x, 0.5).any()


def blobs(n_per_class=60, flip=0.1, seed=0):
    """Ten well separated classes with some labels flipped."""
    rng = np.random.default_rng(seed)
    centres = rng.random((10, 64)) * 2
    y_true = np.repeat(np.arange(10), n_per_class)
    x = (centres[y_true] + rng.normal(0, 0.3, (len(y_true), 64))).astype(np.float32)
    y = y_true.copy()
    wrong = rng.random(len(y)) < flip
    y[wrong] = (y[wrong] + rng.integers(1, 10, wrong.sum())) % 10
    return x.reshape(-1, 1, 8, 8), y, wrong


def test_suspects_find_flipped_labels_without_flagging_the_rest():
    x, y, wrong = blobs()
    # Two folds: each judge trains on half the data (the stage uses more).
    flagged = suspects(x, y, folds=2, seed=0)
    assert flagged.shape == y.shape and flagged.dtype == bool
    quality = flag_quality(flagged, wrong)
    # A judge that saw the example it judges would flag (almost) nothing.
    assert quality["recall"] >= 0.8, quality
    assert quality["precision"] >= 0.8, quality
    # Same data, same seed: same flags.
    np.testing.assert_array_equal(suspects(x, y, folds=2, seed=0), flagged)


def test_balance_and_flag_quality():
    assert balance(np.repeat(np.arange(10), 5))["entropy"] == 1.0
    assert balance(np.r_[np.zeros(9, int), np.arange(10)])["min_over_max"] == 0.1
    truth = np.array([True, True, False, False])
    assert flag_quality(np.array([True, False, True, False]), truth) == {
        "flagged": 2, "true": 2, "precision": 0.5, "recall": 0.5}
