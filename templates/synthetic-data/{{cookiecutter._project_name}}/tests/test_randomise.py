"""Your domain-randomisation transforms (randomise.py): run with
`python -m pytest -q tests/test_randomise.py`. Skipped while a function is a TODO."""

import numpy as np
import pytest

from {{ cookiecutter._package_name }}.randomise import affine, disk, elastic, randomise, stroke


def bar(rows=slice(12, 52), cols=slice(28, 36), size=64):
    image = np.zeros((size, size), np.float32)
    image[rows, cols] = 1.0
    return image


def centroid(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_affine_identity_keeps_the_image():
    image = bar()
    out = affine(image)
    assert out.shape == image.shape and out.dtype == image.dtype
    np.testing.assert_allclose(out, image, atol=1e-5)


def test_affine_quarter_turn_is_counter_clockwise_about_the_centre():
    image = np.zeros((64, 64), np.float32)
    image[10:20, 40:50] = 1.0  # top right
    np.testing.assert_allclose(affine(image, rotation=90), np.rot90(image), atol=1e-4)


def test_positive_shear_leans_the_top_to_the_right():
    out = affine(bar(), shear=0.5)
    top, bottom = out[12:20], out[44:52]
    assert centroid(top)[1] > 34 > 30 > centroid(bottom)[1]
    # A shear only moves ink along rows: each row keeps its ink.
    np.testing.assert_allclose(out.sum(axis=1), bar().sum(axis=1), atol=0.05)


def test_aspect_stretches_horizontally_only():
    out = affine(bar(), aspect=2.0)
    assert out.sum() == pytest.approx(2 * bar().sum(), rel=0.05)
    rows_with_ink = np.flatnonzero(out.sum(axis=1) > 0.5)
    assert rows_with_ink.min() == 12 and rows_with_ink.max() == 51


def test_stroke_grows_and_shrinks_the_pen():
    dot = np.zeros((15, 15), np.float32)
    dot[7, 7] = 1.0
    np.testing.assert_array_equal(stroke(dot, 3)[4:11, 4:11] > 0, disk(3))
    image = bar()
    np.testing.assert_array_equal(stroke(image, 0), image)
    assert stroke(image, 2).sum() > image.sum() > stroke(image, -2).sum() > 0
    assert stroke(image, 2).dtype == image.dtype


def test_elastic_is_random_smooth_and_repeatable():
    image = bar()
    np.testing.assert_array_equal(elastic(image, np.random.default_rng(0), 0.0, 6.0), image)
    a = elastic(image, np.random.default_rng(1), 100.0, 6.0)
    b = elastic(image, np.random.default_rng(1), 100.0, 6.0)
    c = elastic(image, np.random.default_rng(2), 100.0, 6.0)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, image)
    assert 0.5 < a.sum() / image.sum() < 2  # a wobble, not a new digit


def test_randomise_applies_only_the_factors_that_are_on():
    image = bar()
    off = {"stroke": 0, "rotation": 0, "shear": 0, "aspect": 0, "elastic": 0}
    np.testing.assert_allclose(randomise(image, np.random.default_rng(0), off), image, atol=1e-5)
    on = randomise(image, np.random.default_rng(0), {**off, "rotation": 30})
    assert not np.allclose(on, image)
    with pytest.raises(ValueError, match="unknown factor"):
        randomise(image, np.random.default_rng(0), {"hue": 1})
