"""Your audit functions (audit.py). Run: python -m pytest -q tests/test_audit.py"""

import numpy as np
import pytest

from {{ cookiecutter._package_name }}.audit import marker_share, remove_shortcut
from {{ cookiecutter._package_name }}.data import digits
from {{ cookiecutter._package_name }}.markers import marker_mask, marker_pixels, plant


def test_marker_share_on_simple_maps():
    mask = np.zeros((8, 8), dtype=bool)
    mask[0, :2] = True
    a = np.zeros((3, 1, 8, 8))
    a[0, 0, 0, 0] = -2.0             # all of it on the mask, negative counts too
    a[1, 0, 4, 4] = 1.0              # none of it
    a[1, 0, 0, 1] = 0.0
    a[2, 0, 0, 0], a[2, 0, 5, 5] = 1.0, -3.0  # a quarter
    np.testing.assert_allclose(marker_share(a, mask), [1.0, 0.0, 0.25])


def test_marker_share_of_an_empty_map_is_zero_not_nan():
    share = marker_share(np.zeros((2, 1, 8, 8)), marker_mask())
    assert share.shape == (2,) and np.all(share == 0.0)


def test_marker_share_takes_one_mask_per_example():
    a = np.ones((2, 8, 8))
    masks = np.stack([marker_mask(0), np.ones((8, 8), dtype=bool)])
    np.testing.assert_allclose(marker_share(a, masks), [2 / 64, 1.0])


def marks_telling_the_label(x, y):
    """The share of images that carry (both pixels at full brightness) the mark
    of their own class."""
    told = [all(x[i, 0, r, c] >= 0.99 for r, c in marker_pixels(int(y[i]))) for i in range(len(y))]
    return float(np.mean(told))


@pytest.fixture(scope="module")
def collected():
    x, y = digits()
    x, y = x[:400], y[:400]
    return x, y, plant(x, y, 1.0, np.random.default_rng(0))


def test_remove_shortcut_breaks_the_link_between_mark_and_label(collected):
    x, y, marked = collected
    assert marks_telling_the_label(marked, y) == 1.0
    cleaned, labels = remove_shortcut(marked, y)
    assert marks_telling_the_label(cleaned, labels) <= 0.2


def test_remove_shortcut_keeps_the_digits_and_labels(collected):
    x, y, marked = collected
    before = marked.copy()
    cleaned, labels = remove_shortcut(marked, y)
    assert np.array_equal(marked, before), "the input must not change"
    assert len(labels) >= 0.9 * len(y) and cleaned.shape[1:] == marked.shape[1:]
    if len(labels) == len(y):
        assert np.array_equal(labels, y)
        outside = ~marker_mask()
        assert np.array_equal(cleaned[..., outside], marked[..., outside])
