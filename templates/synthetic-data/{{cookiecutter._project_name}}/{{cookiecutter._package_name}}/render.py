"""Procedural digits: pen strokes and font glyphs, rendered and then converted
to the exact format of scikit-learn's real digits.

Two styles:

* ``strokes``: each digit is a few pen strokes (a skeleton of control points
  in the unit square), jittered, smoothed into curves and drawn with a random
  pen width. Handwriting varies in just these ways.
* ``fonts``: the digit typed in one of the fonts matplotlib ships (DejaVu,
  STIX, Computer Modern): clean, uniform, and not what handwriting looks like.

Then, as the real digits were made (UCI "optdigits"): the glyph is cropped to
its bounding box and scaled to fill a 32x32 bitmap's height, and each 4x4
block's count of ink pixels (0..16) becomes one of the 8x8 pixels, scaled to
[0, 1].
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS = 64  # pixels of the first, high-resolution drawing
BITMAP = 32  # the normalised bitmap; 4x4 blocks of it make the 8x8 image
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "STIXGeneral.ttf", "cmss10.ttf",
         "cmr10.ttf")
# Pen strokes per digit: (x, y) control points in the unit square, y down.
SKELETONS: dict[int, list[list[tuple[float, float]]]] = {
    0: [[(0.5, 0), (0.15, 0.25), (0.1, 0.6), (0.35, 1), (0.7, 0.95), (0.9, 0.6), (0.85, 0.2),
         (0.5, 0)]],
    1: [[(0.3, 0.2), (0.55, 0), (0.5, 1)]],
    2: [[(0.1, 0.25), (0.4, 0), (0.8, 0.1), (0.8, 0.4), (0.1, 1), (0.95, 0.95)]],
    3: [[(0.1, 0.1), (0.6, 0), (0.85, 0.2), (0.45, 0.45), (0.9, 0.7), (0.6, 1), (0.1, 0.9)]],
    4: [[(0.55, 0), (0.05, 0.65), (0.95, 0.65)], [(0.7, 0.3), (0.7, 1)]],
    5: [[(0.9, 0), (0.25, 0), (0.2, 0.45), (0.7, 0.4), (0.9, 0.7), (0.6, 1), (0.1, 0.9)]],
    6: [[(0.8, 0), (0.3, 0.3), (0.1, 0.7), (0.35, 1), (0.8, 0.9), (0.8, 0.6), (0.4, 0.5),
         (0.15, 0.7)]],
    7: [[(0.05, 0), (0.95, 0), (0.4, 1)]],
    8: [[(0.5, 0.5), (0.2, 0.25), (0.5, 0), (0.8, 0.25), (0.5, 0.5), (0.15, 0.75), (0.5, 1),
         (0.85, 0.75), (0.5, 0.5)]],
    9: [[(0.85, 0.3), (0.5, 0.5), (0.15, 0.3), (0.45, 0), (0.85, 0.2), (0.8, 1)]],
}
STYLES = ("strokes", "fonts")


@cache
def font(name: str, size: int = 40) -> ImageFont.FreeTypeFont:
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


def draw_glyph(digit: int, style: str, rng: np.random.Generator, cfg: dict) -> Image.Image:
    """The digit in white on black, on a CANVAS x CANVAS greyscale image."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    pen = ImageDraw.Draw(image)
    if style == "strokes":
        width = int(rng.integers(cfg["stroke"][0], cfg["stroke"][1] + 1))
        for stroke in SKELETONS[digit]:
            points = np.asarray(stroke) + rng.normal(0, cfg["jitter"], (len(stroke), 2))
            curve = spline(points) * (0.45 * CANVAS, 0.62 * CANVAS) + (0.28 * CANVAS,
                                                                      0.19 * CANVAS)
            pen.line([tuple(q) for q in curve], fill=255, width=width)
        if digit == 7 and rng.random() < cfg["crossed_sevens"]:
            pen.line([(0.4 * CANVAS, CANVAS / 2), (0.7 * CANVAS, CANVAS / 2)], fill=255,
                     width=width)
    elif style == "fonts":
        name = FONTS[int(rng.integers(len(FONTS)))]
        pen.text((CANVAS / 2, CANVAS / 2), str(digit), fill=255, font=font(name), anchor="mm")
    else:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    # Slant and rotation about the centre, as one affine map (output -> input).
    shear = rng.uniform(-cfg["shear"], cfg["shear"])
    angle = np.deg2rad(rng.uniform(-cfg["rotation"], cfg["rotation"]))
    cos, sin = np.cos(angle), np.sin(angle)
    a, b, d, e = cos + shear * sin, -sin + shear * cos, sin, cos
    c = CANVAS / 2 * (1 - a - b)
    f = CANVAS / 2 * (1 - d - e)
    return image.transform(image.size, Image.Transform.AFFINE, (a, b, c, d, e, f),
                           resample=Image.Resampling.BILINEAR)


def normalise(glyph: Image.Image, height: int) -> np.ndarray:
    """Crop to the ink, scale to ``height`` pixels tall (keeping the aspect
    ratio, at most 3/4 as wide as tall) and centre on a BITMAP-square canvas.

    Returns greyscale 0..255 as uint8.
    """
    ink = np.asarray(glyph) > 127
    if not ink.any():
        return np.zeros((BITMAP, BITMAP), np.uint8)
    rows, cols = np.nonzero(ink)
    crop = glyph.crop((cols.min(), rows.min(), cols.max() + 1, rows.max() + 1))
    width = int(np.clip(round(crop.width * height / crop.height), 3, BITMAP * 3 // 4))
    crop = crop.resize((width, height), Image.Resampling.BILINEAR)
    canvas = Image.new("L", (BITMAP, BITMAP), 0)
    canvas.paste(crop, ((BITMAP - width) // 2, (BITMAP - height) // 2))
    return np.asarray(canvas)


def colourise(grey: np.ndarray, rng: np.random.Generator, colour: float,
              noise: float) -> np.ndarray:
    """Ink and paper colours (random with probability ``colour``, else white
    on black) and Gaussian noise: an RGB uint8 image."""
    if rng.random() < colour:
        paper, ink = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        while np.abs(paper - ink).sum() < 200:  # keep the digit readable
            ink = rng.integers(0, 256, 3)
    else:
        paper, ink = np.zeros(3), np.full(3, 255)
    alpha = grey[..., None] / 255.0
    rgb = paper * (1 - alpha) + ink * alpha + rng.normal(0, 255 * noise, grey.shape + (3,))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def to_digits_format(rgb: np.ndarray) -> np.ndarray:
    """An RGB render -> one 8x8 image in the real digits' format, in [0, 1].

    Ink is whatever differs from the paper colour (the border's mean colour)
    by more than half the ink-paper contrast; each 4x4 block's ink count / 16.
    """
    image = rgb.astype(np.float32)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    distance = np.linalg.norm(image - border.mean(axis=0), axis=-1)
    ink = distance > distance.max() / 2 if distance.max() > 0 else distance > 0
    blocks = ink.reshape(8, BITMAP // 8, 8, BITMAP // 8).sum(axis=(1, 3))
    return (blocks / 16.0).astype(np.float32)


def class_sizes(n: int, imbalance: float, classes: int = 10) -> np.ndarray:
    """How many examples of each class: the most frequent class has
    ``imbalance`` times as many as the least (geometric steps); 1 = balanced."""
    weights = imbalance ** (-np.arange(classes) / max(classes - 1, 1))
    sizes = np.floor(n * weights / weights.sum()).astype(int)
    sizes[: n - sizes.sum()] += 1
    return sizes


def render_dataset(cfg: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The whole synthetic dataset: 8x8 images (x), labels (y, after label
    noise), the true labels, the style of each, and the 32x32 RGB renders."""
    labels = np.repeat(np.arange(10), class_sizes(cfg["n"], cfg["imbalance"]))
    rng.shuffle(labels)
    styles = list(cfg["styles"])
    weights = np.asarray([cfg["styles"][s] for s in styles], dtype=float)
    picks = rng.choice(len(styles), len(labels), p=weights / weights.sum())
    renders, images = [], []
    for digit, pick in zip(labels, picks, strict=True):
        glyph = draw_glyph(int(digit), styles[pick], rng, cfg)
        height = int(rng.integers(cfg["size"][0], cfg["size"][1] + 1))
        rgb = colourise(normalise(glyph, height), rng, cfg["colour"], cfg["noise"])
        renders.append(rgb)
        images.append(to_digits_format(rgb))
    noisy = labels.copy()
    flip = rng.random(len(labels)) < cfg["label_noise"]
    noisy[flip] = (labels[flip] + rng.integers(1, 10, flip.sum())) % 10
    return {
        "x": np.stack(images)[:, None],
        "y": noisy.astype(np.int64),
        "true_y": labels.astype(np.int64),
        "style": np.asarray([STYLES.index(styles[p]) for p in picks], dtype=np.int64),
        "rgb": np.stack(renders),
    }
