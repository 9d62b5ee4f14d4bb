"""Domain randomisation: vary every way a digit varies, so the model learns to
ignore all of it.

A glyph (``glyphs.py``) is a 64x64 greyscale image, float32 in [0, 1], ink 1
and paper 0, row 0 at the top. The factors below change it the way people's
handwriting changes: slant, rotation, width, pen, and the wobble of the pen's
path. You write the three transforms (``affine``, ``stroke``, ``elastic``);
``randomise`` draws each factor's random amount from its strength in
``params.yaml`` (``generate.factors``) and applies them.

Every factor must *reach the model*: the model sees 8x8 ink counts, not these
images, so a factor that changes nothing there (ink colour, say: see
``glyphs.colourise``) teaches it nothing. The ablation stage measures each
factor's reach and what removing it costs on the real dev digits.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage  # noqa: F401 (your transforms need it)


def affine(image: np.ndarray, rotation: float = 0.0, shear: float = 0.0,
           aspect: float = 1.0) -> np.ndarray:
    """The glyph under one affine map about the image centre.

    In coordinates centred on the image, ``x`` to the right and ``y`` *up*
    (as you see the picture), the map first stretches horizontally by
    ``aspect`` (x -> aspect * x), then slants by ``shear`` (x -> x + shear * y:
    positive leans the top to the right, like italics), then rotates by
    ``rotation`` degrees counter-clockwise. The centre is ((W - 1) / 2, (H - 1) / 2)
    in pixel indices. Each output pixel takes the bilinearly interpolated
    value of the input at the point the map sends onto it; outside the
    input is paper (0). Same shape and dtype as ``image``.

    Hint: build the 2x2 matrix in (x, y-up) coordinates, then express it in
    (row, column) indices (rows grow *down*) and resample with the inverse map.
    """
    ### BEGIN SOLUTION: affine randomisation (test: tests/test_randomise.py)
    a = np.deg2rad(rotation)
    rotate = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    forward = rotate @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.array([[aspect, 0.0], [0.0, 1.0]])
    # (x, y-up) -> (row, col): row = -y, col = x, so flip the sign of the cross terms.
    in_rows_cols = np.array([[forward[1, 1], -forward[1, 0]],
                             [-forward[0, 1], forward[0, 0]]])
    inverse = np.linalg.inv(in_rows_cols)
    centre = (np.asarray(image.shape, dtype=float) - 1) / 2
    out = ndimage.affine_transform(image, inverse, offset=centre - inverse @ centre, order=1,
                                   mode="constant", cval=0.0)
    return out.astype(image.dtype)
    ### STUB
    # TODO: affine randomisation (your code replaces the lines below)
    raise NotImplementedError(
        "TODO: affine randomisation: write affine() in randomise.py; "
        "test: python -m pytest -q tests/test_randomise.py")
    ### END SOLUTION


def disk(radius: int) -> np.ndarray:
    """A boolean disk of the given radius: the pen's footprint, (2r+1) x (2r+1)."""
    r = abs(int(radius))
    rows, cols = np.mgrid[-r:r + 1, -r:r + 1]
    return rows**2 + cols**2 <= r * r


def stroke(image: np.ndarray, pixels: int) -> np.ndarray:
    """A thicker (``pixels`` > 0) or thinner (< 0) pen: each output pixel is
    the largest (thicker) or smallest (thinner) input value under ``disk(|pixels|)``
    centred on it (outside the image counts as paper); ``pixels == 0`` returns
    the image unchanged. Same shape and dtype.
    """
    ### BEGIN SOLUTION: pen width randomisation (test: tests/test_randomise.py)
    if pixels == 0:
        return image.copy()
    grow = ndimage.grey_dilation if pixels > 0 else ndimage.grey_erosion
    return grow(image, footprint=disk(pixels), mode="constant", cval=0.0).astype(image.dtype)
    ### STUB
    # TODO: pen width randomisation (your code replaces the lines below)
    raise NotImplementedError(
        "TODO: pen width randomisation: write stroke() in randomise.py; "
        "test: python -m pytest -q tests/test_randomise.py")
    ### END SOLUTION


def elastic(image: np.ndarray, rng: np.random.Generator, alpha: float,
            sigma: float) -> np.ndarray:
    """An elastic distortion (Simard, Steinkraus and Platt, 2003): the wobble
    of a hand that is never quite steady.

    Draw a random displacement for every pixel and each axis, uniform in
    [-1, 1]; smooth each of the two fields with a Gaussian of ``sigma``
    pixels (so nearby pixels move together); scale them by ``alpha``. Each
    output pixel takes the bilinearly interpolated input value at its own
    position plus its displacement (outside is paper). ``alpha == 0`` returns
    the image unchanged. Use only ``rng`` for randomness: the same generator
    state gives the same distortion.
    """
    ### BEGIN SOLUTION: elastic distortion (test: tests/test_randomise.py)
    if alpha == 0:
        return image.copy()
    shape = image.shape
    d_rows = ndimage.gaussian_filter(rng.uniform(-1, 1, shape), sigma, mode="constant") * alpha
    d_cols = ndimage.gaussian_filter(rng.uniform(-1, 1, shape), sigma, mode="constant") * alpha
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    out = ndimage.map_coordinates(image, [rows + d_rows, cols + d_cols], order=1,
                                  mode="constant", cval=0.0)
    return out.astype(image.dtype)
    ### STUB
    # TODO: elastic distortion (your code replaces the lines below)
    raise NotImplementedError(
        "TODO: elastic distortion: write elastic() in randomise.py; "
        "test: python -m pytest -q tests/test_randomise.py")
    ### END SOLUTION


#: every factor ``randomise`` knows, with what its strength ``s`` means
FACTORS = {
    "stroke": "pen width changes by a whole number of pixels in [-s, s]",
    "rotation": "rotation in degrees, uniform in [-s, s]",
    "shear": "slant, uniform in [-s, s]",
    "aspect": "horizontal stretch exp(u), u uniform in [-s, s]",
    "elastic": "elastic distortion of strength alpha = s (pixels of the 64x64 glyph)",
}


def randomise(glyph: np.ndarray, rng: np.random.Generator, factors: dict) -> np.ndarray:
    """Apply every factor whose strength in ``factors`` is not 0.

    The random amounts are drawn in the same order whichever factors are on,
    so switching one factor off leaves the others' draws unchanged (the
    ablation compares like with like).
    """
    unknown = sorted(set(factors) - set(FACTORS) - {"elastic_sigma"})
    if unknown:
        raise ValueError(f"unknown factor(s) {', '.join(unknown)}; known: {', '.join(FACTORS)}")
    s = {name: float(factors.get(name, 0) or 0) for name in FACTORS}
    pen = int(rng.integers(-int(s["stroke"]), int(s["stroke"]) + 1))
    rotation = rng.uniform(-1, 1) * s["rotation"]
    shear = rng.uniform(-1, 1) * s["shear"]
    aspect = float(np.exp(rng.uniform(-1, 1) * s["aspect"]))
    if pen:
        glyph = stroke(glyph, pen)
    if rotation or shear or aspect != 1.0:
        glyph = affine(glyph, rotation=rotation, shear=shear, aspect=aspect)
    if s["elastic"]:
        glyph = elastic(glyph, rng, s["elastic"], float(factors.get("elastic_sigma", 6.0)))
    return glyph
