"""Hidden tests of randomise.py (kept inside dlpath; run by `dlpath check`).

Random images and amounts drawn at run time; each transform is compared with
an independent computation or with the properties its docstring promises.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from _project import module  # noqa: E402

randomise = module("randomise")
RNG = np.random.default_rng()  # a fresh seed every run


def blobs(size: int = 64) -> np.ndarray:
    """A smooth random image: a few Gaussian blobs well inside the frame."""
    rows, cols = np.mgrid[0:size, 0:size]
    image = np.zeros((size, size))
    for _ in range(int(RNG.integers(2, 5))):
        r, c = RNG.uniform(size * 0.3, size * 0.7, 2)
        s = RNG.uniform(3, 7)
        image += np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * s * s))
    return (image / image.max()).astype(np.float32)


def reference_affine(image, rotation, shear, aspect):
    """Sample the input where the inverse map sends each output pixel, in
    (x, y-up) coordinates, one inverse at a time."""
    h, w = image.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(float)
    x, y = cols - (w - 1) / 2, (h - 1) / 2 - rows
    a = -np.deg2rad(rotation)  # undo the rotation
    x, y = np.cos(a) * x - np.sin(a) * y, np.sin(a) * x + np.cos(a) * y
    x = x - shear * y  # undo the slant
    x = x / aspect  # undo the stretch
    src_rows, src_cols = (h - 1) / 2 - y, x + (w - 1) / 2
    return ndimage.map_coordinates(image, [src_rows, src_cols], order=1, mode="constant",
                                   cval=0.0)


@pytest.mark.parametrize("trial", range(6))
def test_affine_matches_an_independent_resampling(trial):
    image = blobs()
    rotation, shear = RNG.uniform(-40, 40), RNG.uniform(-0.5, 0.5)
    aspect = float(np.exp(RNG.uniform(-0.4, 0.4)))
    out = randomise.affine(image, rotation=rotation, shear=shear, aspect=aspect)
    assert out.shape == image.shape and out.dtype == image.dtype
    expected = reference_affine(image, rotation, shear, aspect)
    assert np.abs(out - expected).mean() < 0.01
    assert np.abs(out - expected).max() < 0.1


@pytest.mark.parametrize("trial", range(4))
def test_stroke_matches_a_brute_force_pen(trial):
    image = (blobs(40) > RNG.uniform(0.3, 0.7)).astype(np.float32) * RNG.uniform(0.5, 1)
    pixels = int(RNG.choice([-3, -2, -1, 1, 2, 3]))
    r = abs(pixels)
    padded = np.pad(image, r)
    shifted = [padded[r + dr:r + dr + image.shape[0], r + dc:r + dc + image.shape[1]]
               for dr in range(-r, r + 1) for dc in range(-r, r + 1) if dr * dr + dc * dc <= r * r]
    expected = np.max(shifted, axis=0) if pixels > 0 else np.min(shifted, axis=0)
    np.testing.assert_allclose(randomise.stroke(image, pixels), expected, atol=1e-6)
    np.testing.assert_array_equal(randomise.stroke(image, 0), image)


def displacement(alpha: float, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The field the learner's elastic() applies, read off two linear ramps
    (bilinear interpolation is exact on them): (row shift, column shift)."""
    size = 96
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    by_col = randomise.elastic(cols / size, np.random.default_rng(seed), alpha, sigma) * size
    by_row = randomise.elastic(rows / size, np.random.default_rng(seed), alpha, sigma) * size
    inner = slice(size // 4, 3 * size // 4)
    return (by_row - rows)[inner, inner], (by_col - cols)[inner, inner]


def test_elastic_moves_pixels_by_a_smooth_random_field_of_the_right_size():
    sigma = float(RNG.uniform(4, 7))
    alpha = float(RNG.uniform(30, 60)) * sigma / 6
    seed = int(RNG.integers(1 << 30))
    d_rows, d_cols = displacement(alpha, sigma, seed)
    # Gaussian-smoothed uniform(-1, 1) noise has an RMS of about 0.163 / sigma.
    expected = alpha * 0.163 / sigma
    for field in (d_rows, d_cols):
        rms = float(np.sqrt((field**2).mean()))
        assert 0.4 * expected < rms < 2.5 * expected
        # Smooth: neighbouring pixels move almost together.
        assert np.corrcoef(field[:, 1:].ravel(), field[:, :-1].ravel())[0, 1] > 0.9
    # Two independent fields, not one used twice.
    assert abs(np.corrcoef(d_rows.ravel(), d_cols.ravel())[0, 1]) < 0.6
    # Twice the strength, twice the displacement (same random draws).
    d2_rows, _ = displacement(2 * alpha, sigma, seed)
    np.testing.assert_allclose(d2_rows, 2 * d_rows, atol=0.05 * expected + 1e-3)


def test_elastic_depends_only_on_the_generator_it_is_given():
    image = blobs()
    seed = int(RNG.integers(1 << 30))
    a = randomise.elastic(image, np.random.default_rng(seed), 80.0, 6.0)
    b = randomise.elastic(image, np.random.default_rng(seed), 80.0, 6.0)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, randomise.elastic(image, np.random.default_rng(seed + 1), 80.0, 6.0))
    np.testing.assert_array_equal(randomise.elastic(image, np.random.default_rng(seed), 0.0, 6.0),
                                  image)
