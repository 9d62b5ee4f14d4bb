"""Digits before any randomisation, and the conversion to the real digits' format.

Two styles:

* ``strokes``: a few pen strokes through control points in the unit square
  (one or more skeletons per digit: a 1 with or without its flag and base, a
  crossed or plain 7, a 9 with a curled tail...), smoothed into curves and
  drawn with one pen width;
  ``jitter`` moves the control points at random, as a hand does;
* ``fonts``: the digit typed in one of the fonts matplotlib ships.

Then, as the real digits were made (UCI "optdigits"): the glyph is cropped to
its ink and scaled to fill a 32x32 bitmap's height, and each 4x4 block's
count of ink pixels (0..16) becomes one of the 8x8 pixels, scaled to [0, 1].
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS = 64  # pixels of the glyph image the factors work on
BITMAP = 32  # the normalised bitmap; its 4x4 blocks make the 8x8 image
STYLES = ("strokes", "fonts")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "STIXGeneral.ttf", "cmss10.ttf",
         "cmr10.ttf")
# Per digit, one or more ways to write it; each is a list of pen strokes, each
# stroke a list of (x, y) control points in the unit square, y down.
SKELETONS: dict[int, list[list[list[tuple[float, float]]]]] = {
    0: [[[(0.5, 0), (0.15, 0.25), (0.1, 0.6), (0.35, 1), (0.7, 0.95), (0.9, 0.6),
          (0.85, 0.2), (0.5, 0)]]],
    1: [[[(0.5, 0), (0.5, 1)]],
        [[(0.2, 0.3), (0.55, 0), (0.5, 1)]],
        [[(0.2, 0.3), (0.55, 0), (0.5, 1)], [(0.2, 1), (0.8, 1)]],
        # a heavy downstroke, gone over twice
        [[(0.42, 0.05), (0.42, 1)], [(0.58, 0), (0.58, 0.95)]],
        [[(0.25, 0.3), (0.5, 0), (0.45, 1)], [(0.55, 0), (0.55, 1)], [(0.2, 1), (0.8, 1)]]],
    2: [[[(0.1, 0.25), (0.4, 0), (0.8, 0.1), (0.8, 0.4), (0.1, 1), (0.95, 0.95)]],
        [[(0.1, 0.25), (0.45, 0), (0.85, 0.2), (0.6, 0.6), (0.15, 0.95), (0.2, 0.75),
          (0.5, 0.95), (0.95, 0.95)]]],
    3: [[[(0.1, 0.1), (0.6, 0), (0.85, 0.2), (0.45, 0.45), (0.9, 0.7), (0.6, 1), (0.1, 0.9)]],
        [[(0.1, 0), (0.85, 0), (0.4, 0.4), (0.9, 0.65), (0.6, 1), (0.1, 0.9)]]],
    4: [[[(0.55, 0), (0.05, 0.65), (0.95, 0.65)], [(0.7, 0.3), (0.7, 1)]],
        [[(0.2, 0), (0.1, 0.6), (0.9, 0.6)], [(0.75, 0), (0.75, 1)]]],
    5: [[[(0.9, 0), (0.25, 0), (0.2, 0.45), (0.7, 0.4), (0.9, 0.7), (0.6, 1), (0.1, 0.9)]]],
    6: [[[(0.8, 0), (0.3, 0.3), (0.1, 0.7), (0.35, 1), (0.8, 0.9), (0.8, 0.6), (0.4, 0.5),
          (0.15, 0.7)]]],
    7: [[[(0.05, 0), (0.95, 0), (0.4, 1)]],
        [[(0.05, 0), (0.95, 0), (0.4, 1)], [(0.35, 0.5), (0.85, 0.5)]],
        [[(0.05, 0.2), (0.15, 0), (0.95, 0.05), (0.35, 1)], [(0.25, 0.5), (0.9, 0.5)]]],
    8: [[[(0.5, 0.5), (0.2, 0.25), (0.5, 0), (0.8, 0.25), (0.5, 0.5), (0.15, 0.75), (0.5, 1),
          (0.85, 0.75), (0.5, 0.5)]]],
    9: [[[(0.85, 0.3), (0.5, 0.5), (0.15, 0.3), (0.45, 0), (0.85, 0.2), (0.8, 1)]],
        [[(0.85, 0.3), (0.5, 0.5), (0.15, 0.3), (0.45, 0), (0.85, 0.2), (0.75, 0.8),
          (0.4, 1)]],
        [[(0.85, 0.25), (0.5, 0.42), (0.15, 0.25), (0.45, 0), (0.85, 0.12), (0.85, 0.7),
          (0.6, 1), (0.3, 0.95), (0.15, 0.8)]]],
}


@cache
def font(name: str, size: int = 44) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name),
                              size)


def spline(points: np.ndarray, steps: int = 6) -> np.ndarray:
    """A Catmull-Rom curve through the points (the ends included)."""
    if len(points) < 3:
        return points
    p = np.vstack([points[0], points, points[-1]])
    t = np.linspace(0, 1, steps, endpoint=False)[:, None]
    parts = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        parts.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                            + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    return np.vstack([*parts, p[-2][None]])


def draw(digit: int, style: str, rng: np.random.Generator, jitter: float,
         pen: int) -> np.ndarray:
    """The digit as a CANVAS x CANVAS float32 image, ink 1 on paper 0.

    Draws from ``rng`` in the same order whatever ``jitter`` is."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw_on = ImageDraw.Draw(image)
    variant = int(rng.integers(1 << 16))
    if style == "strokes":
        ways = SKELETONS[digit]
        for points in ways[variant % len(ways)]:
            wobble = rng.normal(0, 1, (len(points), 2)) * jitter
            curve = (spline(np.asarray(points, dtype=float) + wobble)
                     * (0.42 * CANVAS, 0.58 * CANVAS) + (0.29 * CANVAS, 0.21 * CANVAS))
            draw_on.line([tuple(q) for q in curve], fill=255, width=pen, joint="curve")
    elif style == "fonts":
        draw_on.text((CANVAS / 2, CANVAS / 2), str(digit), fill=255,
                     font=font(FONTS[variant % len(FONTS)]), anchor="mm")
    else:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    return np.asarray(image, dtype=np.float32) / 255.0


def colourise(glyph: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    """An RGB uint8 picture of the glyph: with probability ``share`` in random
    ink and paper colours (kept far enough apart to read), else white on black.

    This is the factor that never reaches the model: ``to_digits_format``
    marks as ink whatever differs from the paper, whatever the colours."""
    recolour = rng.random() < share
    paper, ink = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    if not recolour:
        paper, ink = np.zeros(3), np.full(3, 255)
    elif np.abs(paper - ink).sum() < 200:  # keep the digit readable
        ink = 255 - paper
    alpha = glyph[..., None]
    return np.clip(paper * (1 - alpha) + ink * alpha, 0, 255).astype(np.uint8)


def ink_of(rgb: np.ndarray) -> np.ndarray:
    """How much each pixel differs from the paper (the border's mean colour),
    as a fraction of the largest difference: a greyscale glyph in [0, 1]."""
    image = rgb.astype(np.float32)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    distance = np.linalg.norm(image - border.mean(axis=0), axis=-1)
    top = distance.max()
    return distance / top if top > 0 else distance


def to_digits_format(glyph: np.ndarray) -> np.ndarray:
    """A glyph -> one 8x8 image in the real digits' format, float32 in [0, 1].

    Crop to the ink (pixels above 0.5), scale to the bitmap's full height
    (keeping the aspect ratio, at most as wide as tall), centre, then count the
    ink pixels of each 4x4 block (/ 16)."""
    ink = glyph > 0.5
    if not ink.any():
        return np.zeros((8, 8), np.float32)
    rows, cols = np.nonzero(ink)
    crop = glyph[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    width = int(np.clip(round(crop.shape[1] * BITMAP / crop.shape[0]), 1, BITMAP))
    scaled = Image.fromarray((crop * 255).astype(np.uint8)).resize(
        (width, BITMAP), Image.Resampling.BILINEAR)
    bitmap = np.zeros((BITMAP, BITMAP), np.float32)
    left = (BITMAP - width) // 2
    bitmap[:, left:left + width] = np.asarray(scaled, dtype=np.float32) / 255.0
    blocks = (bitmap > 0.5).reshape(8, BITMAP // 8, 8, BITMAP // 8).sum(axis=(1, 3))
    return (blocks / 16.0).astype(np.float32)
